"""Which periods a run processes: closed ones not processed yet, and stale ones again.

A period is processed only once it has ended (UTC) plus a grace for late publication, so a
weekly job never freezes a week on its first few hours. A processed period whose document
count changed since (late documents) is stale: it and every later period of the granularity
are processed again, oldest first, because each period's topics start from the one before.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from pipeline.periods import Granularity, is_closed, period_of, period_range, period_start


@dataclass(frozen=True)
class PeriodPlan:
    """What a run will do to one granularity's history, and why."""

    pending: tuple[str, ...]  # to process now, oldest first (reprocessed ones included)
    rewind: tuple[str, ...]  # processed periods to forget before processing (stale and later)
    stale: dict[str, tuple[int, int]]  # period -> (documents when processed, documents now)
    waiting: dict[str, int]  # open periods -> documents they hold so far

    @property
    def reprocess(self) -> tuple[str, ...]:
        """Periods processed before that this run processes again."""
        return tuple(p for p in self.pending if p in set(self.rewind))


def plan_periods(per_day: dict[date, int], processed: dict[str, int], granularity: Granularity,
                 now: datetime, grace: timedelta, reprocess_from: str | None = None) -> PeriodPlan:
    """The plan from documents per day and processed periods with their counts (oldest first)."""
    counts: Counter[str] = Counter()
    for day, n in per_day.items():
        counts[period_of(day, granularity)] += n
    labels = (period_range(period_of(min(per_day), granularity),
                           period_of(max(per_day), granularity)) if per_day else [])
    closed = [label for label in labels if is_closed(label, now, grace)]
    waiting = {label: counts[label] for label in labels if label not in set(closed)}
    stale = {p: (n, counts[p]) for p, n in processed.items()
             if counts[p] != n or not is_closed(p, now, grace)}
    last_done = max(map(period_start, processed), default=None)
    # A closed period with no row before the latest processed one (a new earliest week, say)
    # breaks the chain just as late documents do.
    gaps = [label for label in closed if label not in processed
            and last_done is not None and period_start(label) < last_done]
    starts = [*stale, *gaps, *([reprocess_from] if reprocess_from else [])]
    first = min(map(period_start, starts), default=None)
    rewind = tuple(p for p in processed if first is not None and period_start(p) >= first)
    pending = tuple(label for label in closed if label not in processed or label in rewind)
    return PeriodPlan(pending, rewind, stale, waiting)
