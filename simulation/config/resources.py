"""What care is given with: rooms, offices for appointments, staff pools (rosters, caseloads, turnover) and dated staffing changes."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import (
    Field,
    model_validator,
)

from simulation.config.base import Name, NonNegative, _Model
from simulation.config.calendar import (
    STAFF_WEEKDAYS_9_TO_5,
    Roster,
    Shift,
    StaffRoster,
    roster_intervals,
)
from simulation.distributions import Distribution


class Room(_Model):
    """A named group room."""

    name: Name
    seats: int = Field(ge=1, le=1000)
    site: Name | None = None  # the site it is at (sites); None: at every site (one site)
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
    site: Name | None = None  # (sites) the site its rooms are at; None: every site's clients
    available: Roster = [
        Shift(days=["mon", "tue", "wed", "thu", "fri"], start="08:00", end="21:00")
    ]
    used_for: list[AppointmentKind] = list(APPOINTMENT_KINDS)

    def units(self) -> list[str]:
        """The name of each office: the name itself for one, else 'name 1', 'name 2', ..."""
        return (
            [self.name] if self.count == 1 else [f"{self.name} {i + 1}" for i in range(self.count)]
        )


class StaffPool(_Model):
    """A group of interchangeable staff with one roster; give ``count`` or named ``members``."""

    role: Literal["therapist", "prescriber", "intake", "other"] = "therapist"
    site: Name | None = None  # the site they work at (sites); None: every site
    count: int | None = Field(default=None, ge=0, le=1000)
    members: list[Name] | None = None
    roster: StaffRoster = STAFF_WEEKDAYS_9_TO_5  # shifts may say their site and travel (sites)
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


class StaffChange(_Model):
    """A dated change of staffing: ``count`` people join or leave pool ``pool`` at the start of
    week ``week`` (leavers: the pool's last members by name)."""

    pool: Name
    week: int = Field(ge=0, le=1040)
    change: Literal["join", "leave"]
    count: int = Field(default=1, ge=1, le=100)
