"""The care given: group tracks and their timetables, the IOP's stays and exits, step-down, readmission and the waitlist's rules."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import (
    Field,
    field_validator,
    model_validator,
)

from simulation import clock
from simulation.config.base import Hours, Name, Share, Weekday, _check_sum_to_one, _Model
from simulation.config.calendar import Shift, roster_intervals
from simulation.distributions import Distribution


class GroupType(_Model):
    """The kind of group a track runs on some of its days, with its own maximum size (e.g.
    psychoeducation for up to 16, process groups for up to 10)."""

    name: Name
    days: list[Weekday] = Field(min_length=1)
    max_size: int = Field(ge=1, le=1000)


class Track(_Model):
    """A timetabled group programme: the same sessions every week for its enrolled clients."""

    name: Name
    days: list[Weekday] = Field(min_length=1)
    start: str
    session_hours: Hours
    seats: int = Field(ge=1, le=1000)
    facilitators: int = Field(default=1, ge=0, le=20)
    facilitator_pools: list[Name] = []
    room: Name | None = None
    # the site it meets at (sites); None: network-wide (any site's clients may join)
    site: Name | None = None
    admission: Literal["rolling", "cohort", "immediate"] = "rolling"
    cohort_every_weeks: int = Field(default=4, ge=1, le=52)
    # the first cohort's week (from the run's first week): a run from a state starts its next
    # cohort when the clinic's would (iopsim fit reads it from the records' cohort starts)
    cohort_first_week: int = Field(default=0, ge=0, le=51)
    grace_minutes: int = Field(
        default=15, ge=0, le=120
    )  # wait this long for a stand-in, then cancel
    age_group: Literal["adult", "adolescent"] = "adult"
    # group rules: below min_attendance a session joins another track's session of the same
    # age group at the same time (if the room holds all), else it is cancelled; with
    # clients_per_facilitator, more attendees need more facilitators (found as stand-ins)
    min_attendance: int = Field(default=0, ge=0, le=1000)
    clients_per_facilitator: int | None = Field(default=None, ge=1, le=1000)
    # "virtual": groups by video, no room; attendance x virtual_attendance_multiplier and the
    # stays of its clients x virtual_stay_multiplier (virtual vs in-person PHP: attendance
    # 89.5% vs 84.5%, stays 13.5 vs 8.5 days [S] PubMed 33989463; set your own for an IOP)
    # "hybrid": in a room with some clients joining by video (each client's way is drawn at
    # their start: by video with hybrid_video_share); the room need seat only those in person
    # (seats x (1 - hybrid_video_share), rounded up); the video clients get the multipliers
    modality: Literal["in_person", "virtual", "hybrid"] = "in_person"
    virtual_attendance_multiplier: Annotated[float, Field(gt=0, le=3, allow_inf_nan=False)] = 1.06
    virtual_stay_multiplier: Annotated[float, Field(gt=0, le=3, allow_inf_nan=False)] = 1.0
    hybrid_video_share: Share = 0.5
    # school holidays (calendar.school_holidays): the track may meet on other days and at
    # another time, e.g. an adolescent track after school in term and mornings in holidays
    holiday_days: list[Weekday] | None = None
    holiday_start: str | None = None
    # a track alternating kinds of group: on a type's days at most max_size attend (those
    # beyond it, last enrolled first, are turned away from that session)
    group_types: list[GroupType] = []
    # when the track's clients can come to appointments: "always" (default), "around_groups"
    # (their group days, from 2 h before a session to 2 h after it: for clients at school or
    # work) or a list of shifts
    client_hours: Literal["always", "around_groups"] | list[Shift] = "always"
    # sessions of another length on some days (Tue 5 h, Wed 3 h, Fri 5 h): weekday -> hours
    session_hours_by_day: dict[Weekday, Hours] = {}
    # optional sessions: on these of its days, only a share of the track's clients take part
    # (each client's choice drawn at their start: optional_share)
    optional_days: list[Weekday] = []
    optional_share: Share = 0.5

    def hours_on(self, offset: float) -> float:
        """The length of the track's session that starts ``offset`` hours after Monday 00:00."""
        return self.session_hours_by_day.get(
            clock.WEEKDAYS[int(offset // 24) % 7], self.session_hours
        )

    def is_optional(self, offset: float) -> bool:
        """Whether the session that starts ``offset`` hours after Monday 00:00 is optional."""
        return clock.WEEKDAYS[int(offset // 24) % 7] in self.optional_days

    def weekly_hours(self, with_optional: bool = True) -> float:
        """Hours of groups a week on the term timetable (optional sessions too, unless not)."""
        return sum(
            self.hours_on(o)
            for o in self.session_offsets()
            if with_optional or not self.is_optional(o)
        )

    def client_intervals(self) -> list[tuple[float, float]]:
        """When its clients can come to appointments: hour-of-week intervals."""
        if self.client_hours == "always":
            return [(0.0, clock.HOURS_PER_WEEK)]
        if self.client_hours == "around_groups":
            out = []
            for offset in self.session_offsets():
                day = (offset // 24) * 24
                out.append(
                    (max(day, offset - 2.0), min(day + 24, offset + self.hours_on(offset) + 2.0))
                )
            return out
        return roster_intervals(self.client_hours)

    @property
    def room_seats_needed(self) -> int:
        """Seats the track's room must have: all of them, or those in person when hybrid."""
        if self.modality == "hybrid":
            return max(1, math.ceil(self.seats * (1 - self.hybrid_video_share) - 1e-9))
        return self.seats

    @field_validator("start", "holiday_start")
    @classmethod
    def _is_clock(cls, value: str | None) -> str | None:
        if value is not None:
            clock.parse_clock(value)
        return value

    @field_validator("days", "holiday_days")
    @classmethod
    def _unique_days(cls, days: list[str] | None) -> list[str] | None:
        if days is not None and len(set(days)) != len(days):
            raise ValueError(f"a weekday is listed twice in {days}")
        if days is not None and not days:
            raise ValueError("give at least one day")
        return days

    @model_validator(mode="after")
    def _cohort_phase(self):
        if self.cohort_first_week >= self.cohort_every_weeks:
            raise ValueError(
                f"cohort_first_week = {self.cohort_first_week}: must be under cohort_every_weeks "
                f"({self.cohort_every_weeks}), a week of the first cycle"
            )
        return self

    @model_validator(mode="after")
    def _group_type_days(self):
        meets = set(self.days) | set(self.holiday_days or [])
        seen: dict[str, str] = {}
        for group_type in self.group_types:
            for day in group_type.days:
                if day not in meets:
                    raise ValueError(
                        f"group type '{group_type.name}' is on {day}, when the track does not meet"
                    )
                if day in seen:
                    raise ValueError(
                        f"{day} has two group types: '{seen[day]}' and '{group_type.name}'"
                    )
                seen[day] = group_type.name
        return self

    def max_size_on(self, weekday: int) -> int | None:
        """The most who may attend a session on this weekday (0 = Monday), if a type says."""
        name = clock.WEEKDAYS[weekday]
        return next((g.max_size for g in self.group_types if name in g.days), None)

    @property
    def has_holiday_timetable(self) -> bool:
        return self.holiday_days is not None or self.holiday_start is not None

    @model_validator(mode="after")
    def _within_day(self):
        longest = max([self.session_hours, *self.session_hours_by_day.values()])
        for start in (self.start, self.holiday_start or self.start):
            if clock.parse_clock(start) + longest > 24:
                raise ValueError(f"a session starting {start} for {longest:g} h runs past midnight")
        meets = set(self.days) | set(self.holiday_days or [])
        for field_name, days in (
            ("session_hours_by_day", self.session_hours_by_day),
            ("optional_days", self.optional_days),
        ):
            other = sorted(set(days) - meets, key=clock.WEEKDAYS.index)
            if other:
                raise ValueError(
                    f"{field_name} names {', '.join(other)}, on which the track does not meet "
                    f"(its days: {', '.join(self.days)})"
                )
        if set(self.optional_days) >= set(self.days):
            raise ValueError("optional_days: at least one of the track's days must not be optional")
        return self

    def session_offsets(self, holiday: bool = False) -> list[float]:
        """Start times of the week's sessions, hours after Monday 00:00, in time order (in a
        school-holiday week: the holiday timetable, where the track has one)."""
        days = (self.holiday_days or self.days) if holiday else self.days
        start = clock.parse_clock((self.holiday_start or self.start) if holiday else self.start)
        return sorted(clock.WEEKDAYS.index(d) * clock.HOURS_PER_DAY + start for d in days)

    @property
    def hours_rule(self) -> float:
        """Weekly hours a client of this track must attend: 9 for adults, 6 for adolescents (ASAM 2.1)."""
        return 9.0 if self.age_group == "adult" else 6.0


ExitReason = Literal["completed", "dropped_out", "escalated", "other"]


EXIT_REASONS: tuple[str, ...] = ("completed", "dropped_out", "escalated", "other")


DISCHARGE_REASONS: tuple[str, ...] = (*EXIT_REASONS, "authorisation_ended")
"""How IOP stays end: the reasons drawn at admission, and a payer's refusal of an extension
at a utilisation review (an outcome of the stay, never drawn)."""


class ExitShares(_Model):
    """Shares of IOP discharges by reason (drawn at admission)."""

    completed: Share
    dropped_out: Share
    escalated: Share
    other: Share

    @model_validator(mode="after")
    def _shares(self):
        _check_sum_to_one(self.model_dump(), "iop.exit_shares")
        return self


class LengthOfStay(_Model):
    """Days in IOP for each exit reason."""

    completed: Distribution
    dropped_out: Distribution
    escalated: Distribution
    other: Distribution


class Iop(_Model):
    """The IOP itself: exits, attendance, and the individual care around the groups."""

    exit_shares: ExitShares
    length_of_stay_days: LengthOfStay
    # a level of care (levels) that clients leaving as escalated step up to; None: they leave
    # the model (to care it does not hold)
    escalate_to: Name | None = None
    # with no place free there: "stay" (still in the IOP, attended, holding the seat until the
    # place is theirs) or "wait_outside" (leave the IOP and wait outside care)
    escalate_when_full: Literal["stay", "wait_outside"] = "stay"
    attendance: Share = 0.82
    dropout_after_missed_sessions: int | None = Field(default=None, ge=1, le=100)
    # a cancellation list for individual sessions: a slot freed by a client who left offered
    # to this week's clients of that therapist whose session found no slot
    cancellation_list: bool = False
    # per-client attendance: each client's own chance of coming, drawn from a beta
    # distribution with mean `attendance` and this sd between clients (None or 0: all alike)
    attendance_sd: Annotated[float, Field(ge=0, lt=0.5, allow_inf_nan=False)] | None = None
    # after each missed group session, the chance the client drops out then (None: off)
    dropout_per_missed_session: Share | None = None
    therapist_pools: list[Name] = []
    individual_sessions_per_week: int = Field(default=1, ge=0, le=7)
    individual_session_hours: Hours = 0.83
    # share of individual and medication sessions held by video (they need no office)
    virtual_appointment_share: Share = 0.0
    medication_share: Share = 0.6
    prescriber_pools: list[Name] = []
    # the psychiatric evaluation of clients needing medication (their first medication visit):
    # before the first IOP day (admission waits for a prescriber), else soon after it; the
    # share evaluated within evaluation_within_days of starting is a KPI
    evaluation_before_start: bool = False
    evaluation_within_days: int = Field(default=14, ge=1, le=365)
    medication_first_hours: Hours = 1.0
    medication_review_hours: Hours = 0.42
    medication_interval_weeks: int = Field(default=2, ge=1, le=52)
    family_session_interval_weeks: int = Field(default=4, ge=0, le=52)
    family_session_hours: Hours = 1.0

    @field_validator("attendance_sd")
    @classmethod
    def _no_spread(cls, sd: float | None) -> float | None:
        """An sd of 0 is clients all alike: as if none were given (so attendance may be 1)."""
        return None if sd == 0 else sd


def attendance_beta(mean: float, sd: float) -> tuple[float, float]:
    """The beta distribution's (a, b) with this mean and sd between clients."""
    concentration = mean * (1 - mean) / sd**2 - 1
    return mean * concentration, (1 - mean) * concentration


class StepDown(_Model):
    """Step-down to standard outpatient care after completing the IOP."""

    share: Share = 0.8
    pools: list[Name] = []
    sessions_per_week: int = Field(default=1, ge=0, le=7)
    session_hours: Hours = 0.83
    duration_weeks: Distribution = 8.0
    blocking: bool = True


class ReadmissionShares(_Model):
    """The share of clients referred again after each kind of IOP discharge (0: none)."""

    completed: Share = 0.0
    dropped_out: Share = 0.0
    escalated: Share = 0.0
    other: Share = 0.0
    # a stay ended by a payer's refused extension (None: the share of the reason drawn at
    # admission, as if the stay had ended as planned)
    authorisation_ended: Share | None = None

    def any(self) -> bool:
        """Whether any discharge leads to a re-referral."""
        return any(v for v in self.model_dump().values())

    def share_for(self, reason: str, planned: str) -> float:
        """The share for a discharge ``reason`` (``planned``: the reason drawn at admission)."""
        if reason == "authorisation_ended":
            ended = self.authorisation_ended
            return getattr(self, planned) if ended is None else ended
        return getattr(self, reason)


class Readmission(_Model):
    """Clients discharged from the IOP (by exit reason) who are referred again, after a delay,
    through a referral source (default: their own)."""

    share: ReadmissionShares = Field(default_factory=lambda: ReadmissionShares())
    delay_days: Distribution = Field(default_factory=lambda: {"dist": "exponential", "mean": 120.0})
    source: Name | None = None


class Waitlist(_Model):
    """Waitlist rules: patience for the IOP waitlist and maximum lengths (None: unlimited)."""

    iop_patience_days: Distribution | None = None
    iop_max_length: int | None = Field(default=None, ge=0)
    intake_max_length: int | None = Field(default=None, ge=0)
