"""Vectors of the direction classifier's labelled texts, cached outside the repository.

Embedding is the slow part of training and evaluation (about 20 ms a text on the shared
machine), so vectors are kept in `.cache/directions/<encoder>.npz` (ignored by git), keyed by
a hash of the text, and taken from the corpora's embedding caches when those exist.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from models.embed import Encoder

VECTOR_CACHE = Path(__file__).resolve().parents[1] / ".cache" / "directions"


def _from_corpus_caches(wanted: dict[str, str], model: str) -> dict[str, NDArray[np.float32]]:
    """Vectors already in the corpora's embedding caches (`../cache/<corpus>.duckdb`, opened
    read-only; files still being written are named tmp-* and skipped), by our text key."""
    import duckdb

    from pipeline.records import content_hash

    root = Path(__file__).resolve().parents[1]
    folders = [p for p in (root.parent / "cache", root.parent.parent / "cache") if p.is_dir()]
    by_hash = {content_hash(text, ""): key for key, text in wanted.items()}
    found: dict[str, NDArray[np.float32]] = {}
    for path in sorted(
        p
        for folder in folders[:1]
        for p in folder.glob("*.duckdb")
        if not p.name.startswith("tmp-")
    ):
        try:
            con = duckdb.connect(str(path), read_only=True)
        except duckdb.Error:
            continue
        try:
            rows = con.execute(
                "SELECT content_hash, vector FROM embeddings WHERE model = ? AND "
                "content_hash IN (SELECT unnest(?))",
                [model, [h for h in by_hash if by_hash[h] not in found]],
            ).fetchnumpy()
        except duckdb.Error:
            rows = {"content_hash": [], "vector": []}
        finally:
            con.close()
        for digest, vector in zip(rows["content_hash"], rows["vector"], strict=True):
            found[by_hash[str(digest)]] = np.asarray(vector, dtype=np.float32)
    return found


def _save(path: Path, cache: dict[str, NDArray[np.float32]]) -> None:
    partial = path.with_suffix(".tmp.npz")
    np.savez(partial, keys=np.asarray(list(cache)), vectors=np.stack(list(cache.values())))
    partial.replace(path)


def cached_vectors(texts: Sequence[str], encoder: Encoder) -> NDArray[np.float32]:
    """Vectors of `texts`, from a local cache keyed by text hash (embedding is the slow part),
    else from the corpora's embedding caches, else encoded now."""
    VECTOR_CACHE.mkdir(parents=True, exist_ok=True)
    path = VECTOR_CACHE / f"{encoder.name}.npz"
    cache: dict[str, NDArray[np.float32]] = {}
    if path.exists():
        with np.load(path) as stored:
            cache = dict(zip(stored["keys"].tolist(), stored["vectors"], strict=True))
    keys = [hashlib.sha1(text.encode("utf-8")).hexdigest() for text in texts]
    missing = sorted({k: t for k, t in zip(keys, texts, strict=True) if k not in cache}.items())
    before = len(cache)
    if len(missing) > 50:
        cache.update(_from_corpus_caches(dict(missing), encoder.name))
        missing = [(k, t) for k, t in missing if k not in cache]
    for start in range(0, len(missing), 256):
        batch = missing[start : start + 256]
        for (key, _), vector in zip(batch, encoder.encode([t for _, t in batch]), strict=True):
            cache[key] = vector
        if start % 2048 == 1792:  # keep what is done if a long run is stopped
            _save(path, cache)
    if len(cache) > before:
        _save(path, cache)
    if not keys:
        return np.zeros((0, encoder.dim), np.float32)
    return np.stack([cache[k] for k in keys]).astype(np.float32)
