"""Opening the DuckDB file: migrations on open, short-lived writer connections."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

import duckdb

from pipeline.errors import SchemaError, StoreBusyError
from pipeline.schema import migrate
from pipeline.snapshot import publish

LOCK_WAIT_SECONDS = 60.0
# What DuckDB says when the file itself is bad (not the query): checked by `damaged`.
_DAMAGE_MARKERS = (
    "corrupt",
    "checksum",
    "not a valid duckdb database",
    "could not read",
    "is a directory",
    "serializ",
    "invalid metadata",
    "block",
)


def damaged(path: str | Path, error: Exception) -> SchemaError | None:
    """A one-line SchemaError naming the file when `error` says the database file is bad."""
    text = str(error).strip()
    first = text.splitlines()[0] if text else type(error).__name__
    if Path(path).is_dir():
        return SchemaError(
            f"{path}: is a folder; --db expects a DuckDB file "
            "(e.g. observatory.duckdb), created on first use"
        )
    if not any(marker in text.lower() for marker in _DAMAGE_MARKERS):
        return None
    return SchemaError(
        f"{path}: the database file is damaged or not a DuckDB file ({first}); "
        "restore it from a backup, or point --db at another file"
    )


def _connect_with_retry(
    path: str, read_only: bool, wait_seconds: float
) -> duckdb.DuckDBPyConnection:
    # DuckDB lets one process hold the file; writers keep their connections short,
    # so a brief wait is usually enough for another process to let go.
    deadline = time.monotonic() + wait_seconds
    delay = 0.1
    while True:
        try:
            return duckdb.connect(path, read_only=read_only)
        except duckdb.Error as error:
            locked = isinstance(error, duckdb.IOException) and "lock" in str(error).lower()
            if not locked or time.monotonic() > deadline:
                if locked:
                    raise StoreBusyError(
                        f"{path}: another process is writing to this database; "
                        "try again when it finishes"
                    ) from error
                raise damaged(path, error) or SchemaError(
                    f"{path}: cannot open database: {error}"
                ) from error
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


def connect(
    path: str | Path, read_only: bool = False, wait_seconds: float | None = None
) -> duckdb.DuckDBPyConnection:
    """Open the database file, creating and migrating it when writable; wait up to
    `wait_seconds` (default `LOCK_WAIT_SECONDS`) for another process's lock."""
    wait_seconds = LOCK_WAIT_SECONDS if wait_seconds is None else wait_seconds
    target = str(path)
    if target != ":memory:":
        if read_only and not Path(target).exists():
            raise SchemaError(
                f"{target}: no such database; run `observatory ingest` or `observatory demo` first"
            )
        Path(target).parent.mkdir(parents=True, exist_ok=True)
    con = _connect_with_retry(target, read_only, wait_seconds)
    if not read_only:
        migrate(con)
    return con


class HeldConnection:
    """One writable connection that many consecutive steps share (see `held`)."""

    def __init__(self, path: str | Path, max_hold_seconds: float) -> None:
        self.path = path
        self.max_hold_seconds = max_hold_seconds
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened = 0.0

    def connection(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = connect(self.path)
            self._opened = time.monotonic()
        return self._con

    @contextmanager
    def reading(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """A read-only view of the held connection: a cursor in a READ ONLY transaction.

        DuckDB opens a file with one configuration per process, so no second, read-only
        connection can sit beside the writable one; a write through this view fails as it
        would on a read-only connection.
        """
        cursor = self.connection().cursor()
        cursor.execute("BEGIN TRANSACTION READ ONLY")
        try:
            yield cursor
        finally:
            with suppress(duckdb.Error):
                cursor.execute("ROLLBACK")
            cursor.close()

    def breathe(self) -> None:
        """Close if held longer than allowed, so other writers and readers get their turn."""
        if self._con is not None and time.monotonic() - self._opened > self.max_hold_seconds:
            self.close()

    def close(self) -> None:
        if self._con is not None:
            self._con.close()
            self._con = None


_held = threading.local()


def _key(path: str | Path) -> str:
    return str(path) if str(path) == ":memory:" else str(Path(path).resolve())


@contextmanager
def held(path: str | Path, max_hold_seconds: float = 10.0) -> Iterator[HeldConnection]:
    """Let every `session(path)` in this thread share one connection until the block ends.

    Opening the file costs ~20 ms and closing it a checkpoint: a backfill of 200 weekly periods
    spent 46 of its 70 s there. Callers call `breathe()` between units of work so the
    connection is never held much longer than `max_hold_seconds`.
    """
    registry: dict[str, HeldConnection] = _held.__dict__.setdefault("registry", {})
    key = _key(path)
    if key in registry:  # already held further up the stack
        yield registry[key]
        return
    holder = registry[key] = HeldConnection(path, max_hold_seconds)
    try:
        yield holder
    finally:
        del registry[key]
        holder.close()


@contextmanager
def session(path: str | Path, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection for one short step, closed after it unless the path is `held`."""
    holder = _held.__dict__.get("registry", {}).get(_key(path))
    if holder is not None and read_only:
        with holder.reading() as cursor:
            yield cursor
        return
    if holder is not None:
        yield holder.connection()
        return
    con = connect(path, read_only=read_only)
    try:
        yield con
    except duckdb.Error as error:
        # A block that fails its checksum shows only when read: name the file, not the block.
        problem = damaged(path, error)
        if problem is None:
            raise
        raise problem from error
    finally:
        con.close()


@contextmanager
def write_step(path: str | Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A session whose committed writes are published as the read snapshot when it ends.

    Nothing is published when the step fails: readers keep the last good state.
    """
    with session(path) as con:
        yield con
        publish(con, path)


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
