"""Reads and writes of topics, their periods, lineage and directions."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
from numpy.typing import NDArray

from pipeline.periods import Granularity, Period
from pipeline.recent_shares import load_recent_shares
from pipeline.signal_store import SignalWrite, delete_signals, restore_signals, write_signals
from pipeline.watch_store import WatchRow, write_watch_rows

Vector = NDArray[np.float32]


@dataclass
class TopicState:
    """What tracking and scoring need to know of one earlier topic."""

    topic_id: str
    born_period: Period
    first_centroid: Vector
    centroid: Vector
    last_period: Period
    popularity: float = 0.0
    shares: dict[Period, float] = field(default_factory=dict)
    counts: dict[Period, int] = field(default_factory=dict)
    periods_present: int = 0
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class TopicPeriodRow:
    """One topic's row for one period, with everything the tables keep."""

    topic_id: str
    born_period: str
    is_new: bool
    label: str
    keywords: tuple[str, ...]
    first_centroid: Vector
    moving_centroid: Vector
    period_centroid: Vector
    n_docs: int
    share: float
    growth: float
    popularity: float
    high_potential: float
    signal_class: str
    metrics: dict[str, Any]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class LineageRow:
    topic_id: str
    cluster: int
    parent_topic_id: str | None
    similarity: float
    event: str


@dataclass(frozen=True)
class DirectionRow:
    topic_id: str
    direction: str
    track: str | None
    similarity: float
    weight: float
    is_primary: bool


@dataclass(frozen=True)
class PeriodWrite:
    """Everything one processed period writes, in one transaction."""

    period: Period
    run_id: str
    model: str
    taxonomy_version: str
    n_docs: int
    n_outliers: int
    topics: Sequence[TopicPeriodRow]
    doc_topics: Sequence[tuple[str, str | None, float]]
    lineage: Sequence[LineageRow]
    directions: Sequence[DirectionRow]
    watch_rows: Sequence[WatchRow] = ()
    signals: SignalWrite = field(default_factory=SignalWrite)

    @property
    def granularity(self) -> Granularity:
        return self.period.granularity


def processed_periods(con: duckdb.DuckDBPyConnection, granularity: Granularity) -> list[Period]:
    """Processed periods, oldest first (built from their stored first day, not the label)."""
    rows = con.execute(
        "SELECT period_start FROM processed_periods WHERE granularity = ? ORDER BY period_start",
        [granularity],
    ).fetchall()
    return [Period(granularity, row[0]) for row in rows]


def load_topic_states(
    con: duckdb.DuckDBPyConnection, granularity: str, recent_periods: Sequence[Period]
) -> list[TopicState]:
    """Every earlier topic with its centroids, last popularity and recent shares."""
    columns = con.execute(
        # A topic merged into another stops competing for clusters: its story goes on
        # under the topic that absorbed it, and lineage keeps the link. So does a topic
        # ended for drift (a `born` row names it as the parent of its successor).
        "SELECT topic_id, born_period, first_centroid, centroid, last_period, keywords FROM topics "
        "WHERE granularity = ? AND topic_id NOT IN (SELECT topic_id FROM topic_lineage "
        "WHERE granularity = ? AND event = 'merged') AND topic_id NOT IN (SELECT "
        "parent_topic_id FROM topic_lineage WHERE granularity = ? AND event = 'born' AND "
        "parent_topic_id IS NOT NULL) ORDER BY topic_id",
        [granularity, granularity, granularity],
    ).fetchnumpy()  # float32 arrays, not Python lists
    states = {
        # The one place a topic's stored labels are parsed.
        str(topic_id): TopicState(
            str(topic_id),
            Period.parse(str(born)),
            np.asarray(first, dtype=np.float32),
            np.asarray(centroid, dtype=np.float32),
            Period.parse(str(last)),
            keywords=tuple(str(k) for k in keywords),
        )
        for topic_id, born, first, centroid, last, keywords in zip(
            columns["topic_id"],
            columns["born_period"],
            columns["first_centroid"],
            columns["centroid"],
            columns["last_period"],
            columns["keywords"],
            strict=True,
        )
    }
    for topic_id, popularity in con.execute(
        "SELECT topic_id, arg_max(popularity, period) FROM topic_periods "
        "WHERE granularity = ? GROUP BY topic_id",
        [granularity],
    ).fetchall():
        if topic_id in states:
            states[topic_id].popularity = float(popularity or 0.0)
    for topic_id, present in con.execute(
        "SELECT topic_id, count(*) FROM topic_periods WHERE granularity = ? GROUP BY topic_id",
        [granularity],
    ).fetchall():
        if topic_id in states:
            states[topic_id].periods_present = int(present)
    load_recent_shares(con, "topic_periods", granularity, recent_periods, states)
    return list(states.values())


def period_totals(
    con: duckdb.DuckDBPyConnection, granularity: str, periods: Sequence[Period]
) -> dict[Period, int]:
    """Documents in each processed period."""
    wanted = {p.label: p for p in periods}
    rows = con.execute(
        "SELECT period, n_docs FROM processed_periods WHERE granularity = ? "
        "AND period IN (SELECT unnest(?))",
        [granularity, list(wanted)],
    ).fetchall()
    return {wanted[label]: int(n_docs) for label, n_docs in rows}


def write_period(con: duckdb.DuckDBPyConnection, write: PeriodWrite) -> None:
    """Replace whatever this period had, so a rerun ends with exactly one copy."""
    label = write.period.label
    # Rows of a period are only ever committed with its processed_periods row, so a period
    # without one has nothing to delete (six statements saved per period in a backfill).
    if con.execute(
        "SELECT count(*) FROM processed_periods WHERE granularity = ? AND period = ?",
        [write.granularity, label],
    ).fetchall()[0][0]:
        _delete_period(con, write.granularity, label)
    rows = write.topics
    if rows:
        insert_columns(
            con,
            "topics",
            {
                "topic_id": ("VARCHAR", [r.topic_id for r in rows]),
                "granularity": ("VARCHAR", [write.granularity] * len(rows)),
                "born_period": ("VARCHAR", [r.born_period for r in rows]),
                "label": ("VARCHAR", [r.label for r in rows]),
                "keywords": ("VARCHAR[]", [list(r.keywords) for r in rows]),
                "first_centroid": ("FLOAT[]", [r.first_centroid.tolist() for r in rows]),
                "centroid": ("FLOAT[]", [r.moving_centroid.tolist() for r in rows]),
                "last_period": ("VARCHAR", [label] * len(rows)),
            },
            "ON CONFLICT (topic_id) DO UPDATE SET label = excluded.label, keywords = "
            "excluded.keywords, centroid = excluded.centroid, last_period = excluded.last_period",
        )
        insert_columns(
            con,
            "topic_periods",
            {
                "topic_id": ("VARCHAR", [r.topic_id for r in rows]),
                "granularity": ("VARCHAR", [write.granularity] * len(rows)),
                "period": ("VARCHAR", [label] * len(rows)),
                "n_docs": ("INTEGER", [r.n_docs for r in rows]),
                "share": ("DOUBLE", [r.share for r in rows]),
                "label": ("VARCHAR", [r.label for r in rows]),
                "keywords": ("VARCHAR[]", [list(r.keywords) for r in rows]),
                "centroid": ("FLOAT[]", [r.period_centroid.tolist() for r in rows]),
                # The topic's moving centroid after this period: what a rewind restores.
                "state_centroid": ("FLOAT[]", [r.moving_centroid.tolist() for r in rows]),
                "growth": ("DOUBLE", [r.growth for r in rows]),
                "popularity": ("DOUBLE", [r.popularity for r in rows]),
                "high_potential": ("DOUBLE", [r.high_potential for r in rows]),
                "signal_class": ("VARCHAR", [r.signal_class for r in rows]),
                "metrics": ("JSON", [json.dumps(r.metrics, sort_keys=True) for r in rows]),
                "reasons": ("VARCHAR[]", [list(r.reasons) for r in rows]),
            },
        )
    if write.doc_topics:
        doc_ids, topic_ids, similarities = zip(*write.doc_topics, strict=True)
        con.execute(
            "INSERT INTO doc_topics (doc_id, granularity, period, topic_id, similarity) "
            "SELECT u.d, ?, ?, u.t, u.p FROM "
            "(SELECT unnest(?) AS d, unnest(?::VARCHAR[]) AS t, unnest(?::DOUBLE[]) AS p) u "
            "ON CONFLICT DO UPDATE SET period = excluded.period, topic_id = excluded.topic_id, "
            "similarity = excluded.similarity",
            [write.granularity, label, list(doc_ids), list(topic_ids), list(similarities)],
        )
    if write.lineage:
        lineage = write.lineage
        insert_columns(
            con,
            "topic_lineage",
            {
                "granularity": ("VARCHAR", [write.granularity] * len(lineage)),
                "period": ("VARCHAR", [label] * len(lineage)),
                "topic_id": ("VARCHAR", [r.topic_id for r in lineage]),
                "cluster": ("INTEGER", [r.cluster for r in lineage]),
                "parent_topic_id": ("VARCHAR", [r.parent_topic_id for r in lineage]),
                "similarity": ("DOUBLE", [r.similarity for r in lineage]),
                "event": ("VARCHAR", [r.event for r in lineage]),
            },
        )
    if write.directions:
        directions = write.directions
        insert_columns(
            con,
            "topic_directions",
            {
                "topic_id": ("VARCHAR", [r.topic_id for r in directions]),
                "period": ("VARCHAR", [label] * len(directions)),
                "taxonomy_version": ("VARCHAR", [write.taxonomy_version] * len(directions)),
                "direction": ("VARCHAR", [r.direction for r in directions]),
                "track": ("VARCHAR", [r.track for r in directions]),
                "similarity": ("DOUBLE", [r.similarity for r in directions]),
                "weight": ("DOUBLE", [r.weight for r in directions]),
                "is_primary": ("BOOLEAN", [r.is_primary for r in directions]),
            },
        )
    write_watch_rows(con, write.granularity, label, write.watch_rows)
    write_signals(con, write.granularity, label, write.signals)
    con.execute(
        "INSERT INTO processed_periods (granularity, period, period_start, run_id, model, n_docs, "
        "n_topics, n_outliers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            write.granularity,
            label,
            write.period.start,
            write.run_id,
            write.model,
            write.n_docs,
            len(write.topics),
            write.n_outliers,
        ],
    )


def store_taxonomy(
    con: duckdb.DuckDBPyConnection, rows: Sequence[tuple[str, str, str, str, str, str, str, str]]
) -> int:
    """Fill `directions` with a taxonomy's rows (version, direction, track, kind, names EN/ZH,
    descriptions EN/ZH) unless they are there already; returns how many were added."""
    before = con.execute("SELECT count(*) FROM directions").fetchall()[0][0]
    con.executemany(
        "INSERT INTO directions VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        [list(row) for row in rows],
    )
    return int(con.execute("SELECT count(*) FROM directions").fetchall()[0][0] - before)


def insert_columns(
    con: duckdb.DuckDBPyConnection,
    table: str,
    columns: dict[str, tuple[str, list[Any]]],
    conflict: str = "",
) -> None:
    """Insert rows given column by column, in one statement.

    DuckDB runs `executemany` as one statement per row; a period's topics, lineage and
    directions took 10 of the 24 s of a 219-week replay that way.
    """
    names = ", ".join(columns)
    unnests = ", ".join(f"unnest(?::{kind}[])" for kind, _ in columns.values())
    con.execute(
        f"INSERT INTO {table} ({names}) SELECT {unnests} {conflict}",
        [values for _, values in columns.values()],
    )


def _delete_period(con: duckdb.DuckDBPyConnection, granularity: str, period: str) -> None:
    con.execute(
        "DELETE FROM topic_directions WHERE period = ? AND topic_id IN "
        "(SELECT topic_id FROM topics WHERE granularity = ?)",
        [period, granularity],
    )
    for table in (
        "topic_periods",
        "topic_lineage",
        "doc_topics",
        "processed_periods",
        "watch_periods",
    ):
        con.execute(
            f"DELETE FROM {table} WHERE granularity = ? AND period = ?", [granularity, period]
        )
    con.execute(
        "DELETE FROM topics WHERE granularity = ? AND born_period = ?", [granularity, period]
    )
    delete_signals(con, granularity, period)


def processed_counts(con: duckdb.DuckDBPyConnection, granularity: Granularity) -> dict[Period, int]:
    """Each processed period's document count when it was processed, oldest first."""
    rows = con.execute(
        "SELECT period_start, n_docs FROM processed_periods WHERE granularity = ? "
        "ORDER BY period_start",
        [granularity],
    ).fetchall()
    return {Period(granularity, start): int(n_docs) for start, n_docs in rows}


def rewind(con: duckdb.DuckDBPyConnection, granularity: str, periods: Sequence[Period]) -> None:
    """Forget these processed periods (the latest ones) and put topics back as they were before.

    A topic's moving centroid, label and last period are restored from its last remaining
    period row, so processing the periods again continues exactly where the history stood.
    Call inside a transaction; `rewindable` says whether the rows needed are stored.
    """
    # Newest first: a period's direction rows are found through topics born earlier.
    for period in reversed(periods):
        _delete_period(con, granularity, period.label)
    con.execute(
        "UPDATE topics SET centroid = last.state_centroid, label = last.label, "
        "keywords = last.keywords, last_period = last.period FROM ("
        "  SELECT topic_id, arg_max(state_centroid, period_start) AS state_centroid, "
        "  arg_max(label, period_start) AS label, arg_max(keywords, period_start) AS keywords, "
        "  arg_max(period, period_start) AS period FROM topic_periods "
        "  JOIN processed_periods USING (granularity, period) WHERE granularity = ? "
        "  GROUP BY topic_id) last WHERE topics.topic_id = last.topic_id",
        [granularity],
    )
    restore_signals(con, granularity)


def rewindable(con: duckdb.DuckDBPyConnection, granularity: str, keep: Sequence[Period]) -> bool:
    """Whether every period row kept carries the topic state (rows from before it may not)."""
    if not keep:
        return True
    rows = con.execute(
        "SELECT count(*) FROM topic_periods WHERE granularity = ? AND "
        "state_centroid IS NULL AND period IN (SELECT unnest(?))",
        [granularity, [p.label for p in keep]],
    ).fetchall()
    return int(rows[0][0]) == 0


def history_encoder(con: duckdb.DuckDBPyConnection, granularity: str) -> tuple[str, int] | None:
    """The encoder name and dimension a granularity's topics were built with, if any."""
    rows = con.execute(
        "SELECT encoder, dim FROM topic_histories WHERE granularity = ?", [granularity]
    ).fetchall()
    if rows:
        return str(rows[0][0]), int(rows[0][1])
    # Histories processed before the encoder was recorded: the model of their periods.
    rows = con.execute(
        "SELECT p.model, len(t.first_centroid) FROM processed_periods p LEFT JOIN topics t "
        "ON t.granularity = p.granularity WHERE p.granularity = ? "
        "ORDER BY p.period_start DESC LIMIT 1",
        [granularity],
    ).fetchall()
    if not rows:
        return None
    return str(rows[0][0]), int(rows[0][1] or 0)


def record_history_encoder(
    con: duckdb.DuckDBPyConnection, granularity: str, encoder: str, dim: int
) -> None:
    """Note the encoder of a history that has none yet (`drop_history` clears it)."""
    con.execute(
        "INSERT INTO topic_histories (granularity, encoder, dim) VALUES (?, ?, ?) "
        "ON CONFLICT (granularity) DO NOTHING",
        [granularity, encoder, dim],
    )


def drop_history(con: duckdb.DuckDBPyConnection, granularity: Granularity) -> int:
    """Delete every topic row of a granularity (documents and embeddings stay); periods dropped."""
    periods = list(processed_counts(con, granularity))
    for period in reversed(periods):
        _delete_period(con, granularity, period.label)
    con.execute(
        "DELETE FROM topic_directions WHERE topic_id IN "
        "(SELECT topic_id FROM topics WHERE granularity = ?)",
        [granularity],
    )
    con.execute("DELETE FROM topics WHERE granularity = ?", [granularity])
    con.execute("DELETE FROM topic_histories WHERE granularity = ?", [granularity])
    return len(periods)


def record_revisions(
    con: duckdb.DuckDBPyConnection,
    run_id: str,
    granularity: str,
    periods: Sequence[Period],
    stale: dict[Period, tuple[int, int]],
    reason: str,
) -> None:
    """Note which processed periods a run redoes and why (`runs` and reports show them)."""
    first = periods[0].label if periods else ""

    def why(period: Period) -> str:
        if period in stale and stale[period][0] == stale[period][1]:
            return "processed before it closed"
        return reason if period in stale or reason != "late documents" else f"follows {first}"

    rows = [(run_id, granularity, p.label, why(p), *stale.get(p, (None, None))) for p in periods]
    con.executemany(
        "INSERT INTO period_revisions (run_id, granularity, period, reason, "
        "n_docs_before, n_docs_now) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
        rows,
    )
