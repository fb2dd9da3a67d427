"""What a replay left in its store: every topic of every period with its documents, and
the product's own ranked lists (what the backtest scores)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.engine import EngineParams
from models.evaluate import History, RankedItem
from pipeline.db import session
from pipeline.queries import term_signal_series


@dataclass(frozen=True)
class Replay:
    """One replay's history (every topic), the product's ranked lists, and a fingerprint."""

    history: History
    ranked: dict[str, tuple[RankedItem, ...]]

    def fingerprint(self) -> list[tuple[str, str, int, int, float]]:
        ranks = {
            (i.period, i.item_id): (n, i.rank_score)
            for items in self.ranked.values()
            for n, i in enumerate(items)
        }
        return sorted(
            (i.period, i.item_id, i.n_docs, *ranks.get((i.period, i.item_id), (-1, 0.0)))
            for i in self.history.items
        )


def read_replay(db_path: Path, params: EngineParams) -> Replay:
    """The processed history (every topic with its documents) and the product's ranked lists."""
    with session(db_path, read_only=True) as con:
        return Replay(read_history(con, params.granularity), read_ranked(con, params.granularity))


def read_history(con: Any, granularity: str) -> History:
    """Every period's size and every topic of every period with its documents' text."""
    sizes = con.execute(
        "SELECT period, n_docs, n_outliers FROM processed_periods "
        "WHERE granularity = ? ORDER BY period_start",
        [granularity],
    ).fetchall()
    rows = con.execute(
        "SELECT tp.period, tp.topic_id, tp.high_potential, tp.n_docs, t.born_period "
        "FROM topic_periods tp JOIN topics t USING (topic_id) WHERE tp.granularity = ? "
        "ORDER BY tp.period, tp.topic_id",
        [granularity],
    ).fetchall()
    texts = _member_texts(con, granularity, flagged_only=False)
    items = tuple(
        RankedItem(p, t, "topic", float(s or 0.0), int(n), tuple(texts.get((p, t), ())), b)
        for p, t, s, n, b in rows
    )
    return History(
        periods=tuple(p for p, _, _ in sizes),
        period_docs={p: int(n) for p, n, _ in sizes},
        items=items,
        n_outliers=sum(int(o) for _, _, o in sizes),
        series=term_signal_series(con, granularity),
    )


def read_ranked(con: Any, granularity: str) -> dict[str, tuple[RankedItem, ...]]:
    """The product's own ranked list of each period, best first: what an analyst reads.

    The flagged items of `v_signals` (term signals, topics and fired watches ranked together,
    the order of `observatory signals` and the report's headline), each with its documents in
    that period. This is the one place the backtest reads what the product ranks.
    """
    texts: dict[tuple[str, str], list[str]] = {}
    for period, item, text in _signal_texts(con, granularity):
        texts.setdefault((period, item), []).append(text)
    ranked: dict[str, list[RankedItem]] = {}
    for period, item, kind, score, n_docs, born in con.execute(
        "SELECT period, signal_id, kind, score, n_docs, born_period FROM v_signals "
        "WHERE granularity = ? AND signal_class <> 'noise' ORDER BY period, rank",
        [granularity],
    ).fetchall():
        ranked.setdefault(period, []).append(
            RankedItem(
                period,
                item,
                kind,
                float(score or 0.0),
                int(n_docs),
                tuple(texts.get((period, item), ())),
                born,
            )
        )
    return {p: tuple(items) for p, items in ranked.items()}


def _signal_texts(con: Any, granularity: str) -> list[tuple[str, str, str]]:
    """(period, signal id, title and text) of every flagged signal's documents."""
    rows: list[tuple[str, str, str]] = con.execute(
        """
        WITH flagged AS (
            SELECT period, signal_id, kind, doc_ids FROM signal_periods
            WHERE granularity = $g AND signal_class <> 'noise'
        ), docs AS (
            SELECT period, signal_id, unnest(doc_ids) AS doc_id FROM flagged
            WHERE kind <> 'topic'
            UNION ALL
            SELECT f.period, f.signal_id, dt.doc_id FROM flagged f JOIN doc_topics dt
              ON dt.granularity = $g AND dt.period = f.period AND dt.topic_id = f.signal_id
            WHERE f.kind = 'topic'
        )
        SELECT x.period, x.signal_id, d.title || chr(10) || d.text
        FROM docs x JOIN documents d USING (doc_id)
        ORDER BY x.period, x.signal_id, x.doc_id
        """,
        {"g": granularity},
    ).fetchall()
    return rows


def _member_texts(
    con: Any, granularity: str, flagged_only: bool
) -> dict[tuple[str, str], list[str]]:
    flagged = (
        "JOIN topic_periods tp ON tp.topic_id = dt.topic_id AND tp.period = dt.period "
        "AND tp.granularity = dt.granularity AND tp.signal_class IN ('weak', 'strong') "
        if flagged_only
        else ""
    )
    texts: dict[tuple[str, str], list[str]] = {}
    for period, topic, text in con.execute(
        "SELECT dt.period, dt.topic_id, d.title || chr(10) || d.text FROM doc_topics dt "
        f"JOIN documents d USING (doc_id) {flagged}"
        "WHERE dt.granularity = ? AND dt.topic_id IS NOT NULL "
        "ORDER BY dt.period, dt.topic_id, d.doc_id",
        [granularity],
    ).fetchall():
        texts.setdefault((period, topic), []).append(text)
    return texts
