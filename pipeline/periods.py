"""Periods: `2024-05-06` day, `2024-W19` ISO week, `2024-05`, `2024-Q2`, `2024`.

A label is parsed once into a `Period` (its granularity and first day); the engine passes that
value around, and the label (`str(period)`) is what DuckDB stores. The label functions below
the class are kept for callers that hold a label from the command line or a table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import total_ordering
from typing import Literal, get_args

from pipeline.errors import InputError

Granularity = Literal["day", "week", "month", "quarter", "year"]
GRANULARITIES: tuple[str, ...] = get_args(Granularity)

_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")
_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_SHAPES = "expected 2024-05-06, 2024-W19, 2024-05, 2024-Q2 or 2024"


def check_granularity(value: str) -> Granularity:
    """Validate a user's granularity word."""
    if value not in GRANULARITIES:
        raise InputError(f"granularity: expected one of {', '.join(GRANULARITIES)}, got {value!r}")
    return value  # type: ignore[return-value]


@total_ordering
@dataclass(frozen=True)
class Period:
    """One calendar period: its granularity and first day.

    Ordered by first day (a shorter period first when two start together). `end` is
    exclusive, the first day after the period (it closes at 00:00 UTC of that day), so
    `p.next().start == p.end`; `last_day` is the inclusive one. Build it with `parse` or
    `of`; the constructor only accepts a first day of that granularity.
    """

    granularity: Granularity
    start: date

    def __post_init__(self) -> None:
        check_granularity(self.granularity)
        if _start_of(_index(self.start, self.granularity), self.granularity) != self.start:
            raise ValueError(f"{self.start} does not start a {self.granularity}")

    @classmethod
    def parse(cls, label: str, granularity: Granularity | None = None) -> Period:
        """The period a label names; with `granularity`, the one of that size containing its
        first day (`2020-03-15` as a month is `2020-03`). A bad label is an InputError."""
        written, start = _parse(label)
        return cls.of(start, granularity) if granularity else cls(written, start)

    @classmethod
    def of(cls, day: date, granularity: Granularity) -> Period:
        """The period of this granularity that contains `day`."""
        return cls(granularity, _start_of(_index(day, granularity), granularity))

    @property
    def label(self) -> str:
        """The canonical label, as stored in the tables."""
        day, granularity = self.start, self.granularity
        if granularity == "day":
            return day.isoformat()
        if granularity == "week":
            return f"{day.isocalendar()[0]}-W{day.isocalendar()[1]:02d}"
        if granularity == "month":
            return f"{day.year}-{day.month:02d}"
        if granularity == "quarter":
            return f"{day.year}-Q{(day.month - 1) // 3 + 1}"
        return f"{day.year}"

    def __str__(self) -> str:
        return self.label

    @property
    def index(self) -> int:
        """Consecutive periods of one granularity have consecutive indices."""
        return _index(self.start, self.granularity)

    def shifted(self, steps: int) -> Period:
        """The period `steps` periods later (earlier when negative), same granularity."""
        return Period(self.granularity, _start_of(self.index + steps, self.granularity))

    def next(self) -> Period:
        return self.shifted(1)

    def previous(self) -> Period:
        return self.shifted(-1)

    @property
    def end(self) -> date:
        """The first day after the period (exclusive end)."""
        return _start_of(self.index + 1, self.granularity)

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    def steps_after(self, earlier: Period) -> int:
        """How many periods this one comes after `earlier` (same granularity)."""
        if earlier.granularity != self.granularity:
            raise ValueError(f"{earlier} and {self} are of different granularities")
        return self.index - earlier.index

    def until(self, last: Period) -> list[Period]:
        """This period and every one after it up to `last`, inclusive, in order."""
        if last.granularity != self.granularity or last < self:
            raise InputError(f"period range: {self.label!r} is after {last.label!r}")
        return [
            Period(self.granularity, _start_of(i, self.granularity))
            for i in range(self.index, last.index + 1)
        ]

    def closes_at(self, grace: timedelta) -> datetime:
        """When it may be processed: its end in UTC plus the grace for late publication."""
        return datetime.combine(self.end, time(), tzinfo=UTC) + grace

    def is_closed(self, now: datetime, grace: timedelta) -> bool:
        """Whether the period has ended, grace included, at `now` (an aware datetime)."""
        return self.closes_at(grace) <= now

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Period):
            return NotImplemented
        return (self.start, self.end) < (other.start, other.end)


def _index(day: date, granularity: Granularity) -> int:
    if granularity == "day":
        return day.toordinal()
    if granularity == "week":
        return (day.toordinal() - 1) // 7  # ordinal 1, 0001-01-01, is a Monday
    if granularity == "month":
        return day.year * 12 + day.month - 1
    if granularity == "quarter":
        return day.year * 4 + (day.month - 1) // 3
    return day.year


def _start_of(index: int, granularity: Granularity) -> date:
    if granularity == "day":
        return date.fromordinal(index)
    if granularity == "week":
        return date.fromordinal(index * 7 + 1)
    if granularity == "month":
        return date(index // 12, index % 12 + 1, 1)
    if granularity == "quarter":
        return date(index // 4, 3 * (index % 4) + 1, 1)
    return date(index, 1, 1)


def _parse(label: str) -> tuple[Granularity, date]:
    """Granularity and first day of a label; a well-formed but impossible one is an error."""
    try:
        return _match(label)
    except ValueError as error:  # 2020-13, 2020-02-30, 2021-W53: the right shape, no such day
        raise InputError(f"period: no such period {label!r} ({error})") from None


def _match(label: str) -> tuple[Granularity, date]:
    if m := _DAY.match(label):
        return "day", date(int(m[1]), int(m[2]), int(m[3]))
    if m := _WEEK.match(label):
        return "week", date.fromisocalendar(int(m[1]), int(m[2]), 1)
    if m := _QUARTER.match(label):
        return "quarter", date(int(m[1]), 3 * int(m[2]) - 2, 1)
    if m := _MONTH.match(label):
        return "month", date(int(m[1]), int(m[2]), 1)
    if m := _YEAR.match(label):
        return "year", date(int(m[1]), 1, 1)
    raise InputError(f"period: {_SHAPES}, got {label!r}")


# Label functions, for callers holding a label (command line, tables, event files).


def period_of(day: date, granularity: Granularity) -> str:
    """Label of the period that contains `day`."""
    return Period.of(day, granularity).label


def period_start(label: str) -> date:
    """First day of a labelled period; a well-formed but impossible label is an InputError."""
    return Period.parse(label).start


def granularity_of(label: str) -> Granularity:
    """Which granularity a label is written in."""
    return Period.parse(label).granularity


def normalise_period(label: str, granularity: Granularity | None = None) -> str:
    """Rewrite a label in canonical form (`2020Q1` -> `2020-Q1`), optionally re-bucketed."""
    return Period.parse(label.strip(), granularity).label


def next_period(label: str) -> str:
    """The label of the period right after `label`, at the same granularity."""
    return Period.parse(label).next().label


def period_range(first: str, last: str) -> list[str]:
    """Every period label from `first` to `last`, inclusive, in order."""
    return [p.label for p in Period.parse(first).until(Period.parse(last))]


def periods_between(earlier: str, later: str) -> int:
    """How many periods `later` is after `earlier` (counted in `earlier`'s granularity)."""
    start = Period.parse(earlier)
    return Period.parse(later, start.granularity).steps_after(start)


def period_end(label: str) -> date:
    """The first day after a labelled period (periods end at 00:00 UTC of that day)."""
    return Period.parse(label).end


def closes_at(label: str, grace: timedelta) -> datetime:
    """When a period may be processed: its end in UTC plus the grace for late publication."""
    return Period.parse(label).closes_at(grace)


def is_closed(label: str, now: datetime, grace: timedelta) -> bool:
    """Whether the period has ended, grace included, at `now` (an aware datetime)."""
    return Period.parse(label).is_closed(now, grace)
