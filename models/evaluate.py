"""Scoring a replayed history against known emergence events at a flag budget; pure functions.

The stick (docs/backtest.md): in each period the flags are the top k items of a ranked list, for
each k of the budget, and nothing else counts. An event is detected at period t when an item
flagged at t has at least max(3, 20%) of its period-t documents matching the event's regex
(case-insensitive, on title+text). Lead = emergence_period - first detected period, in periods
(positive = earlier than the lexical oracle). A negative control counts as a false alarm if it is
detected. The detector's ranked list is scored beside four baselines drawn from the same items
of the same periods by the same rule (biggest@k, random@k, newest@k, all-topics), separately on
the tuning side of a time cut and on the check side.

An item is anything an analyst is shown as one line with its documents: today a topic of the
period (kind "topic"); an emerging term with its documents is matched the same way.
"""

from __future__ import annotations

import random
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from pipeline.errors import InputError
from pipeline.periods import (
    GRANULARITIES,
    Granularity,
    granularity_of,
    normalise_period,
    periods_between,
)

MIN_MATCHES = 3
MIN_MATCH_SHARE = 0.20
HORIZON = 4
BUDGETS = (3, 5, 10)
HEADLINE_K = 10
CUT_SHARE = 0.6
RANDOM_DRAWS = 20
ROLES = ("event", "negative_control")
SIDES = ("tuning", "check")
SYSTEMS = ("detector", "biggest", "random", "newest", "all_topics")
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
class RankedItem:
    """One line an analyst reads in one period: a topic, or a term with its documents.

    `texts` are the title+text of the item's documents in `period`; `n_docs` its size there
    (what biggest@k ranks by and precision@k's share is counted from); `born_period` the period
    it first appeared (what newest@k ranks by); `rank_score` the score the list was ordered by.
    """

    period: str
    item_id: str
    kind: str
    rank_score: float
    n_docs: int
    texts: tuple[str, ...]
    born_period: str | None = None


RankedLists = Mapping[str, Sequence[RankedItem]]
"""Period label -> that period's items, best first (the order an analyst reads them)."""


@dataclass(frozen=True)
class History:
    """What a replay produced: every period, its size, and every item (topic) of every period.

    `items` is the pool the baselines draw from: every topic the clustering produced, flagged or
    not, with its documents.
    """

    periods: tuple[str, ...]
    period_docs: Mapping[str, int]
    items: tuple[RankedItem, ...]
    n_outliers: int
    # (period, item id) -> documents, for items that are not topics (a term signal: its lead
    # term's documents in every period), so precision sees their future and past too.
    series: Mapping[tuple[str, str], int] = field(default_factory=dict)


@dataclass(frozen=True)
class Cut:
    """The time cut: events emerging before `period` tune, the rest check."""

    period: str
    index: int

    def side_of(self, period: str, periods: Sequence[str]) -> str:
        return "tuning" if periods.index(period) < self.index else "check"


@dataclass(frozen=True)
class EventOutcome:
    term: str
    role: str
    series: str
    emergence_period: str | None
    first_flag_period: str | None
    lead_periods: int | None
    item_id: str | None
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
        raise InputError(
            f"{location}: field 'role': expected event | negative_control, got {role!r}"
        )
    regex = _text(location, entry, "regex")
    try:
        re.compile(regex, re.IGNORECASE)
    except re.error as error:
        raise InputError(f"{location}: field 'regex': {error}") from None
    if _text(location, entry, "period_granularity") not in GRANULARITIES:
        raise InputError(
            f"{location}: field 'period_granularity': expected one of "
            f"{', '.join(GRANULARITIES)}, got {entry['period_granularity']!r}"
        )
    return Event(
        corpus=_text(location, entry, "corpus"),
        series=str(entry.get("series") or ""),
        term=_text(location, entry, "term"),
        regex=regex,
        role=role,
        emergence_period=_period(location, entry, "emergence_period", granularity),
        series_start=_period(location, entry, "series_start", granularity),
        warmup_periods=int(entry.get("min_baseline_periods") or 3),
    )


def _period(
    location: str, entry: Mapping[str, Any], name: str, granularity: Granularity
) -> str | None:
    value = entry.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(f"{location}: field '{name}': expected a period label, got {value!r}")
    try:
        return normalise_period(value, granularity)
    except InputError:
        raise InputError(
            f"{location}: field '{name}': expected 2024-05-06, 2024-W19, 2024-05, "
            f"2024-Q2 or 2024, got {value!r}"
        ) from None


def usable_granularities(granularity: Granularity) -> tuple[str, ...]:
    """Event granularities that re-bucket soundly into `granularity` (it and finer ones)."""
    return GRANULARITIES[: GRANULARITIES.index(granularity) + 1]


def parse_budget(text: str | Iterable[int]) -> tuple[int, ...]:
    """`3,5,10` as (3, 5, 10): positive integers, sorted, repeats dropped; else InputError."""
    parts = [p.strip() for p in text.split(",")] if isinstance(text, str) else list(text)
    try:
        values = [int(p) for p in parts]
    except (TypeError, ValueError):
        values = []
    if not parts or len(values) != len(parts) or any(v < 1 for v in values):
        raise InputError(
            f"--budget: expected positive whole numbers of flags per period "
            f"separated by commas (e.g. 3,5,10), got {text!r}"
        )
    return tuple(sorted(set(values)))


def choose_cut(periods: Sequence[str], cut: str | None) -> Cut:
    """The given cut, or the period at CUT_SHARE of the span; InputError if outside the span."""
    if cut is None:
        index = int(CUT_SHARE * len(periods))
        return Cut(periods[min(index, len(periods) - 1)], min(index, len(periods) - 1))
    try:
        label = normalise_period(cut, granularity_of(periods[0]))
    except InputError:
        label = None
    if label is None or label not in periods:
        raise InputError(
            f"--cut: expected a period from {periods[0]} to {periods[-1]} "
            f"(the corpus's span), got {cut!r}"
        )
    return Cut(label, list(periods).index(label))


def matches_rule(texts: Sequence[str], pattern: re.Pattern[str]) -> bool:
    """At least max(3, 20%) of the documents match."""
    hits = sum(1 for text in texts if pattern.search(text))
    return hits >= MIN_MATCHES and hits >= MIN_MATCH_SHARE * len(texts)


def top_k(ranked: RankedLists, k: int) -> list[RankedItem]:
    """The flags at budget k: the first k items of each period's list, nothing else."""
    return [item for period in ranked for item in list(ranked[period])[:k]]


def first_scored_period(event: Event, periods: Sequence[str]) -> str | None:
    """Where scoring starts: the series start, then the oracle's own baseline (warm-up)."""
    candidates = [
        p
        for p in periods
        if event.series_start is None or periods_between(event.series_start, p) >= 0
    ]
    return candidates[event.warmup_periods] if len(candidates) > event.warmup_periods else None


def evaluate_event(
    event: Event,
    flagged: Sequence[RankedItem],
    periods: Sequence[str],
    until: int | None = None,
    hits: Callable[[RankedItem], bool] | None = None,
) -> EventOutcome:
    """Apply the detection rule from the first scored period on (and before index `until`)."""
    start = first_scored_period(event, periods)
    pattern = event.pattern()
    matched = hits or (lambda item: matches_rule(item.texts, pattern))
    position = {p: i for i, p in enumerate(periods)}
    hit: RankedItem | None = None
    if start is not None:
        begin, end = position[start], len(periods) if until is None else until
        ordered = sorted(
            (f for f in flagged if begin <= position[f.period] < end),
            key=lambda f: (position[f.period], f.item_id),
        )
        hit = next((f for f in ordered if matched(f)), None)
    lead = (
        periods_between(hit.period, event.emergence_period)
        if hit and event.emergence_period
        else None
    )
    return EventOutcome(
        term=event.term,
        role=event.role,
        series=event.series,
        emergence_period=event.emergence_period,
        first_flag_period=hit.period if hit else None,
        lead_periods=lead,
        item_id=hit.item_id if hit else None,
        detected=hit is not None,
    )


class Scorer:
    """Scores any selection of flags on one history, cut and event list.

    Which item matches which event is computed once (every item's texts against every regex),
    so the 20 random draws and the baselines cost a lookup each.
    """

    def __init__(
        self,
        history: History,
        events: Sequence[Event],
        cut: Cut,
        extra_items: Iterable[RankedItem] = (),
    ) -> None:
        self.history, self.events, self.cut = history, tuple(events), cut
        self.periods = history.periods
        patterns = [e.pattern() for e in self.events]
        self._matches: dict[tuple[str, str, str], frozenset[int]] = {}
        self.counts: dict[tuple[str, str], int] = {}
        for item in (*history.items, *extra_items):
            key = (item.period, item.kind, item.item_id)
            if key not in self._matches:
                self._matches[key] = frozenset(
                    i for i, p in enumerate(patterns) if matches_rule(item.texts, p)
                )
                self.counts.setdefault((item.period, item.item_id), item.n_docs)
        self.counts.update(history.series)

    def _hits(self, index: int) -> Callable[[RankedItem], bool]:
        def hit(item: RankedItem) -> bool:
            key = (item.period, item.kind, item.item_id)
            found = self._matches.get(key)
            if found is None:
                return matches_rule(item.texts, self.events[index].pattern())
            return index in found

        return hit

    def outcomes(self, flags: Sequence[RankedItem]) -> list[EventOutcome]:
        """Each event's outcome over the whole history (for the per-event table)."""
        return [
            evaluate_event(e, flags, self.periods, hits=self._hits(i))
            for i, e in enumerate(self.events)
        ]

    def side_of_event(self, event: Event) -> str | None:
        if not event.emergence_period or event.emergence_period not in self.periods:
            return None
        return self.cut.side_of(event.emergence_period, self.periods)

    def figures(self, flags: Sequence[RankedItem], k: int | None) -> dict[str, dict[str, Any]]:
        """The figures of one selection on each side of the cut.

        Tuning sees only periods before the cut (its events' detections, its controls' false
        alarms and its precision horizon stop there), so a default chosen on tuning figures never
        saw the check side. Check events may be detected before the cut (an early detection is
        earned from the past); check controls and check precision count flags from the cut on.
        """
        result: dict[str, dict[str, Any]] = {}
        for side in SIDES:
            lo, hi = (
                (0, self.cut.index) if side == "tuning" else (self.cut.index, len(self.periods))
            )
            outcomes = []
            for i, event in enumerate(self.events):
                if event.role == "event" and self.side_of_event(event) != side:
                    continue
                window = (
                    [f for f in flags if self.periods.index(f.period) >= lo]
                    if event.role == "negative_control"
                    else list(flags)
                )
                outcomes.append(
                    evaluate_event(event, window, self.periods, until=hi, hits=self._hits(i))
                )
            side_flags = [f for f in flags if lo <= self.periods.index(f.period) < hi]
            result[side] = summarise(
                outcomes, self._precision(side_flags, k, hi), side_flags, hi - lo
            )
        return result

    def _precision(self, flags: Sequence[RankedItem], k: int | None, end: int) -> float | None:
        return precision_at_k(self.periods, self.history.period_docs, self.counts, flags, k, end)


def share_trend(
    periods: Sequence[str],
    period_docs: Mapping[str, int],
    counts: Mapping[tuple[str, str], int],
    period: str,
    item_id: str,
    end: int | None = None,
) -> tuple[float, float] | None:
    """Item's share of documents over the previous and the next HORIZON periods.

    None when there is no next period before `end` (the item's future is not yet known).
    """
    index = periods.index(period)
    stop = len(periods) if end is None else end
    before = periods[max(0, index - HORIZON) : index]
    after = periods[index + 1 : min(index + 1 + HORIZON, stop)]
    if not after or not before:
        return None

    def share(window: Sequence[str]) -> float:
        total = sum(period_docs.get(p, 0) for p in window)
        return sum(counts.get((p, item_id), 0) for p in window) / total if total else 0.0

    return share(before), share(after)


def precision_at_k(
    periods: Sequence[str],
    period_docs: Mapping[str, int],
    counts: Mapping[tuple[str, str], int],
    flags: Sequence[RankedItem],
    k: int | None,
    end: int | None = None,
) -> float | None:
    """Mean over periods of the share of the period's flags whose share at least doubles.

    A flag counts when its document share over the next HORIZON periods is above 0 and at least
    twice that over the previous HORIZON. Flags are taken as given (already the top k); `k` only
    caps them. Periods with no flag, the first period and the last have no value.
    """
    by_period: dict[str, list[RankedItem]] = {}
    for flag in flags:
        by_period.setdefault(flag.period, []).append(flag)
    per_period: list[float] = []
    for period, group in by_period.items():
        trends = [
            share_trend(periods, period_docs, counts, period, f.item_id, end)
            for f in (group if k is None else group[:k])
        ]
        known = [t for t in trends if t is not None]
        if known:
            per_period.append(
                sum(after > 0 and after >= 2 * before for before, after in known) / len(known)
            )
    return round(statistics.fmean(per_period), 4) if per_period else None


def summarise(
    outcomes: Sequence[EventOutcome],
    precision: float | None,
    flags: Sequence[RankedItem],
    n_periods: int,
) -> dict[str, Any]:
    """One side's figures for one selection of flags."""
    scored = [o for o in outcomes if o.role == "event" and o.emergence_period]
    leads = [o.lead_periods for o in scored if o.lead_periods is not None]
    return {
        "events_scored": len(scored),
        "recall_within_1": _ratio(sum(lead >= -1 for lead in leads), len(scored)),
        "recall": _ratio(sum(o.detected for o in scored), len(scored)),
        "median_lead_periods": statistics.median(leads) if leads else None,
        "controls": sum(o.role == "negative_control" for o in outcomes),
        "false_alarm_controls": sum(o.detected for o in outcomes if o.role == "negative_control"),
        "precision_at_k": precision,
        "flags_per_period": round(len(flags) / n_periods, 2) if n_periods else None,
    }


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def by_period(items: Iterable[RankedItem]) -> dict[str, list[RankedItem]]:
    grouped: dict[str, list[RankedItem]] = {}
    for item in items:
        grouped.setdefault(item.period, []).append(item)
    return grouped


def biggest(history: History) -> dict[str, list[RankedItem]]:
    """Each period's topics, largest first."""
    return {
        p: sorted(g, key=lambda i: (-i.n_docs, i.item_id))
        for p, g in by_period(history.items).items()
    }


def newest(history: History) -> dict[str, list[RankedItem]]:
    """Each period's topics, youngest first (born latest), then largest."""
    position = {p: i for i, p in enumerate(history.periods)}

    def age(item: RankedItem) -> int:
        born = item.born_period if item.born_period in position else item.period
        return -position[born]

    return {
        p: sorted(g, key=lambda i: (age(i), -i.n_docs, i.item_id))
        for p, g in by_period(history.items).items()
    }


def shuffled(history: History, seed: int) -> dict[str, list[RankedItem]]:
    """Each period's topics in a seeded random order (the same seed, the same order)."""
    rng = random.Random(seed)
    result = {}
    for period, group in sorted(
        by_period(history.items).items(), key=lambda pair: history.periods.index(pair[0])
    ):
        ordered = sorted(group, key=lambda i: i.item_id)
        rng.shuffle(ordered)
        result[period] = ordered
    return result


def mean_figures(draws: Sequence[dict[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """Figure by figure, the mean over draws of what is not None (None if none is)."""
    result: dict[str, dict[str, Any]] = {}
    for side in draws[0]:
        result[side] = {}
        for name in draws[0][side]:
            if name in ("events_scored", "controls"):  # the same in every draw
                result[side][name] = draws[0][side][name]
                continue
            values = [d[side][name] for d in draws if d[side][name] is not None]
            result[side][name] = round(statistics.fmean(values), 4) if values else None
    return result


def score_budgets(
    history: History,
    ranked: RankedLists,
    events: Sequence[Event],
    budgets: Sequence[int],
    cut: Cut,
    draws: int = RANDOM_DRAWS,
    term_lists: Mapping[str, RankedLists] | None = None,
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Per k: the detector's figures beside the four topic baselines and any term baselines
    (`term_lists`, name -> ranked lists; their document series belong in `history.series`),
    on each side of the cut.

    Returns ({k: {side: {system: figures}}}, {k: [EventOutcome of the detector]}).
    """
    extra = dict(term_lists or {})
    scorer = Scorer(
        history,
        events,
        cut,
        [i for lists in (ranked, *extra.values()) for g in lists.values() for i in g],
    )
    lists = {"biggest": biggest(history), "newest": newest(history), **extra}
    random_lists = [shuffled(history, seed) for seed in range(draws)]
    everything = list(history.items)
    every = scorer.figures(everything, None)
    figures: dict[str, Any] = {}
    outcomes: dict[str, list[Any]] = {}
    for k in budgets:
        ours = top_k(ranked, k)
        systems = {
            "detector": scorer.figures(ours, k),
            **{name: scorer.figures(top_k(lst, k), k) for name, lst in lists.items()},
            "random": mean_figures([scorer.figures(top_k(lst, k), k) for lst in random_lists]),
            "all_topics": every,
        }
        figures[str(k)] = {
            side: {name: systems[name][side] for name in (*SYSTEMS, *extra)} for side in SIDES
        }
        outcomes[str(k)] = scorer.outcomes(ours)
    return figures, outcomes


def headline(figures: Mapping[str, Any], k: int = HEADLINE_K) -> dict[str, Any]:
    """Recall within one period at k (or the largest k given) for the detector and biggest@k."""
    key = str(k) if str(k) in figures else max(figures, key=int)
    return {
        "k": int(key),
        "figure": "recall_within_1",
        **{
            side: {
                name: figures[key][side][name]["recall_within_1"]
                for name in ("detector", "biggest", "random")
            }
            for side in SIDES
        },
    }
