"""Read-only access for analysts: checked queries, readers that never block a writer, exports."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

import duckdb

from pipeline.db import connect
from pipeline.errors import InputError, ObservatoryError, SchemaError, StoreBusyError
from pipeline.snapshot import snapshot_path

ExportFormat = Literal["parquet", "csv"]

# PRAGMAs that only describe the database; every other one changes a setting or state.
READ_ONLY_PRAGMAS = frozenset(
    {
        "table_info",
        "show",
        "show_tables",
        "show_tables_expanded",
        "database_list",
        "database_size",
        "storage_info",
        "metadata_info",
        "version",
        "platform",
        "functions",
        "collations",
        "user_agent",
    }
)
EXPORT_TABLES: tuple[str, ...] = (
    "documents",
    "topics",
    "topic_periods",
    "doc_topics",
    "topic_lineage",
    "directions",
    "topic_directions",
    "processed_periods",
    "runs",
    "source_state",
    "crawl_log",
)
CLOSE_SLACK_S = 5.0
_EXPLAIN = re.compile(r"^\s*EXPLAIN\s+(ANALYZE\s+)?", re.IGNORECASE)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)", re.IGNORECASE)


@dataclass(frozen=True)
class Reading:
    """An open read-only connection; `snapshot_at` is set when newer writes are not in it."""

    con: duckdb.DuckDBPyConnection
    snapshot_at: datetime | None


@dataclass(frozen=True)
class QueryResult:
    """Column names and a cursor to stream the rows from."""

    columns: tuple[str, ...]
    cursor: duckdb.DuckDBPyConnection

    def batches(self, size: int = 1000) -> Iterator[list[tuple[Any, ...]]]:
        """Rows in batches, so a large answer is never held in memory at once."""
        while batch := self.cursor.fetchmany(size):
            yield batch


def _first_line(error: Exception) -> str:
    return str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__


def _check_statement(kind: str, text: str) -> None:
    if kind == "SELECT":
        return
    if kind == "EXPLAIN":
        check_read_only(_EXPLAIN.sub("", text, count=1))
        return
    pragma = _PRAGMA.match(text)
    if kind == "PRAGMA" and pragma and pragma[1].lower() in READ_ONLY_PRAGMAS:
        return
    raise InputError(
        f"sql: refused a {kind} statement: `observatory sql` only reads "
        "(SELECT, WITH, FROM, DESCRIBE, SHOW, SUMMARIZE, EXPLAIN); "
        "the pipeline commands are the only writers"
    )


def check_read_only(sql: str) -> str:
    """The one statement in `sql`, refused with a clear message unless it only reads."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise InputError(f"sql: {_first_line(error)}") from None
    if len(statements) != 1:
        raise InputError(f"sql: give exactly one statement, got {len(statements)}")
    statement = statements[0]
    _check_statement(statement.type.name, statement.query)
    return str(statement.query)


def _changed_since(path: Path, published: float) -> bool:
    """Whether the live database (or its write-ahead log) changed after the snapshot."""
    stamps = [
        candidate.stat().st_mtime for candidate in (path, Path(f"{path}.wal")) if candidate.exists()
    ]
    # The writer closes its connection (a checkpoint) just after publishing: allow for it.
    return any(stamp > published + CLOSE_SLACK_S for stamp in stamps)


def _open_snapshot(path: Path) -> tuple[duckdb.DuckDBPyConnection, datetime] | None:
    snapshot = snapshot_path(path)
    try:
        published = snapshot.stat().st_mtime
        con = duckdb.connect(str(snapshot), read_only=True)
    except FileNotFoundError:
        return None
    except duckdb.Error as error:
        raise SchemaError(
            f"{snapshot}: cannot open the read snapshot: {_first_line(error)}; "
            "it is written again after the next write step"
        ) from None
    return con, datetime.fromtimestamp(published)


def _lock_down(con: duckdb.DuckDBPyConnection) -> None:
    # Defence in depth behind check_read_only: no file reads or writes, no settings changes.
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


@contextmanager
def open_reader(path: Path, wait_seconds: float, files: bool = False) -> Iterator[Reading]:
    """Open the read snapshot the writer publishes (pipeline/snapshot.py), never the live file.

    A database written before snapshots existed is read directly, waiting up to
    `wait_seconds` for a writer. `files` leaves file access on (for exports); otherwise the
    connection can touch no file but the database. `Reading.snapshot_at` is set when the
    live database changed after the snapshot was published (a write is under way).
    """
    with ExitStack() as stack:
        opened = _open_snapshot(Path(path))
        if opened is None:
            try:
                con, snapshot_at = connect(path, read_only=True, wait_seconds=wait_seconds), None
            except StoreBusyError:
                raise StoreBusyError(
                    f"{path}: another process is writing and no read "
                    "snapshot exists yet (the writer publishes one after "
                    "its next step); try again shortly"
                ) from None
        else:
            con, published = opened
            snapshot_at = published if _changed_since(Path(path), published.timestamp()) else None
        stack.callback(con.close)
        if not files:
            _lock_down(con)
        yield Reading(con, snapshot_at)


def run_query(con: duckdb.DuckDBPyConnection, sql: str) -> QueryResult:
    """Run one checked read-only statement; DuckDB's complaint becomes one clear line."""
    statement = check_read_only(sql)
    try:
        cursor = con.execute(statement)
    except duckdb.Error as error:
        raise InputError(f"sql: {_first_line(error)}") from None
    columns = tuple(str(column[0]) for column in cursor.description or ())
    return QueryResult(columns, cursor)


def check_export_tables(con: duckdb.DuckDBPyConnection, tables: Sequence[str]) -> list[str]:
    """The tables to export: the main ones by default, or the named ones if they exist."""
    if not tables:
        return list(EXPORT_TABLES)
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = "
        "current_database() AND NOT temporary"
    ).fetchall()
    existing = {str(row[0]) for row in rows}
    unknown = [name for name in tables if name not in existing]
    if unknown:
        raise InputError(
            f"--table: no table {', '.join(map(repr, unknown))}; "
            f"tables: {', '.join(sorted(existing))}"
        )
    return list(dict.fromkeys(tables))


def export_tables(
    con: duckdb.DuckDBPyConnection,
    out_dir: Path,
    export_format: ExportFormat,
    tables: Sequence[str],
) -> list[Path]:
    """Copy each table to `out_dir/<table>.<format>` with DuckDB's COPY; the files written."""
    options = {"parquet": "FORMAT parquet, COMPRESSION zstd", "csv": "FORMAT csv, HEADER true"}
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table in tables:
        target = out_dir / f"{table}.{export_format}"
        quoted_path = str(target).replace("'", "''")
        quoted_table = table.replace('"', '""')
        try:
            con.execute(f"COPY \"{quoted_table}\" TO '{quoted_path}' ({options[export_format]})")
        except duckdb.Error as error:
            raise ObservatoryError(f"export {table}: {_first_line(error)}") from None
        written.append(target)
    return written
