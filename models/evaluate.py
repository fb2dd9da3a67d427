"""Scoring a replayed history against known emergence events; pure functions.

Detection rule (docs/backtest.md, kept verbatim): an event is detected at period t when a topic
flagged at t (weak or strong signal, or among the top 10 by high-potential score) has at least
max(3, 20%) of its period-t documents matching the event's regex (case-insensitive, on
title+text). Lead = emergence_period - first detected period, in periods (positive = earlier
than the lexical oracle). A negative control counts as a false alarm if it is detected.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.errors import InputError
from pipeline.periods import GRANULARITIES, Granularity, normalise_period, periods_between

MIN_MATCHES = 3
MIN_MATCH_SHARE = 0.20
TOP_N = 10
HORIZON = 4
ROLES = ("event", "negative_control")
_REQUIRED = ("corpus", "term", "regex", "period_granularity", "emergence_period", "role")


@dataclass(frozen=True)
class Event:
    """One ground-truth entry, its periods already in the backtest's granularity."""

    corpus: str
    series: str
    term: str
    regex: str
    role: str
    emergence_period: str | None
    series_start: str | None
    warmup_periods: int

    def pattern(self) -> re.Pattern[str]:
        return re.compile(self.regex, re.IGNORECASE)


@dataclass(frozen=True)
class FlaggedTopic:
    """A topic flagged in one period, with the title+text of its documents in that period."""

    period: str
    topic_id: str
    signal_class: str
    rank_score: float
    texts: tuple[str, ...]


@dataclass(frozen=True)
class TopicRow:
    """One topic in one period, as a detector scored it."""

    period: str
    topic_id: str
    n_docs: int
    signal_class: str
    rank_score: float


@dataclass(frozen=True)
class History:
    """What a replay produced: every period, its sizes, and each topic's counts."""

    periods: tuple[str, ...]
    period_docs: Mapping[str, int]
    rows: tuple[TopicRow, ...]
    n_outliers: int


@dataclass(frozen=True)
class EventOutcome:
    term: str
    role: str
    series: str
    emergence_period: str | None
    first_flag_period: str | None
    lead_periods: int | None
    topic_id: str | None
    detected: bool


def _field(location: str, entry: Mapping[str, Any], name: str) -> Any:
    if name not in entry:
        raise InputError(f"{location}: field '{name}': missing")
    return entry[name]


def _text(location: str, entry: Mapping[str, Any], name: str, optional: bool = False) -> Any:
    value = _field(location, entry, name)
    if (value is None and optional) or isinstance(value, str):
        return value
    raise InputError(f"{location}: field '{name}': expected a string, got {value!r:.60}")


def parse_event(location: str, entry: Any, granularity: Granularity) -> Event:
    """One events-file entry as an Event in `granularity`; raises InputError naming the field."""
    if not isinstance(entry, dict):
        raise InputError(f"{location}: expected a JSON object, got {type(entry).__name__}")
    for name in _REQUIRED:
        _field(location, entry, name)
    role = _text(location, entry, "role")
    if role not in ROLES:
        raise InputError(f"{location}: field 'role': expected event | negative_control, "
                         f"got {role!r}")
    regex = _text(location, entry, "regex")
    try:
        re.compile(regex, re.IGNORECASE)
    except re.error as error:
        raise InputError(f"{location}: field 'regex': {error}") from None
    if _text(location, entry, "period_granularity") not in GRANULARITIES:
        raise InputError(f"{location}: field 'period_granularity': expected one of "
                         f"{', '.join(GRANULARITIES)}, got {entry['period_granularity']!r}")
    return Event(
        corpus=_text(location, entry, "corpus"), series=str(entry.get("series") or ""),
        term=_text(location, entry, "term"), regex=regex, role=role,
        emergence_period=_period(location, entry, "emergence_period", granularity),
        series_start=_period(location, entry, "series_start", granularity),
        warmup_periods=int(entry.get("min_baseline_periods") or 3),
    )


def _period(location: str, entry: Mapping[str, Any], name: str,
            granularity: Granularity) -> str | None:
    value = entry.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{location}: field '{name}': expected a period label, got {value!r}")
    try:
        return normalise_period(value, granularity)
    except InputError:
        raise InputError(f"{location}: field '{name}': expected 2024-05-06, 2024-W19, 2024-05, "
                         f"2024-Q2 or 2024, got {value!r}") from None


def usable_granularities(granularity: Granularity) -> tuple[str, ...]:
    """Event granularities that re-bucket soundly into `granularity` (it and finer ones)."""
    return GRANULARITIES[: GRANULARITIES.index(granularity) + 1]


def flag_topics(rows: Sequence[TopicRow], top_n: int = TOP_N) -> set[tuple[str, str]]:
    """(period, topic) pairs flagged: weak or strong, or top `top_n` by score (> 0) in a period."""
    flagged = {(r.period, r.topic_id) for r in rows if r.signal_class in ("weak", "strong")}
    by_period: dict[str, list[TopicRow]] = {}
    for row in rows:
        by_period.setdefault(row.period, []).append(row)
    for group in by_period.values():
        ranked = sorted(group, key=lambda r: (-r.rank_score, r.topic_id))[:top_n]
        flagged |= {(r.period, r.topic_id) for r in ranked if r.rank_score > 0}
    return flagged


def matches_rule(texts: Sequence[str], pattern: re.Pattern[str]) -> bool:
    """At least max(3, 20%) of the documents match."""
    hits = sum(1 for text in texts if pattern.search(text))
    return hits >= MIN_MATCHES and hits >= MIN_MATCH_SHARE * len(texts)


def first_scored_period(event: Event, periods: Sequence[str]) -> str | None:
    """Where scoring starts: the series start, then the oracle's own baseline (warm-up)."""
    candidates = [p for p in periods if event.series_start is None
                  or periods_between(event.series_start, p) >= 0]
    return candidates[event.warmup_periods] if len(candidates) > event.warmup_periods else None


def evaluate_event(event: Event, flagged: Sequence[FlaggedTopic],
                   periods: Sequence[str]) -> EventOutcome:
    """Apply the detection rule from the first scored period on."""
    start = first_scored_period(event, periods)
    pattern = event.pattern()
    hit: FlaggedTopic | None = None
    if start is not None:
        ordered = sorted(flagged, key=lambda f: (periods.index(f.period), f.topic_id))
        hit = next((f for f in ordered if periods_between(start, f.period) >= 0
                    and matches_rule(f.texts, pattern)), None)
    lead = (periods_between(hit.period, event.emergence_period)
            if hit and event.emergence_period else None)
    return EventOutcome(term=event.term, role=event.role, series=event.series,
                        emergence_period=event.emergence_period,
                        first_flag_period=hit.period if hit else None, lead_periods=lead,
                        topic_id=hit.topic_id if hit else None, detected=hit is not None)


def topic_share_trend(history: History, period: str, topic_id: str,
                      counts: Mapping[tuple[str, str], int]) -> tuple[float, float]:
    """Topic's share of documents over the previous and the next HORIZON periods."""
    index = history.periods.index(period)
    before = history.periods[max(0, index - HORIZON):index]
    after = history.periods[index + 1:index + 1 + HORIZON]

    def share(window: Sequence[str]) -> float:
        total = sum(history.period_docs.get(p, 0) for p in window)
        return sum(counts.get((p, topic_id), 0) for p in window) / total if total else 0.0

    return share(before), share(after)


def precision_at_10(history: History, flagged: set[tuple[str, str]]) -> float | None:
    """Mean over periods of the share of the top-10 flagged topics that at least double later."""
    counts = {(r.period, r.topic_id): r.n_docs for r in history.rows}
    per_period: list[float] = []
    for index, period in enumerate(history.periods[:-1]):
        rows = [r for r in history.rows if r.period == period and (period, r.topic_id) in flagged]
        top = sorted(rows, key=lambda r: (-r.rank_score, r.topic_id))[:TOP_N]
        if not top or index == 0:
            continue
        trends = [topic_share_trend(history, period, r.topic_id, counts) for r in top]
        per_period.append(sum(after > 0 and after >= 2 * before
                              for before, after in trends) / len(top))
    return round(statistics.fmean(per_period), 4) if per_period else None


def summarise(outcomes: Sequence[EventOutcome], history: History,
              flagged: set[tuple[str, str]]) -> dict[str, Any]:
    """The summary block of RESULT.json (run_to_run_identical is added by the caller)."""
    scored = [o for o in outcomes if o.role == "event" and o.emergence_period]
    leads = [o.lead_periods for o in scored if o.lead_periods is not None]
    counts = [sum(1 for p, _ in flagged if p == period)
              for period in history.periods if history.period_docs.get(period, 0)]
    total_docs = sum(history.period_docs.values())
    return {
        "events_scored": len(scored),
        "recall": _ratio(sum(o.detected for o in scored), len(scored)),
        "recall_within_1": _ratio(sum(lead >= -1 for lead in leads), len(scored)),
        "median_lead_periods": statistics.median(leads) if leads else None,
        "false_alarm_controls": sum(o.detected for o in outcomes if o.role == "negative_control"),
        "controls": sum(o.role == "negative_control" for o in outcomes),
        "precision_at_10": precision_at_10(history, flagged),
        "flagged_per_period_median": statistics.median(counts) if counts else 0,
        "outlier_share": _ratio(history.n_outliers, total_docs),
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
