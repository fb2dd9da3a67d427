from datetime import date

import pytest

from pipeline.errors import InputError
from pipeline.periods import (
    granularity_of,
    next_period,
    normalise_period,
    period_of,
    period_range,
    period_start,
    periods_between,
)


@pytest.mark.parametrize(
    ("granularity", "label"),
    [
        ("day", "2024-05-06"),
        ("week", "2024-W19"),
        ("month", "2024-05"),
        ("quarter", "2024-Q2"),
        ("year", "2024"),
    ],
)
def test_labels_of_a_day(granularity, label):
    assert period_of(date(2024, 5, 6), granularity) == label
    assert granularity_of(label) == granularity
    assert period_start(label) <= date(2024, 5, 6)


def test_iso_week_at_year_boundary():
    assert period_of(date(2021, 1, 1), "week") == "2020-W53"
    assert next_period("2020-W53") == "2021-W01"


def test_events_notation_is_normalised():
    assert normalise_period("2020Q1") == "2020-Q1"
    assert normalise_period("2020-w5") == "2020-W05"
    assert normalise_period("2020-03-15", "month") == "2020-03"


def test_ranges_and_distances():
    assert period_range("2023-11", "2024-02") == ["2023-11", "2023-12", "2024-01", "2024-02"]
    assert periods_between("2019-Q4", "2020-Q2") == 2
    assert periods_between("2018", "2020") == 2


def test_bad_label_names_the_formats():
    with pytest.raises(InputError, match="expected 2024-05-06, 2024-W19"):
        period_start("May 2024")


# The Period value: properties over every granularity.

from datetime import timedelta  # noqa: E402

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.periods import GRANULARITIES, Period  # noqa: E402

days = st.dates(min_value=date(1900, 1, 8), max_value=date(2200, 12, 24))
granularities = st.sampled_from(GRANULARITIES)
periods = st.builds(Period.of, days, granularities)


@given(periods)
def test_a_label_parses_back_to_its_period(period):
    assert Period.parse(str(period)) == period
    assert str(period) == period.label == period_of(period.start, period.granularity)


@given(periods)
def test_next_starts_the_day_after_the_last_day(period):
    after = period.next()
    assert after.start == period.end == period.last_day + timedelta(days=1)
    assert after.previous() == period and after.steps_after(period) == 1
    assert (
        period.start <= period.last_day and Period.of(period.last_day, period.granularity) == period
    )


@given(days, granularities)
def test_a_day_lies_in_its_period(day, granularity):
    period = Period.of(day, granularity)
    assert period.start <= day < period.end


@given(st.lists(periods, min_size=2, max_size=6), granularities)
def test_order_is_the_order_of_start_dates(items, granularity):
    same = [Period.of(p.start, granularity) for p in items]
    assert [p.start for p in sorted(same)] == sorted(p.start for p in same)
    assert [p.start for p in sorted(items)] == sorted(p.start for p in items)


@given(periods, st.integers(0, 30))
def test_until_counts_the_steps(period, steps):
    last = period
    for _ in range(steps):
        last = last.next()
    span = period.until(last)
    assert len(span) == steps + 1 and span == sorted(span) and span[-1] == last
    assert last.steps_after(period) == steps
    assert periods_between(str(period), str(last)) == steps


def test_a_period_is_built_from_its_first_day_only():
    with pytest.raises(ValueError, match="does not start a week"):
        Period("week", date(2024, 5, 8))
    assert Period.parse("2020-03-15", "month") == Period("month", date(2020, 3, 1))


@pytest.mark.parametrize("label", ["2020-13", "2020-02-30", "2021-W53"])
def test_impossible_labels_are_one_line_input_errors(label):
    with pytest.raises(InputError, match=f"period: no such period '{label}'"):
        Period.parse(label)
