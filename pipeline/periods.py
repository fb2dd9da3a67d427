"""Period labels: `2024-05-06` day, `2024-W19` ISO week, `2024-05`, `2024-Q2`, `2024`."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, get_args

from pipeline.errors import InputError

Granularity = Literal["day", "week", "month", "quarter", "year"]
GRANULARITIES: tuple[str, ...] = get_args(Granularity)

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def check_granularity(value: str) -> Granularity:
    """Validate a user's granularity word."""
    if value not in GRANULARITIES:
        raise InputError(
            f"granularity: expected one of {', '.join(GRANULARITIES)}, got {value!r}"
        )
    return value  # type: ignore[return-value]


def period_of(day: date, granularity: Granularity) -> str:
    """Label of the period that contains `day`."""
    if granularity == "day":
        return day.isoformat()
    if granularity == "week":
        iso_year, iso_week, _ = day.isocalendar()
        return f"{iso_year}-W{iso_week:02d}"
    if granularity == "month":
        return f"{day.year}-{day.month:02d}"
    if granularity == "quarter":
        return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
    return f"{day.year}"


def period_start(label: str) -> date:
    """First day of a labelled period; a well-formed but impossible label is an InputError."""
    try:
        return _start(label)
    except ValueError as error:  # 2020-13, 2020-02-30, 2021-W53: the right shape, no such day
        raise InputError(f"period: no such period {label!r} ({error})") from None


def _start(label: str) -> date:
    if m := _DAY.match(label):
        return date(int(m[1]), int(m[2]), int(m[3]))
    if m := _WEEK.match(label):
        return date.fromisocalendar(int(m[1]), int(m[2]), 1)
    if m := _QUARTER.match(label):
        return date(int(m[1]), 3 * int(m[2]) - 2, 1)
    if m := _MONTH.match(label):
        return date(int(m[1]), int(m[2]), 1)
    if m := _YEAR.match(label):
        return date(int(m[1]), 1, 1)
    raise InputError(
        f"period: expected 2024-05-06, 2024-W19, 2024-05, 2024-Q2 or 2024, got {label!r}"
    )


def granularity_of(label: str) -> Granularity:
    """Which granularity a label is written in."""
    period_start(label)
    if _DAY.match(label):
        return "day"
    if _WEEK.match(label):
        return "week"
    if _QUARTER.match(label):
        return "quarter"
    if _MONTH.match(label):
        return "month"
    return "year"


def normalise_period(label: str, granularity: Granularity | None = None) -> str:
    """Rewrite a label in canonical form (`2020Q1` -> `2020-Q1`), optionally re-bucketed."""
    text = label.strip()
    return period_of(period_start(text), granularity or granularity_of(text))


def next_period(label: str) -> str:
    """The label of the period right after `label`, at the same granularity."""
    granularity = granularity_of(label)
    start = period_start(label)
    step = {"day": 1, "week": 7, "month": 32, "quarter": 93, "year": 366}[granularity]
    return period_of(start + timedelta(days=step), granularity)


def period_range(first: str, last: str) -> list[str]:
    """Every period label from `first` to `last`, inclusive, in order."""
    labels = [first]
    while labels[-1] != last:
        if period_start(labels[-1]) > period_start(last):
            raise InputError(f"period range: {first!r} is after {last!r}")
        labels.append(next_period(labels[-1]))
    return labels


def periods_between(earlier: str, later: str) -> int:
    """How many periods `later` is after `earlier` (same granularity)."""
    granularity = granularity_of(earlier)
    a, b = period_start(earlier), period_start(later)
    if granularity == "day":
        return (b - a).days
    if granularity == "week":
        return (b - a).days // 7
    months = (b.year - a.year) * 12 + (b.month - a.month)
    if granularity == "month":
        return months
    if granularity == "quarter":
        return months // 3
    return b.year - a.year


def period_end(label: str) -> date:
    """The first day after a labelled period (periods end at 00:00 UTC of that day)."""
    return period_start(next_period(label))


def closes_at(label: str, grace: timedelta) -> datetime:
    """When a period may be processed: its end in UTC plus the grace for late publication."""
    return datetime.combine(period_end(label), time(), tzinfo=UTC) + grace


def is_closed(label: str, now: datetime, grace: timedelta) -> bool:
    """Whether the period has ended, grace included, at `now` (an aware datetime)."""
    return closes_at(label, grace) <= now
