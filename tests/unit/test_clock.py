import datetime as dt

import pytest

from simulation import clock


@pytest.mark.parametrize(
    ("text", "hours"), [("00:00", 0.0), ("09:30", 9.5), ("17:45", 17.75), ("24:00", 24.0)]
)
def test_parse_clock(text, hours):
    assert clock.parse_clock(text) == hours
    if hours < 24:
        assert clock.format_clock(hours) == text


@pytest.mark.parametrize("text", ["9", "25:00", "12:60", "24:30", "noon", "-1:00"])
def test_parse_clock_refuses_non_times(text):
    with pytest.raises(ValueError, match="time of day"):
        clock.parse_clock(text)


def test_week_arithmetic():
    t = 2 * 168 + 3 * 24 + 10.5  # week 2, Thursday 10:30
    assert clock.week_of(t) == 2
    assert clock.weekday_of(t) == 3
    assert clock.hour_of_week(t) == 3 * 24 + 10.5
    assert clock.day_of(t) == 17


def test_week_zero_starts_on_the_monday_of_the_start_date():
    thursday = dt.date(2027, 1, 7)
    assert clock.week_zero_monday(thursday) == dt.date(2027, 1, 4)
    assert clock.to_datetime(24 * 3 + 9, thursday) == dt.datetime(2027, 1, 7, 9, 0)
    assert clock.month_of(0, dt.date(2027, 3, 31)) == 3
