"""What a weekly roster holds of appointments of a drawn length (``simulation.slots``)."""

from __future__ import annotations

import pytest

from simulation.distributions import Fixed, Triangular
from simulation.slots import roster_holds, shift_lengths


def fixed(hours: float) -> Fixed:
    return Fixed(dist="fixed", value=hours)


def test_a_shift_holds_whole_appointments_only():
    """A 4-hour shift holds two 1.5-hour appointments (75% of its hours), a 6-hour one four
    (all of them): hours / mean length would say 2.7 and 4."""
    four = roster_holds([4.0, 4.0], fixed(1.5))
    assert four.per_week == pytest.approx(4.0)
    assert four.filled_share == pytest.approx(0.75)
    assert (four.typical_shift, four.per_shift) == (4.0, pytest.approx(2.0))
    six = roster_holds([6.0], fixed(1.5))
    assert six.per_week == pytest.approx(4.0) and six.filled_share == pytest.approx(1.0)


def test_drawn_lengths_fill_the_ends_of_shifts_with_shorter_appointments():
    """Lengths of 1 to 2 hours (mean 1.5): a later, shorter appointment takes the end of a
    shift a longer one left, so a 4-hour shift holds more than two of them on average, but
    never more than its hours allow (and fewer than four, the most of the shortest)."""
    holds = roster_holds([4.0], Triangular(dist="triangular", low=1.0, mode=1.5, high=2.0))
    assert 2.0 < holds.per_week < 2.67
    assert 0.75 < holds.filled_share < 1.0


def test_the_estimate_is_the_same_every_time_and_touches_no_other_stream():
    length = Triangular(dist="triangular", low=1.0, mode=1.5, high=2.0)
    assert roster_holds([6.0, 4.0], length) == roster_holds([6.0, 4.0], length)


def test_indirect_hours_come_off_the_end_of_each_working_day():
    """Two hours of indirect time a week on a Monday and Thursday roster: an hour off the end
    of each day, as the diaries reserve them; a day's last stretch goes before an earlier one."""
    monday, thursday = (9.0, 15.0), (3 * 24 + 9.0, 3 * 24 + 15.0)
    assert shift_lengths([monday, thursday], 2.0) == [5.0, 5.0]
    split = [(9.0, 12.0), (13.0, 14.0)]  # a lunch break: the afternoon's hour goes first
    assert shift_lengths(split, 1.5) == [2.5]


def test_lengths_no_shift_can_hold_fill_nothing_and_the_estimate_ends():
    holds = roster_holds([4.0], fixed(5.0))
    assert (holds.per_week, holds.filled_share) == (0.0, 0.0)
