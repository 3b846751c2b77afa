import numpy as np
import pytest

from simulation.model.staff import Person, subtract

WEEKDAYS_9_TO_5 = [(d * 24 + 9, d * 24 + 17) for d in range(5)]


def person(**kw):
    return Person(
        name="Ana",
        pool="therapists",
        role="therapist",
        roster=kw.pop("roster", WEEKDAYS_9_TO_5),
        **kw,
    )


def test_subtract_removes_blocked_time():
    assert subtract([(0, 10)], [(2, 3), (5, 7)]) == [(0, 2), (3, 5), (7, 10)]
    assert subtract([(0, 10)], [(0, 10)]) == []


def test_first_slot_is_in_rostered_hours():
    p = person()
    assert p.find_slot(0.0, 1.0, 168.0) == 9.0  # Monday 09:00
    assert p.find_slot(16.5, 1.0, 168.0) == 24 + 9  # too late on Monday: Tuesday 09:00
    assert p.find_slot(0.0, 9.0, 168.0) is None  # longer than any shift


def test_booking_never_overlaps():
    p = person()
    starts = []
    for _ in range(40):  # exactly 40 rostered hours in the week
        start = p.find_slot(0.0, 1.0, 168.0)
        p.book(start, 1.0)
        starts.append(start)
    assert p.find_slot(0.0, 1.0, 168.0) is None
    assert len(set(starts)) == 40


def test_groups_and_leave_are_not_bookable():
    p = person(leave_days={1})  # away on Tuesday of week 0
    p.fixed.append((9.0, 12.0))  # facilitates a Monday group
    assert p.find_slot(0.0, 1.0, 168.0) == 12.0
    assert p.find_slot(24.0, 1.0, 168.0) == 48 + 9  # Tuesday is leave
    assert list(p.available_hours(2)) == [
        32.0,
        40.0,
    ]  # leave reduces available hours; groups do not


def test_release_gives_the_slot_back():
    p = person()
    p.book(9.0, 1.0)
    assert p.find_slot(0.0, 1.0, 168.0) == 10.0
    p.release(9.0, 1.0)
    assert p.find_slot(0.0, 1.0, 168.0) == 9.0
    assert p.is_free(9.0, 17.0)  # merged back into one free block


def test_round_the_clock_free_time_runs_across_week_ends():
    p = person(roster=[(0.0, 168.0)])
    start = p.find_slot(167.0, 2.0, 400.0)
    assert start == 167.0  # a 2-hour booking may span Sunday midnight
    p.book(start, 2.0)
    assert p.find_slot(167.0, 1.0, 400.0) == 169.0


@pytest.mark.parametrize("seed", range(5))
def test_random_bookings_and_releases_keep_the_diary_consistent(seed):
    rng = np.random.default_rng(seed)
    p = person()
    booked: list[tuple[float, float]] = []
    for _ in range(200):
        if booked and rng.random() < 0.3:
            s, h = booked.pop(rng.integers(len(booked)))
            p.release(s, h)
            continue
        hours = float(rng.choice([0.5, 0.83, 1.0, 1.5]))
        start = p.find_slot(float(rng.uniform(0, 300)), hours, 400.0)
        if start is not None:
            p.book(start, hours)
            booked.append((start, hours))
    ordered = sorted(booked)
    for (s1, h1), (s2, _) in zip(ordered, ordered[1:], strict=False):
        assert s1 + h1 <= s2 + 1e-9  # no two bookings overlap
    for s, h in booked:
        day_start = (s // 24) * 24
        assert day_start + 9 - 1e-9 <= s and s + h <= day_start + 17 + 1e-9  # inside a shift


def test_the_first_rostered_slot_ignores_bookings_and_leave_but_not_groups_or_posts():
    """What an empty diary would offer: the roster less the weekly groups, in a week in post;
    neither bookings nor leave move it (they are what a queue is made of)."""
    p = person(leave_days={0})
    p.fixed.append((24 + 9.0, 24 + 12.0))  # a Tuesday morning group every week
    p.book(24 + 12.0, 5.0)  # Tuesday afternoon booked
    assert p.first_rostered(0.0, 1.5, 168.0) == 9.0  # Monday, though on leave
    assert p.first_rostered(16.0, 1.5, 168.0) == 24 + 12.0  # not inside the group
    assert p.first_rostered(4 * 24 + 16.0, 1.5, 2 * 168.0) == 168 + 9.0  # next Monday
    assert p.first_rostered(4 * 24 + 16.0, 1.5, 168.0) == np.inf  # none by then
    assert p.first_rostered(0.0, 9.0, 168.0) == np.inf  # longer than any shift
    p.first_week, p.gone_week = 2, 3
    assert p.first_rostered(0.0, 1.0, 10 * 168.0) == 2 * 168 + 9.0  # from the week they join
    assert p.first_rostered(3 * 168.0, 1.0, 10 * 168.0) == np.inf  # gone


def test_the_first_rostered_slot_of_a_team_is_the_earliest_of_its_members():
    """A team's first rostered slot is its members' earliest, whoever shares a roster: people
    alike in usual week and weeks in post are asked once, the others each."""
    from simulation import config as scenarios
    from simulation.compiled import compile_scenario
    from simulation.model.staff import Staff, alike
    from simulation.streams import Streams

    staff = Staff(compile_scenario(scenarios.load(scenarios.bundled("baseline"))), Streams(7, 0))

    rng = np.random.default_rng(7)
    team = []
    for k in range(12):
        day = int(rng.integers(0, 5))
        p = person(roster=[(day * 24 + 9, day * 24 + 17)] if k % 3 else WEEKDAYS_9_TO_5)
        p.name = f"P{k}"
        p.first_week = int(rng.integers(0, 3))
        if k % 4 == 0:
            p.fixed.append((day * 24 + 9.0, day * 24 + 11.0))  # a group every week
        team.append(p)
    for earliest in rng.uniform(0, 4 * 168.0, 200):
        for hours in (1.0, 2.5, 7.0):
            each = min(p.first_rostered(earliest, hours, 6 * 168.0) for p in team)
            assert staff.first_rostered(team, earliest, hours, 6 * 168.0) == each
    assert len(alike(team)) < len(team)  # some share a roster
    pair = [person(), person()]
    pair[1].name, pair[1].first_week = "Bo", 3  # the same roster, joining later
    assert staff.first_rostered(pair, 0.0, 1.0, 10 * 168.0) == 9.0
    assert len(alike(pair)) == 2
    pair[0].gone_week = 0  # never in post: Bo's week counts
    assert Staff.first_rostered(staff, pair[::-1], 0.0, 1.0, 10 * 168.0) == 3 * 168 + 9.0
