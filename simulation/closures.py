"""The clinic calendar: days the clinic is closed (public holidays, closure weeks).

On a closed day nobody works (it is taken out of every diary, so no intake, appointment or
stand-in is booked then) and no group session runs; referrals still arrive (calls and
messages wait for the next open day).
"""

from __future__ import annotations

import datetime as dt

from simulation import clock


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    """The n-th (1-based; -1: last) given weekday (0 = Monday) of a month."""
    if n > 0:
        first = dt.date(year, month, 1)
        return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    last = dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: dt.date) -> dt.date:
    """A fixed-date holiday on a weekend is observed on the Friday before or Monday after."""
    if day.weekday() == 5:
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


def us_federal_holidays(year: int) -> list[dt.date]:
    """The 11 US federal holidays of a year as observed (5 U.S.C. 6103)."""
    return sorted(
        [
            _observed(dt.date(year, 1, 1)),
            _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
            _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
            _nth_weekday(year, 5, 0, -1),  # Memorial Day
            _observed(dt.date(year, 6, 19)),  # Juneteenth
            _observed(dt.date(year, 7, 4)),
            _nth_weekday(year, 9, 0, 1),  # Labor Day
            _nth_weekday(year, 10, 0, 2),  # Columbus Day
            _observed(dt.date(year, 11, 11)),  # Veterans Day
            _nth_weekday(year, 11, 3, 4),  # Thanksgiving
            _observed(dt.date(year, 12, 25)),
        ]
    )


HOLIDAY_SETS = {"us": us_federal_holidays}


def closed_days(scenario) -> set[int]:
    """Day numbers (0 = Monday of week 0) on which the clinic is closed during the run."""
    calendar = scenario.calendar
    monday = clock.week_zero_monday(scenario.start_date)
    last = monday + dt.timedelta(days=7 * scenario.total_weeks)
    dates: set[dt.date] = set(calendar.closed_dates)
    if calendar.holidays != "none":
        for year in range(monday.year, last.year + 1):
            dates.update(HOLIDAY_SETS[calendar.holidays](year))
    for period in calendar.closure_weeks:
        day = period.from_date
        while day <= period.to_date:
            dates.add(day)
            day += dt.timedelta(days=1)
    return {(d - monday).days for d in dates if monday <= d < last}


def site_closed_days(scenario) -> dict[str, set[int]]:
    """(a network) Day numbers each site is closed on, beyond the provider's calendar."""
    monday = clock.week_zero_monday(scenario.start_date)
    last = monday + dt.timedelta(days=7 * scenario.total_weeks)
    out = {}
    for site in scenario.sites:
        dates: set[dt.date] = set(site.closed_dates)
        for period in site.closure_weeks:
            day = period.from_date
            while day <= period.to_date:
                dates.add(day)
                day += dt.timedelta(days=1)
        days = {(d - monday).days for d in dates if monday <= d < last}
        if days:
            out[site.name] = days
    return out


def school_holiday_weeks(scenario) -> set[int]:
    """Weeks of the run (0 = week zero) that are school-holiday weeks: their Wednesday falls in
    one of ``calendar.school_holidays`` (a week is term or holiday as a whole)."""
    monday = clock.week_zero_monday(scenario.start_date)
    weeks = set()
    for week in range(scenario.total_weeks):
        wednesday = monday + dt.timedelta(days=7 * week + 2)
        if any(p.from_date <= wednesday <= p.to_date for p in scenario.calendar.school_holidays):
            weeks.add(week)
    return weeks
