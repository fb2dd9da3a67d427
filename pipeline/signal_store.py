"""Reads and writes of per-period term frequencies and of the ranked signals."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class TermRows:
    """A period's `term_periods` rows, column by column."""

    terms: Sequence[str] = ()
    labels: Sequence[str] = ()
    documents: Sequence[int] = ()
    shares: Sequence[float] = ()
    sources: Sequence[int] = ()
    outlets: Sequence[int] = ()
    kinds: Sequence[Sequence[str]] = ()
    languages: Sequence[Sequence[str]] = ()


@dataclass(frozen=True)
class SignalRow:
    """One item of a period's ranked list: a term signal or a topic signal."""

    signal_id: str
    kind: str  # term | topic
    rank: int
    score: float
    signal_class: str
    label: str
    terms: tuple[str, ...]
    keywords_en: tuple[str, ...]
    keywords_zh: tuple[str, ...]
    n_docs: int
    share: float
    growth: float | None
    topic_ids: tuple[str, ...]
    direction: str
    track: str | None
    first_seen: dict[str, str]
    metrics: dict[str, Any]
    reasons: tuple[str, ...]
    doc_ids: tuple[str, ...]
    event: str = "born"
    parent_signal_id: str | None = None
    born_period: str = ""


@dataclass(frozen=True)
class SignalWrite:
    """What the signals stage adds to a period's one transaction."""

    terms: TermRows = field(default_factory=TermRows)
    signals: Sequence[SignalRow] = ()


@dataclass(frozen=True)
class TermHistory:
    """The earlier periods' counts of this period's terms.

    `counts[i, j]` is term i's documents in `periods[j]` (oldest first, the last processed
    periods before this one), `totals[j]` that period's documents; `periods_present[i]` and
    `last_seen_gap[i]` (periods since last present, 0 when never) cover all earlier history,
    `first_seen[i]` maps each kind and language to the first period with the term there.
    """

    periods: tuple[str, ...]
    totals: NDArray[np.int64]
    counts: NDArray[np.int64]
    periods_present: NDArray[np.int64]
    last_seen_gap: NDArray[np.int64]
    n_history: int

    @classmethod
    def empty(cls, n_terms: int) -> TermHistory:
        none = np.zeros(n_terms, np.int64)
        return cls((), np.zeros(0, np.int64), np.zeros((n_terms, 0), np.int64), none, none, 0)


@dataclass(frozen=True)
class SignalState:
    """An earlier term signal: its id, its terms so far, where it was last seen."""

    signal_id: str
    born_period: str
    last_period: str
    terms: tuple[str, ...]


def load_term_history(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    terms: Sequence[str],
    earlier: Sequence[str],
    totals: dict[str, int],
    length: int,
) -> TermHistory:
    """Counts of `terms` over the last `length` of the `earlier` processed periods, and how
    often and how long ago each was seen in any of them."""
    n = len(terms)
    if not earlier or not n:
        return TermHistory.empty(n)
    recent = list(earlier[-length:])
    # One scan, joined to the terms' and periods' positions in SQL: the rows come back as
    # integers, with no Python lookup per row (that lookup was most of this step's time).
    rows = con.execute(
        "SELECT t.i, e.j, p.documents FROM term_periods p "
        "JOIN (SELECT unnest($terms) AS term, generate_subscripts($terms, 1) - 1 AS i) t "
        "USING (term) "
        "JOIN (SELECT unnest($earlier) AS period, generate_subscripts($earlier, 1) - 1 AS j) e "
        "USING (period) WHERE p.granularity = $granularity",
        {"terms": list(terms), "earlier": list(earlier), "granularity": granularity},
    ).fetchnumpy()
    i = np.asarray(rows["i"], np.int64)
    j = np.asarray(rows["j"], np.int64)
    documents = np.asarray(rows["documents"], np.int64)
    present = np.bincount(i, minlength=n).astype(np.int64)
    last = np.full(n, -1, np.int64)
    np.maximum.at(last, i, j)
    offset = len(earlier) - len(recent)
    counts = np.zeros((n, len(recent)), np.int64)
    in_recent = j >= offset
    counts[i[in_recent], j[in_recent] - offset] = documents[in_recent]
    gap = np.where(last >= 0, len(earlier) - last, 0)
    return TermHistory(
        tuple(recent),
        np.asarray([totals.get(p, 0) for p in recent], np.int64),
        counts,
        present,
        gap,
        len(earlier),
    )


def first_seen(
    con: duckdb.DuckDBPyConnection, granularity: str, terms: Sequence[str]
) -> dict[str, dict[str, str]]:
    """For each term, the first period it was present in each kind and each language."""
    if not terms:
        return {}
    rows = con.execute(
        "SELECT term, 'kind:' || k AS key, min(period) FROM "
        "(SELECT term, period, unnest(kinds) AS k FROM term_periods WHERE granularity = $g "
        " AND term IN (SELECT unnest($t))) GROUP BY ALL "
        "UNION ALL SELECT term, 'lang:' || l AS key, min(period) FROM "
        "(SELECT term, period, unnest(languages) AS l FROM term_periods WHERE granularity = $g "
        " AND term IN (SELECT unnest($t))) GROUP BY ALL",
        {"g": granularity, "t": list(terms)},
    ).fetchall()
    found: dict[str, dict[str, str]] = {}
    for term, key, period in rows:
        found.setdefault(term, {})[key] = period
    return found


def load_signal_states(con: duckdb.DuckDBPyConnection, granularity: str) -> list[SignalState]:
    """Every earlier term signal, oldest first."""
    rows = con.execute(
        "SELECT signal_id, born_period, last_period, terms FROM signals "
        "WHERE granularity = ? AND kind = 'term' ORDER BY born_period, signal_id",
        [granularity],
    ).fetchall()
    return [SignalState(str(a), str(b), str(c), tuple(d)) for a, b, c, d in rows]


def write_signals(
    con: duckdb.DuckDBPyConnection, granularity: str, period: str, write: SignalWrite
) -> None:
    """Insert the period's term and signal rows (inside the period's transaction, after
    `delete_signals` when the period had rows)."""
    from pipeline.topic_store import insert_columns

    t = write.terms
    if t.terms:
        insert_columns(
            con,
            "term_periods",
            {
                "term": ("VARCHAR", list(t.terms)),
                "label": ("VARCHAR", list(t.labels)),
                "granularity": ("VARCHAR", [granularity] * len(t.terms)),
                "period": ("VARCHAR", [period] * len(t.terms)),
                "documents": ("INTEGER", [int(x) for x in t.documents]),
                "share": ("DOUBLE", [float(x) for x in t.shares]),
                "sources": ("INTEGER", [int(x) for x in t.sources]),
                "outlets": ("INTEGER", [int(x) for x in t.outlets]),
                "kinds": ("VARCHAR[]", [list(x) for x in t.kinds]),
                "languages": ("VARCHAR[]", [list(x) for x in t.languages]),
            },
        )
    rows = write.signals
    if not rows:
        return
    insert_columns(
        con,
        "signals",
        {
            "signal_id": ("VARCHAR", [r.signal_id for r in rows]),
            "granularity": ("VARCHAR", [granularity] * len(rows)),
            "kind": ("VARCHAR", [r.kind for r in rows]),
            "born_period": ("VARCHAR", [r.born_period or period for r in rows]),
            "last_period": ("VARCHAR", [period] * len(rows)),
            "label": ("VARCHAR", [r.label for r in rows]),
            "terms": ("VARCHAR[]", [list(r.terms) for r in rows]),
        },
        "ON CONFLICT (signal_id) DO UPDATE SET last_period = excluded.last_period, "
        "label = excluded.label, terms = list_distinct(list_concat(terms, excluded.terms))",
    )
    insert_columns(
        con,
        "signal_periods",
        {
            "signal_id": ("VARCHAR", [r.signal_id for r in rows]),
            "granularity": ("VARCHAR", [granularity] * len(rows)),
            "period": ("VARCHAR", [period] * len(rows)),
            "kind": ("VARCHAR", [r.kind for r in rows]),
            "rank": ("INTEGER", [r.rank for r in rows]),
            "score": ("DOUBLE", [r.score for r in rows]),
            "signal_class": ("VARCHAR", [r.signal_class for r in rows]),
            "label": ("VARCHAR", [r.label for r in rows]),
            "terms": ("VARCHAR[]", [list(r.terms) for r in rows]),
            "keywords_en": ("VARCHAR[]", [list(r.keywords_en) for r in rows]),
            "keywords_zh": ("VARCHAR[]", [list(r.keywords_zh) for r in rows]),
            "n_docs": ("INTEGER", [r.n_docs for r in rows]),
            "share": ("DOUBLE", [r.share for r in rows]),
            "growth": ("DOUBLE", [r.growth for r in rows]),
            "topic_ids": ("VARCHAR[]", [list(r.topic_ids) for r in rows]),
            "direction": ("VARCHAR", [r.direction for r in rows]),
            "track": ("VARCHAR", [r.track for r in rows]),
            "first_seen": ("JSON", [json.dumps(r.first_seen, sort_keys=True) for r in rows]),
            "metrics": ("JSON", [json.dumps(r.metrics, sort_keys=True) for r in rows]),
            "reasons": ("VARCHAR[]", [list(r.reasons) for r in rows]),
            "doc_ids": ("VARCHAR[]", [list(r.doc_ids) for r in rows]),
            "event": ("VARCHAR", [r.event for r in rows]),
            "parent_signal_id": ("VARCHAR", [r.parent_signal_id for r in rows]),
        },
    )


def delete_signals(con: duckdb.DuckDBPyConnection, granularity: str, period: str) -> None:
    """Remove a period's term and signal rows, and signals born in it."""
    for table in ("term_periods", "signal_periods"):
        con.execute(
            f"DELETE FROM {table} WHERE granularity = ? AND period = ?", [granularity, period]
        )
    con.execute(
        "DELETE FROM signals WHERE granularity = ? AND born_period = ?", [granularity, period]
    )


def restore_signals(con: duckdb.DuckDBPyConnection, granularity: str) -> None:
    """After later periods were deleted (a rewind): each signal as its kept rows left it.

    `write_signals` folds every period into the signal's row (last period, label, terms), so
    the fold is replayed over the kept `signal_periods` rows, oldest first; a signal with no
    row left did not exist yet.
    """
    con.execute(
        "DELETE FROM signals WHERE granularity = ? AND signal_id NOT IN "
        "(SELECT signal_id FROM signal_periods WHERE granularity = ?)",
        [granularity, granularity],
    )
    con.execute(
        "UPDATE signals SET last_period = f.period, label = f.label, terms = f.terms FROM ("
        "  SELECT signal_id, min(period) AS period, arg_min(label, period) AS label, "
        "  arg_min(terms, period) AS terms FROM signal_periods WHERE granularity = ? "
        "  GROUP BY signal_id) f WHERE signals.signal_id = f.signal_id",
        [granularity],
    )
    periods = con.execute(
        "SELECT DISTINCT period FROM signal_periods WHERE granularity = ? ORDER BY period",
        [granularity],
    ).fetchall()
    for (period,) in periods[1:]:
        con.execute(
            "UPDATE signals SET last_period = sp.period, label = sp.label, "
            "terms = list_distinct(list_concat(signals.terms, sp.terms)) FROM signal_periods sp "
            "WHERE sp.signal_id = signals.signal_id AND sp.granularity = ? AND sp.period = ? "
            "AND sp.period > signals.last_period",
            [granularity, period],
        )
