"""Read-only SQL behind the analyst commands (`topics`, `topic`), returning typed rows."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import duckdb

TopicStatus = Literal["emerging", "strong", "new"]

_STATUS_FILTERS: dict[str, str] = {
    "emerging": "tp.signal_class IN ('weak', 'strong')",
    "strong": "tp.signal_class = 'strong'",
    "new": "t.born_period = tp.period",
}


@dataclass(frozen=True)
class TopicSummary:
    """One topic in one period, with its primary direction and scores."""

    topic_id: str
    granularity: str
    period: str
    label: str
    direction: str
    track: str | None
    signal_class: str
    high_potential: float | None
    growth: float | None
    popularity: float | None
    n_docs: int
    share: float
    born_period: str
    keywords: tuple[str, ...]
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class TopicInfo:
    """A topic's identity: `topics` row without its centroids."""

    topic_id: str
    granularity: str
    label: str
    keywords: tuple[str, ...]
    born_period: str
    last_period: str


@dataclass(frozen=True)
class LineageEvent:
    """One `topic_lineage` row that names the topic as itself or as the parent."""

    period: str
    topic_id: str
    event: str
    parent_topic_id: str | None
    similarity: float | None
    cluster: int


@dataclass(frozen=True)
class PeriodScore:
    """A topic's scores in one period, with the reasons for its class."""

    period: str
    n_docs: int
    share: float
    growth: float | None
    popularity: float | None
    high_potential: float | None
    signal_class: str
    reasons: tuple[str, ...]
    metrics: dict[str, Any]


@dataclass(frozen=True)
class DirectionWeight:
    """The topic's weight on one direction in one period."""

    period: str
    taxonomy_version: str
    direction: str
    track: str | None
    similarity: float
    weight: float
    is_primary: bool


@dataclass(frozen=True)
class EvidenceDocument:
    """A document assigned to the topic, closest to its centroid first."""

    doc_id: str
    period: str
    similarity: float | None
    title: str
    source: str
    kind: str
    published: date
    url: str | None


@dataclass(frozen=True)
class TopicDetail:
    """Everything `observatory topic ID` shows."""

    topic: TopicInfo
    lineage: tuple[LineageEvent, ...]
    scores: tuple[PeriodScore, ...]
    directions: tuple[DirectionWeight, ...]
    evidence: tuple[EvidenceDocument, ...]


def processed_granularities(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Granularities with processed periods, the most recently processed first."""
    rows = con.execute(
        "SELECT granularity FROM processed_periods GROUP BY granularity "
        "ORDER BY max(processed_at) DESC"
    ).fetchall()
    return [str(row[0]) for row in rows]


def latest_period(con: duckdb.DuckDBPyConnection, granularity: str) -> str | None:
    """The last processed period of a granularity, if any."""
    rows = con.execute(
        "SELECT max_by(period, period_start) FROM processed_periods WHERE granularity = ?",
        [granularity],
    ).fetchall()
    return str(rows[0][0]) if rows and rows[0][0] is not None else None


def known_directions(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Direction names in the taxonomy tables and topic mappings, plus `unmapped`."""
    rows = con.execute(
        "SELECT direction FROM directions UNION SELECT direction FROM topic_directions"
    ).fetchall()
    return {str(row[0]) for row in rows} | {"unmapped"}


def topics_in_period(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    period: str,
    direction: str | None = None,
    status: TopicStatus | None = None,
    limit: int = 20,
) -> list[TopicSummary]:
    """Topics of a period, highest high-potential score first, optionally filtered."""
    # status_sql comes from the fixed table above, never from the user's text.
    status_sql = _STATUS_FILTERS[status] if status else "TRUE"
    rows = con.execute(
        f"""
        SELECT tp.topic_id, tp.granularity, tp.period, tp.label,
               coalesce(d.direction, 'unmapped') AS direction,
               coalesce(d.track_name_en || ' (' || d.track_name_zh || ')', d.track) AS track,
               tp.signal_class,
               tp.high_potential, tp.growth, tp.popularity, tp.n_docs, tp.share,
               t.born_period, tp.keywords, coalesce(tp.reasons, [])
        FROM topic_periods tp
        JOIN topics t USING (topic_id)
        LEFT JOIN v_topic_directions d USING (topic_id, period)
        WHERE tp.granularity = $granularity AND tp.period = $period AND {status_sql}
          AND ($direction IS NULL OR coalesce(d.direction, 'unmapped') = $direction)
        ORDER BY tp.high_potential DESC NULLS LAST, tp.topic_id
        LIMIT $limit
        """,
        {"granularity": granularity, "period": period, "direction": direction, "limit": limit},
    ).fetchall()
    return [_summary(row) for row in rows]


def _summary(row: tuple[Any, ...]) -> TopicSummary:
    return TopicSummary(
        topic_id=row[0],
        granularity=row[1],
        period=row[2],
        label=row[3],
        direction=row[4],
        track=row[5],
        signal_class=row[6],
        high_potential=row[7],
        growth=row[8],
        popularity=row[9],
        n_docs=row[10],
        share=row[11],
        born_period=row[12],
        keywords=tuple(row[13]),
        reasons=tuple(row[14]),
    )


def topic_info(con: duckdb.DuckDBPyConnection, topic_id: str) -> TopicInfo | None:
    """A topic's label, keywords and birth, or None when there is no such topic."""
    rows = con.execute(
        "SELECT topic_id, granularity, label, keywords, born_period, last_period "
        "FROM topics WHERE topic_id = ?",
        [topic_id],
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    return TopicInfo(row[0], row[1], row[2], tuple(row[3]), row[4], row[5])


def topic_lineage(con: duckdb.DuckDBPyConnection, topic_id: str) -> list[LineageEvent]:
    """Lineage rows of the topic itself and of topics that name it as their parent."""
    rows = con.execute(
        "SELECT period, topic_id, event, parent_topic_id, similarity, cluster FROM topic_lineage "
        "WHERE topic_id = $id OR parent_topic_id = $id ORDER BY period, topic_id, event",
        {"id": topic_id},
    ).fetchall()
    return [LineageEvent(*row) for row in rows]


def topic_scores(con: duckdb.DuckDBPyConnection, topic_id: str) -> list[PeriodScore]:
    """The topic's scores in every period it was seen, oldest first."""
    rows = con.execute(
        "SELECT period, n_docs, share, growth, popularity, high_potential, signal_class, "
        "coalesce(reasons, []), metrics FROM topic_periods WHERE topic_id = ? ORDER BY period",
        [topic_id],
    ).fetchall()
    return [
        PeriodScore(
            period=row[0],
            n_docs=row[1],
            share=row[2],
            growth=row[3],
            popularity=row[4],
            high_potential=row[5],
            signal_class=row[6],
            reasons=tuple(row[7]),
            metrics=json.loads(row[8]) if row[8] else {},
        )
        for row in rows
    ]


def topic_direction_weights(con: duckdb.DuckDBPyConnection, topic_id: str) -> list[DirectionWeight]:
    """The topic's distribution over directions in the last period it was mapped."""
    rows = con.execute(
        """
        SELECT td.period, td.taxonomy_version, td.direction,
               coalesce(n.name_en || ' (' || n.name_zh || ')', td.track), td.similarity,
               td.weight, td.is_primary
        FROM topic_directions td
        LEFT JOIN directions n
          ON n.taxonomy_version = td.taxonomy_version AND n.track = td.track
        WHERE td.topic_id = $id
          AND td.period = (SELECT max(period) FROM topic_directions WHERE topic_id = $id)
        ORDER BY td.is_primary DESC, td.weight DESC, td.direction
        """,
        {"id": topic_id},
    ).fetchall()
    return [DirectionWeight(*row) for row in rows]


def topic_evidence(
    con: duckdb.DuckDBPyConnection, topic_id: str, limit: int = 10
) -> list[EvidenceDocument]:
    """The topic's documents closest to its centroid, over all periods."""
    rows = con.execute(
        "SELECT d.doc_id, dt.period, dt.similarity, d.title, d.source, d.kind, d.published, "
        "d.url FROM doc_topics dt JOIN documents d USING (doc_id) WHERE dt.topic_id = ? "
        "ORDER BY dt.similarity DESC NULLS LAST, d.published DESC, d.doc_id LIMIT ?",
        [topic_id, limit],
    ).fetchall()
    return [EvidenceDocument(*row) for row in rows]


def topic_detail(
    con: duckdb.DuckDBPyConnection, topic_id: str, n_evidence: int = 10
) -> TopicDetail | None:
    """Identity, lineage, scores, directions and evidence of one topic."""
    info = topic_info(con, topic_id)
    if info is None:
        return None
    return TopicDetail(
        info,
        tuple(topic_lineage(con, topic_id)),
        tuple(topic_scores(con, topic_id)),
        tuple(topic_direction_weights(con, topic_id)),
        tuple(topic_evidence(con, topic_id, n_evidence)),
    )


@dataclass(frozen=True)
class RankedSignal:
    """One item of a period's ranked list (`v_signals`): a term signal or a topic."""

    granularity: str
    period: str
    rank: int
    signal_id: str
    kind: str
    signal_class: str
    score: float
    label: str
    direction: str
    track: str | None
    n_docs: int
    share: float
    growth: float | None
    keywords_en: tuple[str, ...]
    keywords_zh: tuple[str, ...]
    topic_ids: tuple[str, ...]
    first_seen: dict[str, str]
    reasons: tuple[str, ...]
    born_period: str
    event: str
    parent_signal_id: str | None


def ranked_signals(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    period: str,
    direction: str | None = None,
    limit: int | None = None,
    flagged_only: bool = False,
) -> list[RankedSignal]:
    """A period's one ranked list of term and topic signals, best first (what the report's
    headline and each direction's section read)."""
    rows = con.execute(
        """
        SELECT granularity, period, rank, signal_id, kind, signal_class, score, label,
               direction, track, n_docs, share, growth, keywords_en, keywords_zh, topic_ids,
               first_seen, reasons, born_period, event, parent_signal_id
        FROM v_signals
        WHERE granularity = $g AND period = $p
          AND ($direction IS NULL OR direction = $direction)
          AND (NOT $flagged OR signal_class <> 'noise')
        ORDER BY rank LIMIT $limit
        """,
        {
            "g": granularity,
            "p": period,
            "direction": direction,
            "flagged": flagged_only,
            "limit": limit if limit is not None else 1 << 31,
        },
    ).fetchall()
    return [
        RankedSignal(
            granularity=row[0],
            period=row[1],
            rank=row[2],
            signal_id=row[3],
            kind=row[4],
            signal_class=row[5],
            score=row[6],
            label=row[7],
            direction=row[8],
            track=row[9],
            n_docs=row[10],
            share=row[11],
            growth=row[12],
            keywords_en=tuple(row[13]),
            keywords_zh=tuple(row[14]),
            topic_ids=tuple(row[15]),
            first_seen=json.loads(row[16]) if row[16] else {},
            reasons=tuple(row[17]),
            born_period=row[18],
            event=row[19],
            parent_signal_id=row[20],
        )
        for row in rows
    ]


def signal_documents(
    con: duckdb.DuckDBPyConnection, granularity: str, period: str | None = None
) -> dict[tuple[str, str], tuple[str, ...]]:
    """(period, signal id) -> the ids of the item's documents in that period: a term
    signal's evidence, a topic's members (what a backtest matches events against)."""
    rows = con.execute(
        """
        SELECT period, signal_id, doc_ids FROM signal_periods
        WHERE granularity = $g AND kind IN ('term', 'watch') AND ($p IS NULL OR period = $p)
        UNION ALL
        SELECT period, topic_id, list(doc_id ORDER BY doc_id) FROM doc_topics
        WHERE granularity = $g AND topic_id IS NOT NULL AND ($p IS NULL OR period = $p)
        GROUP BY ALL
        """,
        {"g": granularity, "p": period},
    ).fetchall()
    return {(str(p), str(s)): tuple(ids) for p, s, ids in rows}


def term_signal_series(
    con: duckdb.DuckDBPyConnection, granularity: str
) -> dict[tuple[str, str], int]:
    """(period, term signal id) -> documents of the signal's lead term (its first row's best
    term) in every period that has the term: the signal's size before and after it fired."""
    rows = con.execute(
        """
        WITH lead AS (
            SELECT signal_id, arg_min(terms[1], period) AS term FROM signal_periods
            WHERE granularity = $g AND kind = 'term' GROUP BY signal_id
        )
        SELECT tp.period, lead.signal_id, tp.documents
        FROM lead JOIN term_periods tp ON tp.term = lead.term AND tp.granularity = $g
        """,
        {"g": granularity},
    ).fetchall()
    return {(str(p), str(s)): int(n) for p, s, n in rows}
