"""Building a `WeeklyReport` from the store's rows for one processed period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from typing import Any

import duckdb

from models.directions import UNMAPPED
from models.taxonomy import TAXONOMY_DIR, load_taxonomy
from pipeline.errors import ObservatoryError
from pipeline.periods import check_granularity, normalise_period
from reports import queries
from reports.headline import headline_items, ranked_items, since_last
from reports.model import RunHealth, TopicEntry, TrajectoryPoint, WatchEntry, WeeklyReport
from reports.queries import ProcessedPeriod, TopicRow
from reports.sections import (
    born_in,
    direction_sections,
    faded,
    flagged,
    heatmap,
    period_delta,
    topic_entry,
    trajectories,
)

HEADLINE_SIZE = 10
HEADLINE_ITEMS = 8
PER_DIRECTION = 8
NEW_TOPICS = 10
EVIDENCE_PER_TOPIC = 5
RECENT_RUNS = 8
UNMAPPED_NAMES = ("Unmapped candidates", "未归类候选")
_CADENCE = {
    "day": "Daily",
    "week": "Weekly",
    "month": "Monthly",
    "quarter": "Quarterly",
    "year": "Yearly",
}


def build_report(
    con: duckdb.DuckDBPyConnection, granularity: str, period: str | None = None, history: int = 12
) -> WeeklyReport:
    """The report for `period` (the latest processed one when None) from the store's rows."""
    checked = check_granularity(granularity)
    done = queries.processed(con, checked)
    index = _period_index(done, checked, period)
    current = done[index]
    window = [p.period for p in done[max(0, index - max(history, 1) + 1) : index + 1]]
    previous = done[index - 1] if index > 0 else None
    periods = [*window, previous.period] if previous and previous.period not in window else window
    rows = queries.topic_rows(con, checked, periods)
    now = [row for row in rows if row.period == current.period]
    before = [row for row in rows if previous and row.period == previous.period]
    version = next((row.taxonomy_version for row in now if row.taxonomy_version), None)
    tracks = _track_names(con, version)
    entries = {
        topic_id: replace(entry, track_name=tracks.get(entry.track or ""))
        for topic_id, entry in _entries(con, checked, current.period, now, rows, window).items()
    }
    names = _direction_names(version)
    ranked = ranked_items(con, checked, current.period, window, entries)
    earlier = ranked_items(con, checked, previous.period, (), {}) if previous else []
    worded = headline_items(
        ranked, checked, current.period, {key: value[0] for key, value in names.items()}, tracks
    )
    return WeeklyReport(
        title=f"{_CADENCE[checked]} future-industry report, {current.period}",
        granularity=checked,
        period=current.period,
        period_start=current.period_start,
        history=tuple(window),
        taxonomy_version=version,
        headline=tuple(entries[row.topic_id] for row in flagged(now)[:HEADLINE_SIZE]),
        directions=tuple(
            replace(section, items=tuple(i for i in worded if i.direction == section.direction))
            for section in direction_sections(now, entries, names, PER_DIRECTION)
        ),
        new_topics=tuple(entries[row.topic_id] for row in born_in(now, current.period, NEW_TOPICS)),
        faded=faded(before, now, trajectories(rows, window)),
        delta=period_delta(
            previous.period if previous else None,
            (current.n_docs, current.n_topics),
            (previous.n_docs, previous.n_topics) if previous else None,
            before,
            now,
        ),
        heatmap=heatmap(now),
        source_mix=tuple(queries.source_mix(con, checked, current.period)),
        health=_health(con, current),
        watches=_watches(con, checked, current.period, window),
        items=worded[:HEADLINE_ITEMS],
        since_last=since_last(previous.period if previous else None, earlier, ranked),
    )


def _watches(
    con: duckdb.DuckDBPyConnection, granularity: str, period: str, window: Sequence[str]
) -> tuple[WatchEntry, ...]:
    """Each watch phrase's row in the period, with its share over the window."""
    by_watch: dict[str, list[tuple[Any, ...]]] = {}
    for row in queries.watch_rows(con, granularity, window):
        by_watch.setdefault(row[0], []).append(row)
    entries = []
    for watch_id, rows in by_watch.items():
        seen = {row[2]: row for row in rows}
        now = seen.get(period)
        trajectory = tuple(
            TrajectoryPoint(
                p,
                float(seen[p][4]) if p in seen else 0.0,
                int(seen[p][3]) if p in seen else 0,
                seen[p][7] if p in seen else None,
            )
            for p in window
        )
        entries.append(
            WatchEntry(
                watch_id=watch_id,
                phrase=rows[0][1],
                n_docs=int(now[3]) if now else 0,
                share=float(now[4]) if now else 0.0,
                growth=now[5] if now else None,
                high_potential=now[6] if now else None,
                signal_class=now[7] if now else "absent",
                reasons=tuple(now[8] or ()) if now else (),
                trajectory=trajectory,
            )
        )
    return tuple(entries)


def _period_index(done: Sequence[ProcessedPeriod], granularity: str, period: str | None) -> int:
    if not done:
        raise ObservatoryError(
            f"no {granularity} period has been processed yet; run "
            "`observatory process` before asking for a report"
        )
    if period is None:
        return len(done) - 1
    label = normalise_period(period, check_granularity(granularity))
    for index, row in enumerate(done):
        if row.period == label:
            return index
    raise ObservatoryError(
        f"period {period!r} has not been processed at {granularity} granularity; "
        f"processed periods run from {done[0].period} to {done[-1].period} ({len(done)} in all)"
    )


def _entries(
    con: duckdb.DuckDBPyConnection,
    granularity: str,
    period: str,
    now: Sequence[TopicRow],
    rows: Sequence[TopicRow],
    window: Sequence[str],
) -> dict[str, TopicEntry]:
    paths = trajectories([row for row in rows if row.period in window], window)
    wanted = [row for row in now if row.signal_class != "noise" or row.born_period == period]
    docs = queries.evidence(
        con, granularity, period, [row.topic_id for row in wanted], EVIDENCE_PER_TOPIC
    )
    return {
        row.topic_id: topic_entry(row, paths[row.topic_id], docs.get(row.topic_id, []))
        for row in wanted
    }


@cache
def _direction_names(version: str | None) -> dict[str, tuple[str, str]]:
    """English and Chinese names of the directions of the taxonomy that mapped the topics."""
    shipped = [load_taxonomy(path.stem) for path in sorted(TAXONOMY_DIR.glob("*.toml"))]
    match = next((t for t in shipped if t.version == version), None)
    taxonomy = match or load_taxonomy("v1")
    return {**taxonomy.directions, UNMAPPED: UNMAPPED_NAMES}


def _track_names(con: duckdb.DuckDBPyConnection, version: str | None) -> dict[str, str]:
    """Track id -> English name: the `directions` table's names where it has them, else the
    shipped taxonomy's."""
    stored = queries.track_names(con, version)
    if stored:
        return stored
    shipped = [load_taxonomy(path.stem) for path in sorted(TAXONOMY_DIR.glob("*.toml"))]
    taxonomy = next((t for t in shipped if t.version == version), None) or load_taxonomy("v1")
    return {track.id: track.name_en for track in taxonomy.tracks}


def _health(con: duckdb.DuckDBPyConnection, current: ProcessedPeriod) -> RunHealth:
    # The runs up to the one that processed this period: a report of an earlier period shows
    # what fed it, not what ran since.
    runs = queries.recent_runs(con, RECENT_RUNS, until=current.processed_at)
    crawls = queries.latest_crawl(con, until=current.processed_at)
    n_errors = sum(len(row.errors) for row in crawls) + sum(run.error is not None for run in runs)
    return RunHealth(
        process_run_id=current.run_id,
        model=current.model,
        processed_at=current.processed_at,
        n_docs=current.n_docs,
        n_outliers=current.n_outliers,
        documents_total=queries.count_documents(con),
        sources_crawled=len(crawls),
        documents_added=sum(row.items_stored for row in crawls),
        n_errors=n_errors,
        runs=tuple(runs),
        crawls=tuple(crawls),
        revisions=tuple(queries.revisions(con, current.run_id)),
    )
