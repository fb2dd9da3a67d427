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

from pipeline.periods import Granularity, Period


@dataclass(frozen=True)
class PeriodPlan:
    """What a run will do to one granularity's history, and why."""

    pending: tuple[Period, ...]  # to process now, oldest first (reprocessed ones included)
    rewind: tuple[Period, ...]  # processed periods to forget before processing (stale and later)
    stale: dict[Period, tuple[int, int]]  # period -> (documents when processed, documents now)
    waiting: dict[Period, int]  # open periods -> documents they hold so far

    @property
    def reprocess(self) -> tuple[Period, ...]:
        """Periods processed before that this run processes again."""
        return tuple(p for p in self.pending if p in set(self.rewind))


def plan_periods(
    per_day: dict[date, int],
    processed: dict[Period, int],
    granularity: Granularity,
    now: datetime,
    grace: timedelta,
    reprocess_from: Period | None = None,
) -> PeriodPlan:
    """The plan from documents per day and processed periods with their counts (oldest first)."""
    counts: Counter[Period] = Counter()
    for day, n in per_day.items():
        counts[Period.of(day, granularity)] += n
    periods = (
        Period.of(min(per_day), granularity).until(Period.of(max(per_day), granularity))
        if per_day
        else []
    )
    closed = [p for p in periods if p.is_closed(now, grace)]
    waiting = {p: counts[p] for p in periods if p not in set(closed)}
    stale = {
        p: (n, counts[p])
        for p, n in processed.items()
        if counts[p] != n or not p.is_closed(now, grace)
    }
    last_done = max(processed, default=None)
    # A closed period with no row before the latest processed one (a new earliest week, say)
    # breaks the chain just as late documents do.
    gaps = [p for p in closed if p not in processed and last_done is not None and p < last_done]
    first = min([*stale, *gaps, *([reprocess_from] if reprocess_from else [])], default=None)
    rewind = tuple(p for p in processed if first is not None and p >= first)
    pending = tuple(p for p in closed if p not in processed or p in rewind)
    return PeriodPlan(pending, rewind, stale, waiting)
