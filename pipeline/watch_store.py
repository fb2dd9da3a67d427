"""The analysts' watchlist: phrases tracked like topics, and their rows per period."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import duckdb

from pipeline.errors import InputError
from pipeline.periods import Period
from pipeline.recent_shares import load_recent_shares


@dataclass(frozen=True)
class Watch:
    """A phrase an analyst asked to follow."""

    watch_id: str
    phrase: str
    threshold: float


@dataclass
class WatchState:
    """What scoring a watch needs from earlier periods."""

    watch: Watch
    popularity: float = 0.0
    last_period: Period | None = None
    shares: dict[Period, float] = field(default_factory=dict)
    counts: dict[Period, int] = field(default_factory=dict)


@dataclass(frozen=True)
class WatchRow:
    """A watch in one period."""

    watch_id: str
    n_docs: int
    share: float
    growth: float
    popularity: float
    high_potential: float
    signal_class: str
    reasons: tuple[str, ...]
    doc_ids: tuple[str, ...]


def watch_id_of(phrase: str) -> str:
    """Stable id from the normalised phrase, so adding it twice is one watch."""
    normalised = " ".join(phrase.casefold().split())
    return "w-" + hashlib.sha1(normalised.encode("utf-8")).hexdigest()[:10]


def add_watch(con: duckdb.DuckDBPyConnection, phrase: str, threshold: float) -> Watch:
    if not phrase.strip():
        raise InputError("watch: expected a non-empty phrase")
    watch = Watch(watch_id_of(phrase), " ".join(phrase.split()), threshold)
    con.execute(
        "INSERT INTO watchlist (watch_id, phrase, threshold) VALUES (?, ?, ?) "
        "ON CONFLICT (watch_id) DO UPDATE SET threshold = excluded.threshold",
        [watch.watch_id, watch.phrase, watch.threshold],
    )
    return watch


def remove_watch(con: duckdb.DuckDBPyConnection, key: str) -> bool:
    """Remove by id or phrase; True when something was removed."""
    ids = [key, watch_id_of(key)]
    found = con.execute(
        "SELECT count(*) FROM watchlist WHERE watch_id IN (SELECT unnest(?))", [ids]
    ).fetchall()[0][0]
    con.execute("DELETE FROM watch_periods WHERE watch_id IN (SELECT unnest(?))", [ids])
    con.execute("DELETE FROM watchlist WHERE watch_id IN (SELECT unnest(?))", [ids])
    return bool(found)


def list_watches(con: duckdb.DuckDBPyConnection) -> list[Watch]:
    rows = con.execute(
        "SELECT watch_id, phrase, threshold FROM watchlist ORDER BY added_at, watch_id"
    ).fetchall()
    return [Watch(*row) for row in rows]


def load_watch_states(
    con: duckdb.DuckDBPyConnection, granularity: str, recent_periods: Sequence[Period]
) -> list[WatchState]:
    states = {w.watch_id: WatchState(w) for w in list_watches(con)}
    for watch_id, popularity, last in con.execute(
        "SELECT watch_id, arg_max(popularity, period), max(period) FROM watch_periods "
        "WHERE granularity = ? GROUP BY watch_id",
        [granularity],
    ).fetchall():
        if watch_id in states:
            states[watch_id].popularity = float(popularity or 0.0)
            states[watch_id].last_period = Period.parse(last)  # a stored label, parsed once
    load_recent_shares(con, "watch_periods", granularity, recent_periods, states)
    return list(states.values())


def write_watch_rows(
    con: duckdb.DuckDBPyConnection, granularity: str, period: str, rows: Sequence[WatchRow]
) -> None:
    """Replace the period's watch rows (part of the period's transaction)."""
    con.execute(
        "DELETE FROM watch_periods WHERE granularity = ? AND period = ?", [granularity, period]
    )
    if rows:
        con.executemany(
            "INSERT INTO watch_periods (watch_id, granularity, period, n_docs, share, growth, "
            "popularity, high_potential, signal_class, reasons, doc_ids) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    r.watch_id,
                    granularity,
                    period,
                    r.n_docs,
                    r.share,
                    r.growth,
                    r.popularity,
                    r.high_potential,
                    r.signal_class,
                    list(r.reasons),
                    list(r.doc_ids),
                )
                for r in rows
            ],
        )
