"""What the intake clinicians' shifts hold: assessments a week, and the share of their hours
assessments can fill (``simulation.slots``). A clinic whose intake shifts are short for its
assessments is full while its clinicians look far from busy, and a planner must be told so
before reading "71% busy" as room to spare."""

from __future__ import annotations

from dataclasses import dataclass

from simulation.config.calendar import roster_intervals
from simulation.config.scenario import Scenario
from simulation.slots import RosterHolds, roster_holds, shift_lengths

LOAD_WARNED = 0.9
"""Referrals needing an assessment, as a share of the assessments the intake shifts hold,
from which a scenario is warned of (Poisson weeks above the mean find no room at that load,
and the intake waitlist swings widely or grows without end)."""


@dataclass(frozen=True)
class IntakeHolds:
    """The intake pools' shifts together: ``per_week`` assessments (less the share of days
    away), ``filled_share`` of their hours assessments can fill, and one pool's typical shift
    and what it holds (the pool with most hours)."""

    per_week: float
    filled_share: float
    typical: RosterHolds


def intake_holds(scenario: Scenario) -> IntakeHolds | None:
    """What the intake clinicians' shifts hold, or None when intake is off, has no one, or
    shares its people with other work (groups, caseloads, a level's programme: their time
    then depends on that work, so no figure is given)."""
    intake = scenario.intake
    pools = [scenario.staff[p] for p in intake.pools if p in scenario.staff]
    if not intake.enabled or not pools or _shared(scenario):
        return None
    per_week = hours = filled = 0.0
    typical, most = None, -1.0
    for pool in pools:
        shifts = shift_lengths(roster_intervals(pool.roster), pool.indirect_hours_per_week)
        holds = roster_holds(shifts, intake.assessment_hours)
        rostered = pool.size * pool.rostered_hours
        per_week += pool.size * (1 - pool.absence_share) * holds.per_week
        filled += holds.filled_share * sum(shifts) * pool.size
        hours += rostered
        if rostered > most:
            typical, most = holds, rostered
    if typical is None or hours <= 0:
        return None
    return IntakeHolds(per_week, filled / hours, typical)


def _shared(scenario: Scenario) -> bool:
    """Whether an intake pool also facilitates groups, holds caseloads, prescribes or runs a
    level's programme."""
    return bool(scenario.pools_named(intake=False) & set(scenario.intake.pools))


def intake_load_warnings(scenario: Scenario) -> list[str]:
    """A line when the referrals that need an assessment come near what the intake shifts
    hold (LOAD_WARNED or more): the clinicians look far from busy while every slot is taken."""
    holds = intake_holds(scenario)
    if holds is None or holds.per_week <= 0:
        return []
    r = scenario.referrals
    through_intake = sum(s.share for s in r.sources if s.level == "iop")
    need = r.per_week * through_intake * (1 - scenario.intake.lost_share)
    if need < LOAD_WARNED * holds.per_week:
        return []
    t = holds.typical
    return [
        f"intake.pools: the intake clinicians' shifts hold about {holds.per_week:.1f} "
        f"assessments a week (a {t.typical_shift:g}-hour shift about {t.per_shift:.1f} "
        f"assessments of intake.assessment_hours, filling {100 * holds.filled_share:.0f}% of "
        f"the hours; less days away), against about {need:.1f} referrals a week who need one "
        f"(referrals.per_week less intake.lost_share): {100 * need / holds.per_week:.0f}% of "
        "what they hold, so assessments queue for weeks"
        + (
            " and clients give up waiting (intake.patience_days)"
            if scenario.intake.patience_days is not None
            else " and the intake waitlist can grow without end"
        )
        + " while the clinicians look far from busy; add intake hours or longer shifts"
    ]
