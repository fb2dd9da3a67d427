"""Opening the DuckDB file: migrations on open, short-lived writer connections."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from pipeline.errors import SchemaError, StoreBusyError
from pipeline.schema import migrate

LOCK_WAIT_SECONDS = 60.0


def _connect_with_retry(path: str, read_only: bool,
                        wait_seconds: float) -> duckdb.DuckDBPyConnection:
    # DuckDB lets one process hold the file; writers keep their connections short,
    # so a brief wait is usually enough for another process to let go.
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                if "lock" in str(error).lower():
                    raise StoreBusyError(
                        f"{path}: another process is writing to this database; "
                        "try again when it finishes"
                    ) from error
                raise SchemaError(f"{path}: cannot open database: {error}") from error
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def connect(path: str | Path, read_only: bool = False,
            wait_seconds: float = LOCK_WAIT_SECONDS) -> duckdb.DuckDBPyConnection:
    """Open the database file, creating and migrating it when writable."""
    target = str(path)
    if target != ":memory:":
        if read_only and not Path(target).exists():
            raise SchemaError(f"{target}: no such database; run `observatory ingest` or "
                              "`observatory demo` first")
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    con = _connect_with_retry(target, read_only, wait_seconds)
    if not read_only:
        migrate(con)
    return con


@contextmanager
def session(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection held for one short step and always closed."""
    con = connect(path, read_only=read_only)
    try:
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing writes: a failure leaves the database as it was."""
    con.begin()
    try:
        yield con
    except BaseException:
        con.rollback()
        raise
    con.commit()
