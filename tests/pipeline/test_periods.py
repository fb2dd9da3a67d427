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
    [("day", "2024-05-06"), ("week", "2024-W19"), ("month", "2024-05"),
     ("quarter", "2024-Q2"), ("year", "2024")],
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
