"""The read-only SQL a report needs, returning typed rows and nothing else."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import duckdb

from reports.model import CrawlRow, EvidenceDoc, RunRow, SourceCount


@dataclass(frozen=True)
class ProcessedPeriod:
    """One row of `processed_periods`."""

    period: str
    period_start: date
    run_id: str
    model: str
    n_docs: int
    n_topics: int
    n_outliers: int
    processed_at: datetime


@dataclass(frozen=True)
class TopicRow:
    """One topic in one period, joined with its birth and primary direction."""

    topic_id: str
    period: str
    n_docs: int
    share: float
    label: str
    keywords: tuple[str, ...]
    growth: float
    popularity: float
    high_potential: float
    signal_class: str
    metrics: dict[str, Any]
    reasons: tuple[str, ...]
    born_period: str
    direction: str
    track: str | None
    taxonomy_version: str | None


def processed(con: duckdb.DuckDBPyConnection, granularity: str) -> list[ProcessedPeriod]:
    """Every processed period of a granularity, oldest first."""
    rows = con.execute(
        "SELECT period, period_start, run_id, model, n_docs, n_topics, n_outliers, processed_at "
        "FROM processed_periods WHERE granularity = ? ORDER BY period_start",
        [granularity],
    ).fetchall()
    return [ProcessedPeriod(*row) for row in rows]


def topic_rows(
    con: duckdb.DuckDBPyConnection, granularity: str, periods: Sequence[str]
) -> list[TopicRow]:
    """Every topic of the given periods with scores, birth and primary direction."""
    rows = con.execute(
        """
        SELECT tp.topic_id, tp.period, tp.n_docs, tp.share, tp.label, tp.keywords,
               coalesce(tp.growth, 0), coalesce(tp.popularity, 0), coalesce(tp.high_potential, 0),
               tp.signal_class, tp.metrics, coalesce(tp.reasons, []), t.born_period,
               coalesce(d.direction, 'unmapped'),
               coalesce(d.track_name_en || ' (' || d.track_name_zh || ')', d.track),
               d.taxonomy_version
        FROM topic_periods tp
        JOIN topics t USING (topic_id)
        LEFT JOIN v_topic_directions d USING (topic_id, period)
        WHERE tp.granularity = ? AND list_contains(?, tp.period)
        ORDER BY tp.period, tp.high_potential DESC, tp.topic_id
        """,
        [granularity, list(periods)],
    ).fetchall()
    return [_topic_row(row) for row in rows]


def _topic_row(row: Sequence[Any]) -> TopicRow:
    metrics = json.loads(row[10]) if isinstance(row[10], str) else (row[10] or {})
    return TopicRow(
        topic_id=row[0],
        period=row[1],
        n_docs=int(row[2]),
        share=float(row[3]),
        label=row[4],
        keywords=tuple(row[5]),
        growth=float(row[6]),
        popularity=float(row[7]),
        high_potential=float(row[8]),
        signal_class=row[9],
        metrics=metrics,
        reasons=tuple(row[11]),
        born_period=row[12],
        direction=row[13],
        track=row[14],
        taxonomy_version=row[15],
    )


def evidence(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    period: str,
    topic_ids: Sequence[str],
    per_topic: int,
) -> dict[str, list[EvidenceDoc]]:
    """The member documents closest to each topic's centroid in the period."""
    rows = con.execute(
        """
        SELECT topic_id, doc_id, title, source, kind, published, url, lang,
               coalesce(similarity, 0)
        FROM v_documents_by_topic
        WHERE granularity = ? AND period = ? AND list_contains(?, topic_id)
        QUALIFY row_number() OVER (PARTITION BY topic_id
                                   ORDER BY similarity DESC NULLS LAST, published DESC,
                                            doc_id) <= ?
        ORDER BY topic_id, similarity DESC NULLS LAST, published DESC, doc_id
        """,
        [granularity, period, list(topic_ids), per_topic],
    ).fetchall()
    found: dict[str, list[EvidenceDoc]] = {}
    for topic_id, *doc in rows:
        found.setdefault(topic_id, []).append(
            EvidenceDoc(
                doc[0], doc[1], doc[2], doc[3], doc[4], _web_link(doc[5]), doc[6], float(doc[7])
            )
        )
    return found


def _web_link(url: str | None) -> str | None:
    # Only web addresses become links; `javascript:` and the like would run in the page.
    return url if url and url.lower().startswith(("http://", "https://")) else None


def source_mix(con: duckdb.DuckDBPyConnection, granularity: str, period: str) -> list[SourceCount]:
    """The period's processed documents counted by source, largest first."""
    rows = con.execute(
        """
        SELECT d.source, d.kind, count(*) AS n FROM doc_topics dt JOIN documents d USING (doc_id)
        WHERE dt.granularity = ? AND dt.period = ? GROUP BY ALL ORDER BY n DESC, d.source
        """,
        [granularity, period],
    ).fetchall()
    return [SourceCount(source, kind, int(n)) for source, kind, n in rows]


def recent_runs(
    con: duckdb.DuckDBPyConnection, limit: int, until: datetime | None = None
) -> list[RunRow]:
    """The latest rows of `runs` started by `until` (all when None), newest first."""
    rows = con.execute(
        "SELECT run_id, kind, status, started, finished, model, coalesce(counts, '{}'), error "
        "FROM runs WHERE $until IS NULL OR started <= $until "
        "ORDER BY started DESC, run_id LIMIT $limit",
        {"until": until, "limit": limit},
    ).fetchall()
    return [
        RunRow(row[0], row[1], row[2], row[3], row[4], row[5], _compact_json(row[6]), row[7])
        for row in rows
    ]


def revisions(con: duckdb.DuckDBPyConnection, run_id: str) -> list[str]:
    """The periods a process run did again, and why, one line each."""
    rows = con.execute(
        "SELECT period, reason, n_docs_before, n_docs_now FROM period_revisions "
        "WHERE run_id = ? ORDER BY period",
        [run_id],
    ).fetchall()
    return [
        f"{period}: {reason}"
        + (f", {before} → {now} documents" if before is not None and before != now else "")
        for period, reason, before, now in rows
    ]


def _compact_json(text: str) -> str:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    if isinstance(value, dict):
        return ", ".join(f"{key} {value[key]}" for key in sorted(value))
    return json.dumps(value, ensure_ascii=False)


def latest_crawl(con: duckdb.DuckDBPyConnection, until: datetime | None = None) -> list[CrawlRow]:
    """The per-source rows of the most recent crawl run started by `until` (any when None)."""
    rows = con.execute(
        """
        SELECT run_id, source_id, started, requests, items_stored, items_dropped, errors
        FROM crawl_log
        WHERE run_id = (SELECT run_id FROM crawl_log WHERE $until IS NULL OR started <= $until
                        ORDER BY started DESC, run_id DESC LIMIT 1)
        ORDER BY source_id
        """,
        {"until": until},
    ).fetchall()
    return [
        CrawlRow(row[0], row[1], row[2], row[3], row[4], row[5], _error_list(row[6]))
        for row in rows
    ]


def _error_list(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        return (value,)
    return tuple(str(item) for item in parsed) if isinstance(parsed, list) else (str(parsed),)


def track_names(con: duckdb.DuckDBPyConnection, version: str | None) -> dict[str, str]:
    """Track id -> English name from the `directions` table (empty until it is filled)."""
    rows = (
        con.execute(
            "SELECT track, name_en FROM directions WHERE taxonomy_version = ?", [version]
        ).fetchall()
        if version
        else []
    )
    return {str(track): str(name) for track, name in rows}


def documents_by_id(
    con: duckdb.DuckDBPyConnection, doc_ids: Sequence[str]
) -> dict[str, EvidenceDoc]:
    """Evidence rows for these documents (similarity 1: a term's documents hold the term)."""
    rows = con.execute(
        "SELECT doc_id, title, source, kind, published, url, lang FROM documents "
        "WHERE list_contains(?, doc_id)",
        [list(doc_ids)],
    ).fetchall()
    return {
        row[0]: EvidenceDoc(row[0], row[1], row[2], row[3], row[4], _web_link(row[5]), row[6], 1.0)
        for row in rows
    }


def signal_history(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    signal_ids: Sequence[str],
    periods: Sequence[str],
) -> dict[str, dict[str, tuple[float, int, str, str]]]:
    """signal id -> period -> (share, documents, class, metrics JSON) over these periods."""
    rows = con.execute(
        "SELECT signal_id, period, share, n_docs, signal_class, coalesce(metrics, '{}') "
        "FROM signal_periods WHERE granularity = ? AND list_contains(?, signal_id) "
        "AND list_contains(?, period)",
        [granularity, list(signal_ids), list(periods)],
    ).fetchall()
    found: dict[str, dict[str, tuple[float, int, str, str]]] = {}
    for signal_id, period, share, n_docs, signal_class, metrics in rows:
        found.setdefault(signal_id, {})[period] = (
            float(share),
            int(n_docs),
            signal_class,
            str(metrics),
        )
    return found


def count_documents(con: duckdb.DuckDBPyConnection) -> int:
    """All documents in the store."""
    row = con.execute("SELECT count(*) FROM documents").fetchone()
    return int(row[0]) if row else 0


def watch_rows(
    con: duckdb.DuckDBPyConnection, granularity: str, periods: Sequence[str]
) -> list[tuple[Any, ...]]:
    """Watch phrases with their rows in these periods (phrase order, then period)."""
    return con.execute(
        "SELECT w.watch_id, w.phrase, p.period, p.n_docs, p.share, p.growth, "
        "p.high_potential, p.signal_class, p.reasons FROM watchlist w "
        "JOIN watch_periods p ON p.watch_id = w.watch_id AND p.granularity = ? "
        "AND p.period IN (SELECT unnest(?)) ORDER BY w.added_at, w.watch_id, p.period",
        [granularity, list(periods)],
    ).fetchall()
