"""Clinic time.

The simulation clock counts hours from Monday 00:00 of week 0. Week 0 is the week that
contains the scenario's start date, so weekdays, clock times and weeks are plain arithmetic
and reports can still show real calendar dates.
"""

from __future__ import annotations

import datetime as dt

HOURS_PER_DAY = 24.0
HOURS_PER_WEEK = 168.0
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def week_of(t: float) -> int:
    """The week number (0-based) that simulation hour ``t`` falls in."""
    return int(t // HOURS_PER_WEEK)


def day_of(t: float) -> int:
    """The day number (0-based, counted from Monday of week 0) of hour ``t``."""
    return int(t // HOURS_PER_DAY)


def weekday_of(t: float) -> int:
    """Weekday of hour ``t``: 0 is Monday, 6 is Sunday."""
    return day_of(t) % 7


def hour_of_week(t: float) -> float:
    """Hours since the Monday 00:00 before ``t``."""
    return t % HOURS_PER_WEEK


def parse_clock(text: str) -> float:
    """'HH:MM' to hours after midnight; '24:00' is allowed as an end of day."""
    try:
        hh, mm = text.strip().split(":")
        hours, minutes = int(hh), int(mm)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a time of day; use HH:MM, e.g. 09:30") from exc
    if not (0 <= minutes < 60 and 0 <= hours <= 24) or (hours == 24 and minutes):
        raise ValueError(f"'{text}' is not a time of day between 00:00 and 24:00")
    return hours + minutes / 60.0


def format_clock(hours: float) -> str:
    """Hours after midnight to 'HH:MM'."""
    total = round(hours * 60)
    return f"{total // 60:02d}:{total % 60:02d}"


def week_zero_monday(start_date: dt.date) -> dt.date:
    """The Monday on or before ``start_date``: simulation hour 0 is its midnight."""
    return start_date - dt.timedelta(days=start_date.weekday())


def to_datetime(t: float, start_date: dt.date) -> dt.datetime:
    """Simulation hour ``t`` as a calendar datetime."""
    monday = week_zero_monday(start_date)
    return dt.datetime.combine(monday, dt.time()) + dt.timedelta(hours=float(t))


def month_of(t: float, start_date: dt.date) -> int:
    """Calendar month (1-12) of simulation hour ``t``."""
    return to_datetime(t, start_date).month
