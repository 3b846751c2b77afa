"""Scenarios: what a clinic looks like, as validated, frozen data.

A scenario is written in TOML (see ``scenarios/baseline.toml``) and validated by the pydantic
models below, which refuse unknown keys so that a typo fails loudly. ``load(path)`` reads a
file, ``apply_overrides(scenario, ["staff.therapists.count=5"])`` changes values by dotted
path (list items addressed by their ``name``) and validates again. Every problem is reported
as a ``ScenarioError`` holding one line per problem: field path, value and what is allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
import re
import tomllib
import typing
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from simulation import clock
from simulation.distributions import Distribution
from simulation.kpis import (
    CASELOAD_PREFIX,
    GROUP_KINDS,
    KPIS,
    UTILISATION_PREFIX,
    describe,
    split_group,
)
from simulation.problems import ProblemsError

Share = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Hours = Annotated[float, Field(gt=0, le=24, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
SHARE_TOLERANCE = 1e-6


class _Model(BaseModel):
    # strict: a string is not a number ("8" is refused for seats), 1 is not true
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True, strict=True)


def _check_sum_to_one(values: dict[str, float] | list[float], what: str) -> None:
    total = sum(values.values() if isinstance(values, dict) else values)
    if not math.isclose(total, 1.0, abs_tol=SHARE_TOLERANCE):
        raise ValueError(f"{what} must sum to 1, they sum to {total:.6g}")


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


WEEKDAYS_9_TO_5 = [Shift(days=["mon", "tue", "wed", "thu", "fri"], start="09:00", end="17:00")]


class StepChange(_Model):
    """From week ``from_week`` on, referrals are multiplied by ``multiplier``."""

    from_week: int = Field(ge=0)
    multiplier: NonNegative


class Source(_Model):
    """Where referrals come from; a lower ``priority`` number is admitted first."""

    name: Name
    share: Share
    priority: int = Field(default=1, ge=0)
    age_group: Literal["adult", "adolescent"] = "adult"
    # its own monthly multipliers (Jan..Dec) instead of the referrals' (schools go quiet in
    # summer): with it, each source's referrals are drawn on their own
    seasonality: list[NonNegative] | None = Field(default=None, min_length=12, max_length=12)


class Referrals(_Model):
    """Referral arrivals: a Poisson process whose rate varies by weekday, month and step changes."""

    per_week: NonNegative
    weekday_shares: list[Share] = Field(default=[0.2] * 5 + [0.0, 0.0], min_length=7, max_length=7)
    hours: Shift | None = None  # arrival window within each day; default 09:00-17:00
    seasonality: list[NonNegative] = Field(default=[1.0] * 12, min_length=12, max_length=12)
    step_changes: list[StepChange] = []
    # a term pattern instead of the monthly seasonality: referrals in school-holiday weeks
    # (calendar.school_holidays) x this, in term weeks x 1
    school_holiday_multiplier: NonNegative | None = None
    sources: list[Source] = Field(default=[Source(name="community", share=1.0)], min_length=1)

    @model_validator(mode="after")
    def _shares(self):
        _check_sum_to_one(self.weekday_shares, "referrals.weekday_shares")
        _check_sum_to_one([s.share for s in self.sources], "the shares of referrals.sources")
        return self

    def arrival_window(self) -> tuple[float, float]:
        """(start, end) hours of the day within which referrals arrive."""
        if self.hours is None:
            return 9.0, 17.0
        return clock.parse_clock(self.hours.start), clock.parse_clock(self.hours.end)


class IntakeOutcomes(_Model):
    """What the assessment decides: IOP, a higher level of care, or outpatient care only."""

    iop: Share = 0.75
    higher_care: Share = 0.10
    outpatient: Share = 0.15

    @model_validator(mode="after")
    def _shares(self):
        _check_sum_to_one(self.model_dump(), "intake.outcomes")
        return self


class Intake(_Model):
    """Intake assessment, booked in an intake clinician's free rostered time."""

    enabled: bool = True
    assessment_hours: Distribution = 1.5
    pools: list[Name] = []
    booking_lead_days: NonNegative = 1.0
    lost_share: Share = 0.0
    patience_days: Distribution | None = None  # a client gives up if the appointment is later
    # a cancellation list: a slot freed by someone who gave up is offered to those booked
    # later (earliest booked first) who can come at this notice
    cancellation_list: bool = False
    cancellation_notice_hours: NonNegative = 24.0
    outcomes: IntakeOutcomes = IntakeOutcomes()


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
    admission: Literal["rolling", "cohort", "immediate"] = "rolling"
    cohort_every_weeks: int = Field(default=4, ge=1, le=52)
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


class Room(_Model):
    """A named group room."""

    name: Name
    seats: int = Field(ge=1, le=1000)
    available: Roster = [
        Shift(days=["mon", "tue", "wed", "thu", "fri"], start="08:00", end="21:00")
    ]


AppointmentKind = Literal["individual", "family", "medication", "intake", "outpatient"]
APPOINTMENT_KINDS: tuple[str, ...] = ("individual", "family", "medication", "intake", "outpatient")


class Office(_Model):
    """Offices for appointments: ``count`` alike rooms open ``available``. A session of a
    kind in ``used_for`` needs a free clinician AND a free office (without any office, or for
    a kind no office is used for, appointments need no room)."""

    name: Name
    count: int = Field(default=1, ge=1, le=200)
    available: Roster = [
        Shift(days=["mon", "tue", "wed", "thu", "fri"], start="08:00", end="21:00")
    ]
    used_for: list[AppointmentKind] = list(APPOINTMENT_KINDS)

    def units(self) -> list[str]:
        """The name of each office: the name itself for one, else 'name 1', 'name 2', ..."""
        return (
            [self.name] if self.count == 1 else [f"{self.name} {i + 1}" for i in range(self.count)]
        )


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
    attendance: Share = 0.82
    dropout_after_missed_sessions: int | None = Field(default=None, ge=1, le=100)
    # a cancellation list for individual sessions: a slot freed by a client who left offered
    # to this week's clients of that therapist whose session found no slot
    cancellation_list: bool = False
    # per-client attendance: each client's own chance of coming, drawn from a beta
    # distribution with mean `attendance` and this sd between clients (None: all alike)
    attendance_sd: Annotated[float, Field(gt=0, lt=0.5, allow_inf_nan=False)] | None = None
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


class StaffPool(_Model):
    """A group of interchangeable staff with one roster; give ``count`` or named ``members``."""

    role: Literal["therapist", "prescriber", "intake", "other"] = "therapist"
    count: int | None = Field(default=None, ge=0, le=1000)
    members: list[Name] | None = None
    roster: Roster = WEEKDAYS_9_TO_5
    absence_share: Annotated[float, Field(ge=0, le=0.9, allow_inf_nan=False)] = 0.0
    iop_caseload_cap: int = Field(default=0, ge=0, le=1000)
    op_caseload_cap: int = Field(default=0, ge=0, le=1000)
    # caps that scale with FTE instead: each member holds round(per_fte x their paid FTE)
    iop_caseload_per_fte: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None
    op_caseload_per_fte: Annotated[float, Field(ge=0, le=1000, allow_inf_nan=False)] | None = None
    # time beyond face-to-face work, taken from the roster so that booking sees less free time
    indirect_hours_per_week: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 0.0
    documentation_minutes_per_hour: Annotated[float, Field(ge=0, le=60, allow_inf_nan=False)] = 0.0
    # random turnover: each member leaves at this rate a year; the post stays empty for
    # time_to_fill_weeks (or an agency locum covers it at agency_cost_multiplier x the cost)
    annual_turnover: Annotated[float, Field(ge=0, le=5, allow_inf_nan=False)] = 0.0
    time_to_fill_weeks: Distribution = 12.0
    agency_cover: bool = False
    agency_cost_multiplier: Annotated[float, Field(ge=1, le=5, allow_inf_nan=False)] = 1.5
    annual_cost: NonNegative = 0.0
    # None: the rostered hours / finance.full_time_hours (cost follows the roster)
    fte: Annotated[float, Field(ge=0, le=2, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _count_or_members(self):
        if (self.count is None) == (self.members is None):
            raise ValueError("give either count or members, not both and not neither")
        for kind in ("iop", "op"):
            if getattr(self, f"{kind}_caseload_per_fte") is not None and getattr(
                self, f"{kind}_caseload_cap"
            ):
                raise ValueError(f"give {kind}_caseload_cap or {kind}_caseload_per_fte, not both")
        if self.members is not None and len(set(self.members)) != len(self.members):
            raise ValueError("members must have different names")
        return self

    def names(self, pool_name: str) -> list[str]:
        """Member names, or '<pool> 1', '<pool> 2', ... for a counted pool."""
        if self.members is not None:
            return list(self.members)
        return [f"{pool_name} {i + 1}" for i in range(self.count or 0)]

    @property
    def size(self) -> int:
        return len(self.members) if self.members is not None else int(self.count or 0)

    @property
    def rostered_hours(self) -> float:
        """Hours a week each member is rostered."""
        return sum(end - start for start, end in roster_intervals(self.roster))

    def paid_fte(self, full_time_hours: float) -> float:
        """Each member's paid full-time equivalent: ``fte`` if given, else from the roster."""
        return self.fte if self.fte is not None else self.rostered_hours / full_time_hours

    def caseload_caps(self, full_time_hours: float) -> tuple[int, int]:
        """Each member's IOP and outpatient caseload caps: as given, or per FTE x paid FTE."""
        fte = self.paid_fte(full_time_hours)

        def cap(fixed: int, per_fte: float | None) -> int:
            return fixed if per_fte is None else int(math.floor(per_fte * fte + 0.5))

        return (
            cap(self.iop_caseload_cap, self.iop_caseload_per_fte),
            cap(self.op_caseload_cap, self.op_caseload_per_fte),
        )


class BillableDay(_Model):
    """Which IOP client-days earn the per diem.

    ``requires``: "group" (default: a day with at least one attended group session) or
    "any_service" (a group or any attended individual, family or medication appointment).
    ``min_hours`` / ``min_services``: the day must also reach these attended hours / services
    (a service is an hour of group or one appointment), e.g. Medicare's 3 services or New York
    OASAS's 3 hours.
    """

    requires: Literal["group", "any_service"] = "group"
    min_hours: Annotated[float, Field(ge=0, le=24, allow_inf_nan=False)] = 0.0
    min_services: int = Field(default=0, ge=0, le=24)


class StaffChange(_Model):
    """A dated change of staffing: ``count`` people join or leave pool ``pool`` at the start of
    week ``week`` (leavers: the pool's last members by name)."""

    pool: Name
    week: int = Field(ge=0, le=1040)
    change: Literal["join", "leave"]
    count: int = Field(default=1, ge=1, le=100)


class Finance(_Model):
    """Money: per diem per billable IOP day, outpatient session rate, room cost."""

    iop_per_diem: NonNegative = 300.0
    iop_per_diem_4plus: NonNegative | None = None
    billable_day: BillableDay = BillableDay()
    op_session_rate: NonNegative = 120.0
    room_cost_per_week: NonNegative = 0.0
    full_time_hours: Annotated[float, Field(gt=0, le=80, allow_inf_nan=False)] = 40.0
    # fixed costs a month by item (programme director, nurse, front desk, billing, rent and
    # IT, ...): in the weekly cost and so the margin; plans may leave them out of their cost
    overhead_per_month: dict[Name, NonNegative] = {}
    overhead_in_plans: bool = True

    @property
    def overhead_per_week(self) -> float:
        return sum(self.overhead_per_month.values()) * 12 / 52


def payer_shares(payers: list, source) -> list[float]:
    """The chance of each payer (in the order given) for a referral from ``source``: the
    payer's share for that source, else for its age group, else its overall share."""
    return [
        p.shares_by_source.get(source.name, p.shares_by_age_group.get(source.age_group, p.share))
        for p in payers
    ]


def _payer_group_problems(payers: list, sources: list) -> list[str]:
    """Shares by age group or source that name no source, or that do not add up to 1."""
    problems = []
    names = {s.name for s in sources}
    for p in payers:
        for name in p.shares_by_source:
            if name not in names:
                problems.append(
                    f"payers.{p.name}.shares_by_source: '{name}' is not a referral source"
                    f"{_did_you_mean(name, sorted(names))}"
                )
    if not any(p.shares_by_source or p.shares_by_age_group for p in payers):
        return problems
    for source in sources:
        total = sum(payer_shares(payers, source))
        if abs(total - 1.0) > 1e-6:
            parts = ", ".join(
                f"{p.name} {x:g}" for p, x in zip(payers, payer_shares(payers, source), strict=True)
            )
            problems.append(
                f"payers: for referrals from '{source.name}' ({source.age_group}) the payers' "
                f"shares add up to {total:.4g}; they must add up to 1 ({parts}): give each "
                "payer a share in shares_by_source or shares_by_age_group"
            )
    return problems


class Payer(_Model):
    """Who pays for a share of the referrals, how much and by which rules: the IOP per diem
    for billable days (its own billable-day rule), the outpatient session rate, an
    authorisation delay before the first IOP day, utilisation review (days authorised, then
    extensions granted with a probability: a client refused one leaves at that review), the
    share of claims denied and the days to payment.

    ``share`` is the payer's share of all referrals; ``shares_by_age_group`` and
    ``shares_by_source`` replace it for referrals of that age group or source (a source's
    share first), so adolescents need not be drawn on Medicare. ``iop_per_diem_4plus`` pays
    days with 4 or more services (Medicare's second tier); ``telehealth_per_diem`` pays the IOP
    days of clients who join their groups by video (a virtual track, or a hybrid track's video
    clients)."""

    name: Name
    share: Share
    shares_by_age_group: dict[Literal["adult", "adolescent"], Share] = {}
    shares_by_source: dict[Name, Share] = {}
    iop_per_diem: NonNegative = 300.0
    iop_per_diem_4plus: NonNegative | None = None
    telehealth_per_diem: NonNegative | None = None
    # a physician (a prescriber) certifies the need for IOP before the first IOP day (Medicare)
    requires_certification: bool = False
    op_session_rate: NonNegative = 120.0
    billable_day: BillableDay = BillableDay()
    authorisation_days: Distribution | None = None
    authorised_days: int | None = Field(default=None, ge=1, le=1000)
    extension_days: int = Field(default=30, ge=1, le=1000)
    extension_probability: Share = 1.0
    denial_share: Share = 0.0
    days_to_payment: NonNegative = 30.0


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


class StateClient(_Model):
    """A client on the clinic's books on the state's date: where they are and since when."""

    stage: Literal["intake_waitlist", "iop_waitlist", "iop", "op"]
    since: DateField
    source: Name | None = None  # default: the first referral source
    track: Name | None = None  # in the IOP: their track (default: one for their age group)
    therapist: Name | None = None  # in the IOP: their primary therapist, if known
    # waiting for intake: the chance they are lost before assessment (iopsim fit writes the
    # share lost among past referrals not assessed as long after referral; default: the
    # scenario's intake.lost_share)
    lost_chance: float | None = Field(default=None, ge=0.0, le=1.0)


class State(_Model):
    """Where the clinic stands on ``as_of``: who waits, who is in care, since when. A run from
    a state needs no warm-up; clients in care get the rest of their stay given the time
    already spent."""

    as_of: DateField
    clients: list[StateClient] = []


def _a(noun: str) -> str:
    return ("an " if noun[0] in "aeiou" else "a ") + noun


_TARGET = re.compile(r"^\s*(<=|>=)\s*([-+]?[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*$")


def parse_target(text: str) -> tuple[str, float]:
    """'<= 14' -> ('<=', 14.0)."""
    match = _TARGET.match(text)
    if not match:
        raise ValueError(f"'{text}' is not a target; write '<= NUMBER' or '>= NUMBER'")
    return match.group(1), float(match.group(2))


class Scenario(_Model):
    """A whole clinic and how long to simulate it."""

    name: Name
    description: Annotated[str, Field(max_length=5000)] = ""
    # a date, or its ISO text (as a run folder's manifest.json stores it); bounded so that any
    # horizon (up to 20 years) ends on a real date
    start_date: Annotated[
        dt.date, Field(strict=False, ge=dt.date(1900, 1, 1), le=dt.date(2200, 12, 31))
    ] = dt.date(2027, 1, 4)
    horizon_weeks: int = Field(default=52, ge=1, le=1040)
    warmup_weeks: int = Field(default=12, ge=0, le=520)
    replications: int = Field(default=10, ge=1, le=10000)
    seed: int = Field(default=12345, ge=0, le=2**63 - 1)
    referrals: Referrals
    intake: Intake = Intake()
    tracks: list[Track] = Field(min_length=1)
    rooms: list[Room] = Field(min_length=1)
    offices: list[Office] = []  # rooms for appointments (none: appointments need no room)
    payers: list[Payer] = []  # none: one payer by the finance table's rates and rule
    iop: Iop
    step_down: StepDown = StepDown(share=0.0)
    waitlist: Waitlist = Waitlist()
    readmission: Readmission = Readmission()
    staff: dict[Name, StaffPool] = {}
    finance: Finance = Finance()
    targets: dict[str, str] = {}
    calendar: Calendar = Calendar()
    staff_changes: list[StaffChange] = []
    state: State | None = None
    # how far each uncertain input may be off: dotted key -> [low, high], "+-20%" or a
    # distribution (iopsim sensitivity, plan --robust); nothing here changes a run
    uncertainty: dict[str, list[float] | str | Distribution] = {}

    @field_validator("uncertainty", mode="before")
    @classmethod
    def _flatten_uncertainty(cls, value):
        """``[uncertainty] referrals.per_week = [6, 9]`` (a nested table in TOML) or
        ``"referrals.per_week" = [6, 9]``: both become the dotted key."""
        if not isinstance(value, dict):
            return value
        flat: dict = {}

        def walk(node: dict, prefix: str) -> None:
            for key, item in node.items():
                dotted = f"{prefix}{key}"
                if isinstance(item, dict) and "dist" not in item:
                    walk(item, dotted + ".")
                else:
                    flat[dotted] = item

        walk(value, "")
        return flat

    def _uncertainty_problems(self) -> list[str]:
        if not self.uncertainty:
            return []
        from simulation.uncertainty import range_problem

        data = self.model_dump(mode="python", exclude_none=True)
        found = [range_problem(key, spec, data) for key, spec in self.uncertainty.items()]
        return [p for p in found if p]

    @field_validator("targets")
    @classmethod
    def _targets(cls, targets: dict[str, str]) -> dict[str, str]:
        for kpi, text in targets.items():
            try:
                describe(kpi)
            except KeyError:
                base, group = split_group(kpi)
                if group is not None:
                    raise ValueError(
                        f"'{kpi}' is not a KPI: a group KPI is KPI[KIND=NAME] with KIND one of "
                        f"{', '.join(GROUP_KINDS)}, e.g. wait_to_iop_days_p90[age_group=adolescent]"
                    ) from None
                hint = _did_you_mean(kpi, list(KPIS))
                raise ValueError(f"'{kpi}' is not a KPI{hint}") from None
            parse_target(text)
        return targets

    @model_validator(mode="after")
    def _consistent(self):
        problems = self._name_problems() + self._uncertainty_problems()
        pools = list(self.staff)
        for field, names in [
            ("intake.pools", self.intake.pools),
            ("iop.therapist_pools", self.iop.therapist_pools),
            ("iop.prescriber_pools", self.iop.prescriber_pools),
            ("step_down.pools", self.step_down.pools),
            *[(f"tracks.{t.name}.facilitator_pools", t.facilitator_pools) for t in self.tracks],
        ]:
            for name in names:
                if name not in self.staff:
                    problems.append(
                        f"{field}: '{name}' is not a staff pool{_did_you_mean(name, pools)}"
                        f" (pools: {', '.join(pools) or 'none'})"
                    )
        rooms = {r.name: r for r in self.rooms}
        for track in self.tracks:
            if track.modality == "virtual":
                if track.room is not None:
                    problems.append(
                        f"tracks.{track.name}.room: a virtual track meets by video and takes no "
                        "room; leave room out"
                    )
                continue
            if track.room is not None:
                if track.room not in rooms:
                    problems.append(
                        f"tracks.{track.name}.room: '{track.room}' is not a room"
                        f"{_did_you_mean(track.room, list(rooms))}"
                    )
                elif rooms[track.room].seats < track.room_seats_needed:
                    in_person = " in person" if track.modality == "hybrid" else ""
                    problems.append(
                        f"tracks.{track.name}.seats: {track.room_seats_needed} seats{in_person} "
                        f"do not fit room '{track.room}' with {rooms[track.room].seats} seats"
                    )
            elif max(r.seats for r in self.rooms) < track.room_seats_needed:
                problems.append(
                    f"tracks.{track.name}.seats: no room has {track.room_seats_needed} seats "
                    f"(largest: {max(r.seats for r in self.rooms)})"
                )
            if track.facilitators > 0 and not track.facilitator_pools:
                problems.append(
                    f"tracks.{track.name}.facilitator_pools: the track needs "
                    f"{track.facilitators} facilitator(s) but names no pool to take them from"
                )
        iop = self.iop
        if iop.attendance_sd is not None and not (
            0 < iop.attendance < 1 and iop.attendance_sd**2 < iop.attendance * (1 - iop.attendance)
        ):
            problems.append(
                f"iop.attendance_sd = {iop.attendance_sd}: with attendance {iop.attendance} the "
                f"sd between clients must be under {math.sqrt(max(iop.attendance * (1 - iop.attendance), 0)):.3f} "
                "(and attendance strictly between 0 and 1)"
            )
        source = self.readmission.source
        if source is not None and source not in {s.name for s in self.referrals.sources}:
            names = [s.name for s in self.referrals.sources]
            problems.append(
                f"readmission.source: '{source}' is not a referral source"
                f"{_did_you_mean(source, names)}"
            )
        if self.payers:
            total = sum(p.share for p in self.payers)
            if abs(total - 1.0) > 1e-6:
                problems.append(
                    f"payers: the shares add up to {total:.4g}; they must add up to 1 "
                    f"({', '.join(f'{p.name} {p.share:g}' for p in self.payers)})"
                )
            problems += _payer_group_problems(self.payers, self.referrals.sources)
            names = [p.name for p in self.payers]
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                problems.append(f"payer names must be different; repeated: {', '.join(repeated)}")
        if not self.calendar.school_holidays:
            for track in self.tracks:
                if track.has_holiday_timetable:
                    problems.append(
                        f"tracks.{track.name}.holiday_days/holiday_start: a holiday timetable "
                        "needs calendar.school_holidays (the dates schools are out)"
                    )
            if self.referrals.school_holiday_multiplier is not None:
                problems.append(
                    "referrals.school_holiday_multiplier: needs calendar.school_holidays "
                    "(the dates schools are out)"
                )
        problems += self._unused_pool_problems()
        problems += self._state_problems()
        problems += self._staff_change_problems()
        problems += self._target_group_problems()
        if self.referrals.per_week > 0:
            problems += self._capacity_problems()
        if not any(p.startswith("tracks.") for p in problems):
            # Imported here: the timetable planner is model code that reads a scenario.
            from simulation.model.groups import TimetableError, plan_timetable

            try:
                plan_timetable(self)
            except TimetableError as exc:
                problems += str(exc).split("\n")  # every session that cannot run, at once
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def _name_problems(self) -> list[str]:
        """Names must be unique within and across kinds: tracks, rooms, staff pools and staff
        members share one namespace in the tables (a pool named like a room would mix hours)."""
        problems = []
        kinds = [
            ("track", [t.name for t in self.tracks]),
            ("room", [r.name for r in self.rooms]),
            ("office", [o.name for o in self.offices]),
            ("staff pool", list(self.staff)),
            ("staff member", [n for p, pool in self.staff.items() for n in pool.names(p)]),
        ]
        for what, names in kinds:
            repeated = sorted({n for n in names if names.count(n) > 1})
            if repeated:
                problems.append(f"{what} names must be different; repeated: {', '.join(repeated)}")
        owner: dict[str, str] = {}
        pool_of = {n: p for p, pool in self.staff.items() for n in pool.names(p)}
        for what, names in kinds:
            for name in dict.fromkeys(names):
                # a one-person pool may share its member's name
                own_pool = what == "staff member" and pool_of.get(name) == name
                if name in owner and owner[name] != what and not own_pool:
                    problems.append(
                        f"the name '{name}' is used by {_a(owner[name])} and {_a(what)}; "
                        "tracks, rooms, offices, staff pools and staff members need different names"
                    )
                owner.setdefault(name, what)
        return problems

    def _staff_change_problems(self) -> list[str]:
        """Changes name pools that exist, and never take a pool below nobody."""
        problems = []
        pools = list(self.staff)
        present = {p: pool.size for p, pool in self.staff.items()}
        for i, change in enumerate(sorted(self.staff_changes, key=lambda c: c.week)):
            where = f"staff_changes.{i}"
            if change.pool not in self.staff:
                problems.append(
                    f"{where}.pool: '{change.pool}' is not a staff pool{_did_you_mean(change.pool, pools)}"
                )
                continue
            present[change.pool] += change.count if change.change == "join" else -change.count
            if present[change.pool] < 0:
                problems.append(
                    f"{where}: {change.count} cannot leave {change.pool} in week {change.week}; "
                    "fewer are in post then"
                )
        return problems

    def _state_problems(self) -> list[str]:
        """A state must fall in the first week simulated and name what exists."""
        if self.state is None:
            return []
        problems = []
        monday = clock.week_zero_monday(self.start_date)
        if not monday <= self.state.as_of < monday + dt.timedelta(days=7):
            problems.append(
                f"state.as_of = {self.state.as_of}: must be in the first week simulated "
                f"(start_date {self.start_date}); set start_date to the state's date"
            )
        if self.warmup_weeks:
            problems.append(
                f"warmup_weeks = {self.warmup_weeks}: a run from a state starts where the clinic "
                "stands and needs no warm-up; set warmup_weeks = 0"
            )
        tracks = [t.name for t in self.tracks]
        sources = [s.name for s in self.referrals.sources]
        people = [n for p, pool in self.staff.items() for n in pool.names(p)]
        unknown: dict[tuple[str, str], list[int]] = {}  # (field, value) -> clients
        for i, c in enumerate(self.state.clients):
            where = f"state.clients.{i}"
            if c.since > self.state.as_of:
                problems.append(f"{where}.since = {c.since}: after state.as_of {self.state.as_of}")
            if c.track is not None and c.track not in tracks:
                unknown.setdefault(("track", c.track), []).append(i)
            if c.source is not None and c.source not in sources:
                unknown.setdefault(("source", c.source), []).append(i)
            if c.therapist is not None and c.therapist not in people:
                problems.append(f"{where}.therapist: '{c.therapist}' is not a member of staff")
        # one line per unknown name, however many clients carry it
        for (field, value), clients in unknown.items():
            names, what = (tracks, "track") if field == "track" else (sources, "referral source")
            problems.append(
                f"state.clients ({len(clients)} client(s), e.g. state.clients.{clients[0]}).{field}: "
                f"'{value}' is not a {what}{_did_you_mean(value, names)} ({what}s: "
                f"{', '.join(names)}); map the extract's names with [values.{field}]"
            )
        return problems

    def _unused_pool_problems(self) -> list[str]:
        """A pool that nothing refers to is almost always a misspelt name (a phantom pool)."""
        used = set(self.intake.pools + self.iop.therapist_pools + self.iop.prescriber_pools)
        used |= set(self.step_down.pools)
        for track in self.tracks:
            used |= set(track.facilitator_pools)
        problems = []
        for name in self.staff:
            if name not in used:
                hint = _did_you_mean(name, sorted(used))
                problems.append(
                    f"staff.{name}: no track, intake, therapist, prescriber or step-down list "
                    f"names this pool{hint}; name it in one (e.g. iop.therapist_pools) or remove it"
                )
        return problems

    def _target_group_problems(self) -> list[str]:
        """Targets about a group or a resource must name one that exists."""
        names = {
            "track": [t.name for t in self.tracks],
            "source": [s.name for s in self.referrals.sources],
            "age_group": ["adult", "adolescent"],
            "payer": [p.name for p in self.payers],
        }
        problems = []
        for kpi in self.targets:
            base, group = split_group(kpi)
            if group is not None:
                kind, _, who = group.partition("=")
                if who not in names[kind]:
                    problems.append(
                        f"targets.{kpi}: no {kind.replace('_', ' ')} '{who}'"
                        f"{_did_you_mean(who, names[kind])} ({', '.join(names[kind])})"
                    )
            for prefix, options in (
                (UTILISATION_PREFIX, [*self.staff, *(r.name for r in self.rooms)]),
                (CASELOAD_PREFIX, list(self.iop.therapist_pools)),
            ):
                if kpi.startswith(prefix) and kpi[len(prefix) :] not in options:
                    who = kpi[len(prefix) :]
                    problems.append(
                        f"targets.{kpi}: '{who}' is not one of {', '.join(options)}"
                        f"{_did_you_mean(who, options)}"
                    )
        return problems

    def _capacity_problems(self) -> list[str]:
        problems = []
        if self.intake.enabled and not any(
            self.staff[p].size > 0 for p in self.intake.pools if p in self.staff
        ):
            problems.append(
                "intake.pools: referrals arrive but no one can do intake assessments "
                "(name a staff pool with members, or set intake.enabled = false)"
            )
        if self.iop.therapist_pools and not any(
            self.staff[p].caseload_caps(self.finance.full_time_hours)[0] * self.staff[p].size > 0
            for p in self.iop.therapist_pools
            if p in self.staff
        ):
            problems.append(
                "iop.therapist_pools: referrals arrive but no therapist has IOP caseload room "
                "(iop_caseload_cap is 0 or the pools are empty)"
            )
        if self.step_down.share > 0 and not any(
            self.staff[p].caseload_caps(self.finance.full_time_hours)[1] * self.staff[p].size > 0
            for p in self.step_down.pools
            if p in self.staff
        ):
            problems.append(
                "step_down.pools: completers step down but no one has outpatient caseload room "
                "(set op_caseload_cap on a pool listed in step_down.pools, or step_down.share = 0)"
            )
        has_prescriber = any(
            self.staff[p].size > 0 for p in self.iop.prescriber_pools if p in self.staff
        )
        if self.iop.medication_share > 0 and self.iop.prescriber_pools and not has_prescriber:
            problems.append("iop.prescriber_pools: medication is needed but the pools are empty")
        gated = [
            f"payers.{p.name}.requires_certification"
            for p in self.payers
            if p.requires_certification
        ]
        if self.iop.evaluation_before_start:
            gated.append("iop.evaluation_before_start")
        if gated and not has_prescriber:
            problems.append(
                f"{', '.join(gated)}: an evaluation by a prescriber is required before the first "
                "IOP day, but iop.prescriber_pools has no one (name a prescriber pool with staff)"
            )
        return problems

    def people(self) -> list[tuple[str, str, int, int | None]]:
        """Everyone who works in the clinic during the run, as (name, pool, first week, week
        they leave or None): the pools' members, then joiners and leavers of staff_changes
        (joiners are named '<pool> joiner N'; leavers are a pool's last members by name)."""
        rows = {}
        for pool_name, pool in self.staff.items():
            for name in sorted(pool.names(pool_name)):
                rows[name] = [name, pool_name, 0, None]
        joined: dict[str, int] = {}
        for change in sorted(self.staff_changes, key=lambda c: (c.week, c.change, c.pool)):
            if change.change == "join":
                for _ in range(change.count):
                    joined[change.pool] = joined.get(change.pool, 0) + 1
                    name = f"{change.pool} joiner {joined[change.pool]}"
                    rows[name] = [name, change.pool, change.week, None]
            else:
                staying = sorted(
                    n
                    for n, (_, p, first, gone) in rows.items()
                    if p == change.pool and gone is None and first <= change.week
                )
                for name in staying[-change.count :]:
                    rows[name][3] = change.week
        return [tuple(r) for r in rows.values()]

    @property
    def total_weeks(self) -> int:
        """Weeks simulated: warm-up plus the reporting horizon."""
        return self.warmup_weeks + self.horizon_weeks

    def target_list(self) -> list[tuple[str, str, float]]:
        """Targets as (kpi, operator, bound)."""
        return [(kpi, *parse_target(text)) for kpi, text in self.targets.items()]


# ---------------------------------------------------------------------------------------------
# Errors people can read
# ---------------------------------------------------------------------------------------------


class ScenarioError(ProblemsError):
    """A scenario (file, override or flag) that cannot be used; ``problems`` has one line each."""

    what = "the scenario"


def _did_you_mean(word: str, options: list[str]) -> str:
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _models_in(annotation) -> list[type[BaseModel]]:
    """Pydantic model classes reachable from a type annotation (through unions, lists, dicts)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _field_names_at(loc: tuple) -> list[str]:
    """The allowed keys of the table at ``loc`` in a scenario (for 'did you mean')."""
    models: list[type[BaseModel]] = [Scenario]
    for part in loc:
        nxt = []
        for model in models:
            field = model.model_fields.get(part) if isinstance(part, str) else None
            if field is not None:
                nxt += _models_in(field.annotation)
            else:  # a list index, dict key or union tag: stay on the same models
                nxt.append(model)
        models = nxt
    names: list[str] = []
    for model in models:
        names += [n for n in model.model_fields if n not in names]
    return names


def _readable_loc(loc: tuple, data: Any) -> str:
    parts = []
    node = data
    for part in loc:
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            item = node[part]
            label = item.get("name") if isinstance(item, dict) else None
            parts.append(str(label) if isinstance(label, str) else str(part))
            node = item
        else:
            parts.append(str(part))
            node = node.get(part) if isinstance(node, dict) else None
    return ".".join(parts)


_UNION_TAGS = {"fixed", "exponential", "lognormal", "gamma", "triangular", "uniform", "empirical"}


def _problems_from(error: ValidationError, data: Any) -> list[str]:
    problems = []
    for item in error.errors(include_url=False):
        loc = tuple(
            p for p in item["loc"] if not (isinstance(p, str) and (p in _UNION_TAGS or "[" in p))
        )
        where = _readable_loc(loc, data) or "(top level)"
        value = item.get("input")
        kind = item["type"]
        message = item["msg"].removeprefix("Value error, ")
        if kind == "extra_forbidden":
            key = str(loc[-1])
            allowed = _field_names_at(loc[:-1])
            hint = _did_you_mean(key, allowed)
            parent = _readable_loc(loc[:-1], data) or "the top level"
            problems.append(
                f"{parent}: unknown key '{key}'{hint}; allowed here: {', '.join(allowed)}"
            )
        elif kind == "value_error" and not loc:
            problems += message.split("\n")  # cross-field checks, one problem a line
        elif kind == "missing":
            problems.append(f"{where}: required, but missing")
        elif kind in {"model_type", "dict_type"} or kind.startswith("model_attributes"):
            problems.append(f"{where}: expected a table, got {_show(value)}")
        elif kind == "union_tag_invalid":
            problems.append(
                f"{where}: {_show(value)}: dist must be one of {', '.join(sorted(_UNION_TAGS))}"
            )
        elif isinstance(value, dict | list) or kind == "value_error" and loc == ():
            problems.append(f"{where}: {message}")
        else:
            problems.append(f"{where} = {_show(value)}: {message}")
    return problems


def _show(value: Any) -> str:
    text = value.isoformat() if isinstance(value, dt.date) else repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


# ---------------------------------------------------------------------------------------------
# Loading and overrides
# ---------------------------------------------------------------------------------------------


def validate(data: dict, source: str = "") -> Scenario:
    """A Scenario from parsed TOML data, or ScenarioError listing every problem."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        raise ScenarioError(_problems_from(exc, data), source) from None


def load(path: str | Path) -> Scenario:
    """Read and validate a scenario file (TOML)."""
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ScenarioError([f"no such scenario file: {path}"], str(path)) from None
    except IsADirectoryError:
        raise ScenarioError([f"{path} is a folder, not a scenario file"], str(path)) from None
    except UnicodeDecodeError as exc:
        raise ScenarioError([f"not UTF-8 text (byte {exc.start})"], str(path)) from None
    except OSError as exc:
        raise ScenarioError([f"cannot read {path}: {exc.strerror}"], str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError([f"TOML syntax error: {exc}"], str(path)) from None
    return validate(data, str(path))


def warnings(scenario: Scenario) -> list[str]:
    """Things in a valid scenario that are probably not what was meant, one line each."""
    notes = []
    full_time = scenario.finance.full_time_hours
    for name, pool in scenario.staff.items():
        rostered = pool.rostered_hours
        if pool.fte is not None and pool.annual_cost > 0 and rostered < clock.HOURS_PER_WEEK:
            implied = rostered / full_time
            if abs(pool.fte - implied) > 0.1 * max(implied, 0.1):
                notes.append(
                    f"staff.{name}.fte = {pool.fte:g} but the roster is {rostered:g} h a week "
                    f"({implied:.2f} of a {full_time:g}-hour week): the cost follows fte; leave "
                    "fte out to cost the rostered hours"
                )
    notes += timetable_hours_warnings(scenario)
    return notes


def timetable_hours_warnings(scenario: Scenario) -> list[str]:
    """Tracks whose week cannot meet, or has no room to meet, the hours rule of their age
    group: group hours on the timetable plus the individual sessions due each week."""
    notes = []
    individual = scenario.iop.individual_sessions_per_week * scenario.iop.individual_session_hours
    for track in scenario.tracks:
        groups = track.weekly_hours(with_optional=False)
        week = groups + individual
        rule = track.hours_rule
        who = "adults" if track.age_group == "adult" else "adolescents"
        longest = max(
            track.hours_on(o) for o in track.session_offsets() if not track.is_optional(o)
        )
        optional = " (optional sessions not counted)" if track.optional_days else ""
        if week < rule - 1e-9:
            notes.append(
                f"tracks.{track.name}: its week offers {week:.3g} h ({groups:.3g} h of groups "
                f"and {individual:.3g} h of individual sessions){optional}, under the "
                f"{rule:g}-hour rule for {who}: no client of it can meet the rule (programmes "
                "schedule 9-19 h)"
            )
        elif week - longest < rule - 1e-9:
            notes.append(
                f"tracks.{track.name}: its week offers {week:.3g} h{optional} against the "
                f"{rule:g}-hour rule for {who}: one missed {longest:g}-hour session fails the "
                "rule (programmes schedule 9-19 h so that a week survives an absence)"
            )
    return notes


def bundled_dir() -> Path:
    """The folder of scenarios shipped with the package."""
    return Path(str(resources.files("simulation.scenarios")))


def bundled(name: str = "baseline") -> Path:
    """Path of a bundled scenario by name (without .toml)."""
    path = bundled_dir() / f"{name}.toml"
    if not path.is_file():
        names = [p.stem for p in bundled_dir().glob("*.toml")]
        raise ScenarioError(
            [
                f"no bundled scenario '{name}'{_did_you_mean(name, names)}; bundled: {', '.join(sorted(names))}"
            ]
        )
    return path


def resolve(name_or_path: str | None) -> Path:
    """A scenario argument as a path: an existing file, else a bundled scenario's name."""
    if name_or_path is None:
        return bundled("baseline")
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml" or "/" in name_or_path:
        return path
    return bundled(name_or_path)


def to_data(scenario: Scenario) -> dict:
    """The scenario as plain TOML-like data (dates kept as dates)."""
    return scenario.model_dump(mode="python", exclude_none=True)


def value_at(data: dict, key: str) -> Any:
    """The value at a dotted key (list items by name), or KeyError naming what is missing."""
    node: Any = data
    for part in _key_parts(key):
        if isinstance(node, list):
            named = {item.get("name"): item for item in node if isinstance(item, dict)}
            if part not in named:
                raise KeyError(f"no item '{part}' (items: {', '.join(map(str, named))})")
            node = named[part]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"no key '{part}'")
    return node


def _parse_value(text: str) -> Any:
    try:
        return tomllib.loads(f"value = {text}")["value"]
    except tomllib.TOMLDecodeError:
        return text  # a bare word such as evening is taken as a string


_FREE_KEY_TABLES = {
    ("targets",),
    ("uncertainty",),
}  # tables whose keys the user names (KPI names, checked later)


def _set_path(data: dict, path: str, value: Any) -> None:
    node: Any = data
    walked: list[str | int] = []
    parts = _key_parts(path)
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        where = ".".join(map(str, parts[:i])) or "the scenario"
        if isinstance(node, list):
            names = [item.get("name") for item in node if isinstance(item, dict)]
            if part in names:
                index = names.index(part)
            elif part.isdigit() and int(part) < len(node):
                index = int(part)
            else:
                items = ", ".join(map(str, names))
                hint = _did_you_mean(part, [str(n) for n in names])
                raise ScenarioError(
                    [f"--set {path}: {where} has no item '{part}'{hint}; items: {items}"]
                )
            if last:
                node[index] = value
                return
            node, walked = node[index], [*walked, index]
            continue
        if not isinstance(node, dict):
            raise ScenarioError([f"--set {path}: {where} is a value, not a table"])
        if tuple(walked) == ("staff",) and part not in node:
            pools = list(node)
            raise ScenarioError(
                [
                    f"--set {path}: there is no staff pool '{part}'{_did_you_mean(part, pools)}; "
                    f"pools: {', '.join(pools) or 'none'} (an override never creates a pool)"
                ]
            )
        free = (
            tuple(walked) in _FREE_KEY_TABLES
            or tuple(walked) == ("staff",)
            or walked[:1] == ["uncertainty"]  # its keys are dotted scenario keys
        )
        allowed = [] if free else _field_names_at(tuple(walked))
        if not free and part not in node and part not in allowed:
            hint = _did_you_mean(part, allowed)
            raise ScenarioError([f"--set {path}: '{part}' is not a key of {where}{hint}"])
        if last:
            node[part] = value
            if len(walked) == 2 and walked[0] == "staff" and part in ("count", "members"):
                node.pop("members" if part == "count" else "count", None)  # one replaces the other
            return
        node, walked = node.setdefault(part, {}), [*walked, part]


def _split_outside(text: str, separator: str, first_only: bool = False) -> list[str]:
    """``text`` split at ``separator`` where it is not inside quotes or [brackets]."""
    parts, current, quote, depth = [], [], "", 0
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "\"'":
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        elif ch == separator and depth == 0:
            parts.append("".join(current))
            if first_only:
                return [*parts, text[i + 1 :]]
            current = []
            continue
        current.append(ch)
    return [*parts, "".join(current)]


def _key_parts(key: str) -> list[str]:
    """'targets."kpi[track=evening]"' -> ['targets', 'kpi[track=evening]']."""
    return [p.strip().strip("\"'") for p in _split_outside(key, ".")]


def apply_overrides(scenario: Scenario, overrides: list[str] | tuple[str, ...]) -> Scenario:
    """A new scenario with ``KEY=VALUE`` overrides applied, validated again.

    Keys are dotted paths; list items (tracks, rooms, sources) are addressed by name, e.g.
    ``tracks.evening.seats=12``. Values are TOML values (``5``, ``0.8``, ``true``, ``"text"``,
    ``["mon", "wed"]``); a bare word is a string.
    """
    if not overrides:
        return scenario
    data = to_data(scenario)
    for item in overrides:
        pieces = _split_outside(item, "=", first_only=True)
        key, sep, text = pieces[0].strip(), len(pieces) > 1, pieces[-1]
        if not sep or not key:
            raise ScenarioError([f"--set {item!r}: write KEY=VALUE, e.g. staff.therapists.count=5"])
        _set_path(data, key, _parse_value(text.strip()))
    return validate(data, "after --set")
