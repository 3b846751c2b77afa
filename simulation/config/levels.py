"""Levels of care beside the IOP: a partial hospitalisation programme above it, outpatient care
below it, a residential unit, each as data. A level has places (or none: unlimited), a length
of stay, and routes onward by share: to another level, to the IOP, or out of care. Referral
sources may enter at a level; intake may send those assessed as needing higher care to one;
the IOP may step clients up to one. With no levels the clinic is the IOP alone.

The IOP stays the detailed level (timetabled tracks, therapists, prescribers, payers); a level
here is a programme of places: who holds a place, how long, and where they go next. Routes
between levels run with a gap (``lead_days``) and by a rule for a full next level
(``when_full``): stay where they are (blocked, still in care and still holding the place) or
wait outside care. A route says why the stay ends (its ``reason``) and may have its own stays;
a level may step clients up on deterioration during a stay (``step_up``, a hazard a week) and
see clients relapse while they are out of care on their way on (``relapse``).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, model_validator

from simulation import clock
from simulation.config.base import SHARE_TOLERANCE, Name, NonNegative, Share, _Model
from simulation.config.calendar import Shift, roster_intervals
from simulation.distributions import Distribution

IOP = "iop"
"""The name by which a route or a referral source means the IOP itself."""
OUT = "discharge"
"""The name of the route out of care."""


LEVEL_EXIT_REASONS = ("completed", "dropped_out", "stepped_up", "other")
"""Why a stay at a level ends (a route's ``reason``; a step-up on deterioration is
"stepped_up"; what the routes' shares leave is "completed" discharge)."""


class Route(_Model):
    """Where a share of a level's clients go when their stay ends, and why."""

    to: Name  # another level, "iop", or "discharge"
    share: Share
    # days between leaving this level and joining the next (a gap in care); 0: at once
    lead_days: Distribution = 0.0
    reason: Literal["completed", "dropped_out", "stepped_up", "other"] = "completed"
    # the stays of those who leave by this route (dropouts leave sooner); None: the level's
    stay_days: Distribution | None = None


class Hazard(_Model):
    """A chance a week of moving to level ``to`` (deterioration): a constant hazard, so the
    time until it happens is exponential with mean 1 / per_week weeks."""

    to: Name  # a level or "iop"
    per_week: Annotated[float, Field(gt=0, le=7, allow_inf_nan=False)]


class Programme(Shift):
    """The day programme a level runs, e.g. a PHP's ``{days = ["mon", ..., "fri"], start =
    "09:00", end = "15:00"}``: every client holding a place is expected on those days for those
    hours (and comes with chance ``attendance``), and every member of ``staff_pools`` runs it
    (those hours are taken from their diaries). ``min_hours_per_week``: the level's hours rule
    (ASAM 2.5: 20 hours a week), reported as the share of full client-weeks that meet it.
    ``clients_per_staff``: a staffing ratio; the places in use are at most the pools' members
    times it."""

    attendance: Share = 0.85
    min_hours_per_week: NonNegative | None = None
    staff_pools: list[Name] = []
    clients_per_staff: Annotated[float, Field(gt=0, le=1000, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _ratio_needs_staff(self):
        if self.clients_per_staff is not None and not self.staff_pools:
            raise ValueError("clients_per_staff: name the staff_pools whose members it counts")
        return self

    @property
    def weekly_hours(self) -> float:
        return (clock.parse_clock(self.end) - clock.parse_clock(self.start)) * len(self.days)


class CareLevel(_Model):
    """A level of care: places, stays and routes onward (see the module's text)."""

    name: Name
    places: int | None = Field(default=None, ge=1, le=100_000)  # None: unlimited
    # with [[sites]]: the level at several sites, its places at each (a client takes one at
    # their own site, or where most are free if theirs has none); instead of places
    places_by_site: dict[Name, Annotated[int, Field(ge=1, le=100_000)]] = {}
    stay_days: Distribution
    # routes by share when a stay ends; what the shares leave is discharge
    routes: list[Route] = []
    # the next level full: "stay" (blocked: keeps this place, in care) or "wait_outside"
    when_full: Literal["stay", "wait_outside"] = "stay"
    # deterioration during a stay: the client steps up to `to` (and keeps this place, attended,
    # until that place is theirs, whatever when_full says)
    step_up: Hazard | None = None
    # the day programme it runs (days, hours, attendance, hours rule, staff); None: places only
    programme: Programme | None = None
    # relapse out of care: while between this level and the next (a gap, or waiting outside
    # for a place) the client may deteriorate and go to `to` instead (as a transfer)
    relapse: Hazard | None = None
    # days those waiting for a place out of care (a referral; a client waiting outside after
    # another level's stay, or after a relapse) wait before they give up: another provider,
    # an emergency department, or no care. None: they wait as long as it takes. Those who
    # wait in care (blocked at another level, or still attending the IOP) do not give up
    patience_days: Distribution | None = None
    # clients coming from another level (or the IOP) are placed before referrals (a source's
    # or intake's), and referrals by their source's priority; False: in the order they came
    transfers_first: bool = True
    # money: earned for each client holding a place on each of the level's billed days a week
    # (a PHP: 5; blocked days too, unless blocked_days_billed is false: payers that stop paying
    # once a client is ready to step down); the level's staff and rooms cost a week for each
    # place (unlimited places: for each place held)
    per_diem: NonNegative = 0.0
    billed_days_per_week: int = Field(default=7, ge=1, le=7)
    blocked_days_billed: bool = True
    cost_per_place_per_week: NonNegative = 0.0

    @property
    def total_places(self) -> int | None:
        """Its places (at every site together); None: unlimited."""
        return sum(self.places_by_site.values()) if self.places_by_site else self.places

    @model_validator(mode="after")
    def _routes(self):
        total = sum(r.share for r in self.routes)
        if total > 1 + SHARE_TOLERANCE:
            raise ValueError(
                f"routes: shares add up to {total:g}; at most 1 (the rest is discharge)"
            )
        pairs = [(r.to, r.reason) for r in self.routes]
        if len(set(pairs)) != len(pairs):
            raise ValueError("routes: one route per destination and reason")
        if self.name in {r.to for r in self.routes}:
            raise ValueError(f"routes: level '{self.name}' cannot route to itself")
        if self.places_by_site and self.places is not None:
            raise ValueError("give places or places_by_site, not both")
        if self.places_by_site and self.programme and self.programme.clients_per_staff:
            raise ValueError(
                "programme.clients_per_staff: a staffing ratio limits places, not places by site"
            )
        if self.step_up is not None and self.step_up.to == self.name:
            raise ValueError(f"step_up.to: level '{self.name}' cannot step up to itself")
        return self


def level_problems(
    levels: list[CareLevel],
    sources,
    intake_to,
    escalate_to,
    staff: dict | None = None,
    outpatient_to=None,
) -> list[str]:
    """A scenario's levels checked against each other, against what routes into them and
    against the staff who run their programmes."""
    problems = []
    for level in levels:
        if level.programme is not None:
            problems += _programme_problems(level, staff or {})
    names = [level.name for level in levels]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"levels: '{name}' is listed twice")
    reserved = {IOP, OUT} & set(names)
    for name in sorted(reserved):
        problems.append(f"levels: '{name}' is reserved (the IOP itself, or leaving care)")
    known = set(names) | {IOP, OUT}
    for level in levels:
        for route in level.routes:
            if route.to not in known:
                problems.append(
                    f"levels.{level.name}.routes: '{route.to}' is not a level (levels: "
                    f"{', '.join(names)}; or 'iop', 'discharge')"
                )
    for level in levels:
        for key in ("step_up", "relapse"):
            hazard = getattr(level, key)
            if hazard is not None and hazard.to not in set(names) | {IOP}:
                problems.append(
                    f"levels.{level.name}.{key}.to: '{hazard.to}' is not a level (levels: "
                    f"{', '.join(names)}; or 'iop')"
                )
    for source in sources:
        if source.level not in set(names) | {IOP}:
            problems.append(
                f"referrals.sources.{source.name}.level: '{source.level}' is not a level "
                f"(levels: {', '.join(names) or 'none'}; or 'iop')"
            )
    for key, value in (
        ("intake.higher_care_to", intake_to),
        ("intake.outpatient_to", outpatient_to),
        ("iop.escalate_to", escalate_to),
    ):
        if value is not None and value not in names:
            problems.append(
                f"{key}: '{value}' is not a level (levels: {', '.join(names) or 'none'})"
            )
    return problems


def _programme_problems(level: CareLevel, staff: dict) -> list[str]:
    """A programme's staff pools must exist and be rostered for all of its hours."""
    problems = []
    key = f"levels.{level.name}.programme"
    hours = roster_intervals([level.programme])
    for name in level.programme.staff_pools:
        pool = staff.get(name)
        if pool is None:
            problems.append(
                f"{key}.staff_pools: '{name}' is not a staff pool (pools: "
                f"{', '.join(staff) or 'none'})"
            )
            continue
        rostered = roster_intervals(pool.roster)
        if not all(any(s <= a and b <= e for s, e in rostered) for a, b in hours):
            problems.append(
                f"{key}.staff_pools: '{name}' is not rostered for all of the programme's hours "
                f"({', '.join(level.programme.days)} {level.programme.start}-"
                f"{level.programme.end}); extend its roster or choose another pool"
            )
    return problems


def programme_pools(levels: list[CareLevel]) -> set[str]:
    """The staff pools that run some level's programme."""
    return {name for level in levels if level.programme for name in level.programme.staff_pools}
