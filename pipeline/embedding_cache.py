"""A file of vectors kept across replays: copied into a fresh store, new ones saved back."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from pipeline.db import session


@contextmanager
def cache_attached(con: Any, cache: Path, read_only: bool = False) -> Iterator[None]:
    """The cache file attached as `cache`, with the same `embeddings` table as the store.

    Read-only when only reading, so several backtests can share one cache file at once
    (DuckDB lets many processes read a file, or one write it).
    """
    if not read_only or not cache.exists():
        with session(cache):
            pass
    con.execute(f"ATTACH '{cache}' AS cache{' (READ_ONLY)' if read_only else ''}")
    try:
        yield
    finally:
        con.execute("DETACH cache")


def copy_cached_embeddings(db_path: Path, cache: Path, hashes: Sequence[str], model: str) -> int:
    """Bring vectors already in the cache into the store; returns how many came in."""
    with session(db_path) as con, cache_attached(con, cache, read_only=True):
        before = con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0]
        con.execute(
            "INSERT INTO embeddings SELECT * FROM cache.embeddings WHERE model = ? "
            "AND content_hash IN (SELECT unnest(?)) ON CONFLICT DO NOTHING",
            [model, list(hashes)],
        )
        return int(con.execute("SELECT count(*) FROM embeddings").fetchall()[0][0] - before)


def save_embeddings(db_path: Path, cache: Path, model: str) -> int:
    """Add the store's vectors of this model that the cache lacks; returns how many."""
    with session(db_path) as con, cache_attached(con, cache, read_only=True):
        missing = con.execute(
            "SELECT count(*) FROM embeddings e WHERE model = ? AND NOT EXISTS (SELECT 1 FROM "
            "cache.embeddings c WHERE c.content_hash = e.content_hash AND c.model = e.model)",
            [model],
        ).fetchall()[0][0]
    if not missing:
        return 0  # nothing new: no write lock on a cache other runs may be reading
    with session(db_path) as con, cache_attached(con, cache):
        con.execute(
            "INSERT INTO cache.embeddings SELECT * FROM embeddings WHERE model = ? "
            "ON CONFLICT DO NOTHING",
            [model],
        )
    return int(missing)
