"""The read snapshot: a whole copy of the database that readers open while a writer works.

DuckDB lets one process write a file, and a reader holding it read-only would make the
weekly job wait. So after each committed write step the writer has DuckDB copy the database
(`COPY FROM DATABASE`) into `<name>.read.duckdb.tmp` and renames that over
`<name>.read.duckdb`. The rename is atomic: a reader opens either the previous snapshot or
the new one, never a half-written file, and one that has it open keeps its version.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

SNAPSHOT_ALIAS = "observatory_read_snapshot"


def snapshot_path(db_path: str | Path) -> Path:
    """`observatory.duckdb` -> `observatory.read.duckdb`, beside it."""
    path = Path(db_path)
    return path.with_name(f"{path.stem}.read{path.suffix or '.duckdb'}")


def publish(con: duckdb.DuckDBPyConnection, db_path: str | Path) -> Path | None:
    """Copy the committed state to the snapshot file; call outside any transaction."""
    if str(db_path) == ":memory:":
        return None
    target = snapshot_path(db_path)
    temporary = target.with_name(f"{target.name}.tmp")
    for leftover in (temporary, Path(f"{temporary}.wal")):  # a killed publish leaves these
        leftover.unlink(missing_ok=True)
    source = con.execute("SELECT current_database()").fetchall()[0][0]
    quoted = str(temporary).replace("'", "''")
    con.execute(f"ATTACH '{quoted}' AS {SNAPSHOT_ALIAS}")
    try:
        con.execute(f'COPY FROM DATABASE "{source}" TO {SNAPSHOT_ALIAS}')
        con.execute(f"CHECKPOINT {SNAPSHOT_ALIAS}")
    finally:
        con.execute(f"DETACH {SNAPSHOT_ALIAS}")
    os.replace(temporary, target)
    return target


class Publisher:
    """Publishes at most every `interval_s` seconds within a run, and always when asked to."""

    def __init__(self, db_path: str | Path, interval_s: float) -> None:
        self.db_path = db_path
        self.interval_s = interval_s
        self._last = time.monotonic()

    def maybe(self, con: duckdb.DuckDBPyConnection) -> None:
        """After a step of a long run (a backfill would otherwise copy the file per period)."""
        if time.monotonic() - self._last >= self.interval_s:
            self.now(con)

    def now(self, con: duckdb.DuckDBPyConnection) -> None:
        publish(con, self.db_path)
        self._last = time.monotonic()
