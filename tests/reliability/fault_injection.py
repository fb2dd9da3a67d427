"""Kill -9 at seeded random moments, and compare stores: the fault-injection helper.

A `Killer` forks each victim from a server process that imported the heavy modules once
(multiprocessing's forkserver), so a kill costs milliseconds of start-up, not seconds. The
victim signals when its own set-up is done; the kill lands a seeded random delay after that,
on its whole process group (a crawl's helpers die with it).

    killer = Killer(["models.runner"])
    span = killer.time(run_stage, (db,))              # an uninterrupted run, in seconds
    for delay in kill_delays(seed=7, n=20, span=span):
        killer.run(run_stage, (copy_of_db,), kill_after=delay)
        run_stage(copy_of_db)                         # the rerun
        assert store_fingerprint(copy_of_db) == reference

Targets must be module-level functions (they are pickled to the child).
"""

from __future__ import annotations

import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import duckdb

# Columns that record when or by which run a row was written, not what it says.
VOLATILE_COLUMNS = frozenset(
    {
        "run_id",
        "processed_at",
        "ingested_at",
        "started_at",
        "revised_at",
        "updated_at",
        "fetched_at",
        "added_at",
    }
)
# Tables that log runs rather than hold results.
LOG_TABLES = frozenset({"runs", "crawl_log", "period_revisions", "schema_migrations"})
READY_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Kill:
    """One attempt: the delay after set-up, and whether the victim was still running."""

    delay_s: float
    killed: bool
    seconds: float


def kill_delays(seed: int, n: int, span: float) -> list[float]:
    """`n` seeded moments spread over [0, span): one per equal slice, so all phases are hit."""
    rng = random.Random(seed)
    return [span * (i + rng.random()) / n for i in range(n)]


def kill_at_least(n: int, seed: int, span: float, attempt: Callable[[float], bool]) -> int:
    """Call `attempt(delay)` at `n` seeded moments of [0, 0.9 span), then at earlier moments
    until `n` kills have landed (a late moment may find the victim done); kills landed."""
    landed = sum(attempt(delay) for delay in kill_delays(seed, n, span * 0.9))
    rng = random.Random(seed + 1)
    for _ in range(n):
        if landed >= n:
            break
        landed += attempt(rng.uniform(0, span * 0.5))
    return landed


def _victim(target: Callable[..., Any], args: tuple[Any, ...], ready: Connection) -> None:
    os.setpgrp()  # its own group: the kill takes any helper processes with it
    ready.send(time.monotonic())
    ready.close()
    target(*args)


class Killer:
    """Runs targets in forked children and kills them with SIGKILL after a given delay."""

    def __init__(self, preload: Sequence[str] = ()) -> None:
        self.context = multiprocessing.get_context("forkserver")
        self.context.set_forkserver_preload(list(preload))

    def run(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kill_after: float | None = None,
    ) -> Kill:
        """Start the victim; kill it `kill_after` seconds after its set-up (None: let it end)."""
        parent, child = self.context.Pipe(duplex=False)
        process = self.context.Process(target=_victim, args=(target, args, child))
        process.start()
        child.close()
        if not parent.poll(READY_TIMEOUT_S):
            process.kill()
            raise RuntimeError("the victim never started")
        parent.recv()
        started = time.monotonic()
        process.join(kill_after)
        killed = process.is_alive()
        if killed:
            os.killpg(process.pid, signal.SIGKILL)
            process.join()
        elif process.exitcode != 0:
            raise RuntimeError(f"the victim failed on its own (exit {process.exitcode})")
        return Kill(kill_after or 0.0, killed, time.monotonic() - started)

    def time(self, target: Callable[..., Any], args: tuple[Any, ...] = ()) -> float:
        """Seconds an uninterrupted victim runs after its set-up."""
        return self.run(target, args).seconds


def _tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE database_name = "
        "current_database() ORDER BY table_name"
    ).fetchall()
    return [str(row[0]) for row in rows if row[0] not in LOG_TABLES]


def store_fingerprint(db_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every result table's rows, sorted, without the columns that say when or by which run."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        result = {}
        for table in _tables(con):
            columns = [
                str(row[0])
                for row in con.execute(
                    "SELECT column_name FROM duckdb_columns() WHERE database_name = "
                    "current_database() AND table_name = ? ORDER BY column_index",
                    [table],
                ).fetchall()
                if row[0] not in VOLATILE_COLUMNS
            ]
            listed = ", ".join(f'"{name}"' for name in columns)
            result[table] = con.execute(f'SELECT {listed} FROM "{table}" ORDER BY ALL').fetchall()
        return result
    finally:
        con.close()


def duplicated_documents(db_path: Path) -> int:
    """Documents stored twice: the same id, or the same canonical URL under two ids."""
    con = duckdb.connect(str(db_path), read_only=True)
    try:
        rows = con.execute(
            "SELECT (SELECT count(*) - count(DISTINCT doc_id) FROM documents) + "
            "(SELECT count(canonical_url) - count(DISTINCT canonical_url) FROM documents)"
        ).fetchall()
        return int(rows[0][0])
    finally:
        con.close()


def differences(
    got: dict[str, list[tuple[Any, ...]]], want: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    """Tables whose rows differ, with their row counts: a readable assertion message."""
    return [
        f"{table}: {len(got.get(table, []))} rows, expected {len(want.get(table, []))}"
        for table in sorted(set(got) | set(want))
        if got.get(table) != want.get(table)
    ]
