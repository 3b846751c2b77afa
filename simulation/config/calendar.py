"""When the clinic works: shifts and rosters (weekly hours), closure periods, bank and school holidays."""

from __future__ import annotations

import datetime as dt
import math
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from simulation import clock
from simulation.config.base import Name, NonNegative, Weekday, _Model


class Shift(_Model):
    """Working hours on some weekdays, e.g. ``{days = ["mon", "tue"], start = "09:00", end = "17:00"}``."""

    days: list[Weekday] = Field(min_length=1)
    start: str
    end: str

    @field_validator("start", "end")
    @classmethod
    def _is_clock(cls, value: str) -> str:
        clock.parse_clock(value)
        return value

    @model_validator(mode="after")
    def _ordered(self):
        if clock.parse_clock(self.end) <= clock.parse_clock(self.start):
            raise ValueError(f"end ({self.end}) must be after start ({self.start})")
        return self


Roster = Literal["always"] | list[Shift]


class StaffShift(Shift):
    """A member of staff's working hours, with the site they work at then (with [[sites]]:
    none is the pool's site, or any) and the minutes at its start spent getting there from
    the site before (paid, and never booked)."""

    site: Name | None = None
    travel_minutes: NonNegative = 0.0

    @model_validator(mode="after")
    def _travel_within(self):
        hours = clock.parse_clock(self.end) - clock.parse_clock(self.start)
        if self.travel_minutes >= hours * 60:
            raise ValueError(
                f"travel_minutes: {self.travel_minutes:g} leaves no time of the shift "
                f"({self.start}-{self.end}) to work"
            )
        return self


StaffRoster = Literal["always"] | list[StaffShift]

STAFF_WEEKDAYS_9_TO_5 = [
    StaffShift(days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00")
]


def site_hours(roster: StaffRoster) -> dict[str | None, list[tuple[float, float]]]:
    """A staff roster's weekly working hours by the site they are at (None: no site given),
    travel at each shift's start left out."""
    out: dict[str | None, list[tuple[float, float]]] = {}
    if roster == "always":
        return {None: [(0.0, clock.HOURS_PER_WEEK)]}
    for shift in roster:
        start, end = clock.parse_clock(shift.start), clock.parse_clock(shift.end)
        for day in shift.days:
            offset = clock.WEEKDAYS.index(day) * clock.HOURS_PER_DAY
            begin = offset + start + getattr(shift, "travel_minutes", 0.0) / 60.0
            out.setdefault(getattr(shift, "site", None), []).append((begin, offset + end))
    return {site: sorted(hours) for site, hours in out.items()}


def travel_hours(roster: StaffRoster) -> list[tuple[float, float]]:
    """The weekly hours a roster spends travelling between sites (at shifts' starts)."""
    if roster == "always":
        return []
    out = []
    for shift in roster:
        minutes = getattr(shift, "travel_minutes", 0.0)
        if minutes > 0:
            start = clock.parse_clock(shift.start)
            for day in shift.days:
                offset = clock.WEEKDAYS.index(day) * clock.HOURS_PER_DAY + start
                out.append((offset, offset + minutes / 60.0))
    return sorted(out)


def roster_intervals(roster: Roster) -> list[tuple[float, float]]:
    """A roster as merged, sorted (start, end) hour-of-week intervals."""
    if roster == "always":
        return [(0.0, clock.HOURS_PER_WEEK)]
    raw = []
    for shift in roster:
        start, end = clock.parse_clock(shift.start), clock.parse_clock(shift.end)
        for day in shift.days:
            offset = clock.WEEKDAYS.index(day) * clock.HOURS_PER_DAY
            raw.append((offset + start, offset + end))
    merged: list[tuple[float, float]] = []
    for start, end in sorted(raw):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def longest_shift(roster: Roster, within: Roster | None = None) -> float:
    """The longest stretch of a roster without a break, in hours, inside the hours ``within``
    when given (an office's opening hours); a stretch ending at midnight Sunday runs on into
    Monday's, and a roster that never stops gives inf."""
    intervals = roster_intervals(roster)
    if within is not None:
        other = roster_intervals(within)
        intervals = [
            (max(s, s2), min(e, e2))
            for s, e in intervals
            for s2, e2 in other
            if max(s, s2) < min(e, e2)
        ]
    if not intervals:
        return 0.0
    lengths = [end - start for start, end in intervals]
    (first, _), (_, last) = intervals[0], intervals[-1]
    if first <= 0.0 and last >= clock.HOURS_PER_WEEK:
        if len(intervals) == 1:
            return math.inf
        lengths.append(lengths[0] + lengths[-1])
    return max(lengths)


WEEKDAYS_9_TO_5 = [Shift(days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00")]


DateField = Annotated[dt.date, Field(strict=False)]  # a date, or ISO text (manifest.json)


class ClosurePeriod(_Model):
    """Days the clinic is closed, from ``from_date`` to ``to_date`` inclusive."""

    from_date: DateField
    to_date: DateField

    @model_validator(mode="after")
    def _ordered(self):
        if self.to_date < self.from_date:
            raise ValueError(f"to_date ({self.to_date}) is before from_date ({self.from_date})")
        return self


class Calendar(_Model):
    """Closed days: a public-holiday set ("us": the 11 federal holidays as observed; "none"),
    single dates and closure periods. On a closed day nobody works and no group runs."""

    holidays: Literal["none", "us"] = "none"
    closed_dates: list[DateField] = []
    closure_weeks: list[ClosurePeriod] = []
    # school holidays (the clinic stays open): a week whose Wednesday falls in one is a
    # holiday week, when tracks with a holiday timetable use it and referrals follow
    # referrals.school_holiday_multiplier
    school_holidays: list[ClosurePeriod] = []
