"""Bringing a database to the current schema: the numbered migrations not yet applied."""

from __future__ import annotations

import duckdb

from pipeline.errors import SchemaError
from pipeline.migrations import MIGRATIONS


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """Number of migrations already applied to this database."""
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
        "name VARCHAR NOT NULL, applied_at TIMESTAMP DEFAULT current_timestamp)"
    )
    rows = con.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchall()
    return int(rows[0][0]) if rows else 0


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration not yet applied, each in its own transaction."""
    current = schema_version(con)
    if current > len(MIGRATIONS):
        raise SchemaError(
            f"database schema version {current} is newer than this code knows "
            f"({len(MIGRATIONS)}): upgrade the observatory"
        )
    for version, step in enumerate(MIGRATIONS[current:], start=current + 1):
        con.begin()
        step(con)
        con.execute(
            "INSERT INTO schema_migrations (version, name) VALUES (?, ?)", [version, step.__name__]
        )
        con.commit()
    return len(MIGRATIONS) - current
