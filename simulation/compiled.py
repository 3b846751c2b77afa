"""A scenario compiled once into the plain data a replication runs on: the ``Plan``.

A scenario is what an administrator writes; the model needs it in another shape: every
person who works during the run, each pool's rosters as weekly hour intervals, caseload caps,
the weekly timetable (a room and facilitators for every session, and the school-holiday one),
the days the clinic is closed, the expected referrals of every day, the offices' diaries.
``compile_scenario`` works all of that out once, before any replication, and the model reads it
instead of calling back into the configuration: the arrow runs one way (config -> plan ->
model), and replications of one scenario in one process share one plan.

The plan is frozen: a replication never changes it (its own state lives in the model).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from simulation import clock
from simulation.clock import HOURS_PER_WEEK
from simulation.closures import closed_days, school_holiday_weeks, site_closed_days
from simulation.config import Referrals, Scenario, roster_intervals
from simulation.config.calendar import site_hours, travel_hours
from simulation.config.timetable import Slot, plan_timetable

Intervals = tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class OfficePlan:
    """One office as the model books it: its units (rooms of the same kind), its weekly open
    hours and the kinds of session it may hold."""

    name: str
    units: tuple[str, ...]
    open_hours: Intervals
    used_for: tuple[str, ...]
    site: str | None = None  # (a network) the site it is at; None: for every site


@dataclass(frozen=True)
class LevelPlan:
    """A level of care as the model runs it: the places in use (its places, or fewer when
    its programme's staffing ratio allows fewer; None: unlimited), its programme's weekly
    hours (empty: places only) and who runs them."""

    name: str
    places: int | None
    programme_hours: Intervals
    programme_staff: tuple[str, ...]
    places_by_site: MappingProxyType  # (a network) site -> places there; empty: one ward


@dataclass(frozen=True)
class Plan:
    """What a replication of ``scenario`` runs on (see the module's text)."""

    scenario: Scenario  # the values the model reads as they are (shares, distributions)
    weeks: int  # simulated, warm-up included
    end: float  # hours: the end of the run
    closed_days: frozenset[int]  # day numbers (0 = Monday of week 0) the clinic is closed
    school_holiday_weeks: frozenset[int]
    timetable: MappingProxyType  # track name -> tuple of Slots (term time)
    holiday_timetable: MappingProxyType | None  # in school-holiday weeks, when a track has one
    holiday_weeks: frozenset[int]  # weeks that run by the holiday timetable
    people: tuple[tuple[str, str, int, int | None], ...]  # (name, pool, first week, gone week)
    rosters: MappingProxyType  # pool -> the weekly hours its members work (Intervals)
    caseload_caps: MappingProxyType  # pool -> (IOP cap, outpatient cap) per member
    offices: tuple[OfficePlan, ...]  # in name order
    referral_rates: np.ndarray  # expected referrals on each day of the run
    # source name -> its daily rates, when some source has its own seasonality (each is drawn
    # on its own then); empty otherwise
    source_rates: MappingProxyType
    arrival_window: tuple[float, float]  # hours of the day referrals arrive in
    levels: MappingProxyType  # level name -> LevelPlan
    # (with sites) pools whose shifts say a site: pool -> {site or None: weekly hours there}
    site_hours: MappingProxyType
    travel: MappingProxyType  # pool -> weekly hours spent travelling between sites
    site_closed_days: MappingProxyType  # (a network) site -> its own closed day numbers
    # (a network) each day's chances of each region (days x regions in name order); else empty
    region_chances: np.ndarray


def daily_rates(scenario: Scenario, source=None) -> np.ndarray:
    """Expected referrals on each simulated day (length: total weeks x 7); for one
    ``source`` with its own seasonality: its share of them, by its months."""
    ref: Referrals = scenario.referrals
    days = np.arange(scenario.total_weeks * 7)
    weekday_share = np.asarray(ref.weekday_shares)[days % 7]
    if source is not None and source.seasonality is not None:
        months = np.array([clock.month_of(d * 24.0, scenario.start_date) for d in days[::7]])
        season = np.asarray(source.seasonality)[np.repeat(months, 7)[: len(days)] - 1]
    elif ref.school_holiday_multiplier is not None:  # a term pattern instead of the months
        holiday = np.zeros(scenario.total_weeks, dtype=bool)
        holiday[sorted(school_holiday_weeks(scenario))] = True
        season = np.where(holiday[days // 7], ref.school_holiday_multiplier, 1.0)
    else:
        months = np.array([clock.month_of(d * 24.0, scenario.start_date) for d in days[::7]])
        season = np.asarray(ref.seasonality)[np.repeat(months, 7)[: len(days)] - 1]
    regional = region_weights(scenario, season).sum(axis=1) if scenario.sites else 1.0
    if source is not None:
        total = sum(s.share for s in ref.sources)
        season = season * source.share / total
    # The month of each week's Monday stands for the whole week: seasonality is a planning
    # multiplier, not a calendar-exact one, and this keeps it cheap.
    multiplier = np.ones(len(days))
    for change in sorted(ref.step_changes, key=lambda c: c.from_week):
        multiplier[days // 7 >= change.from_week] = change.multiplier
    return ref.per_week * regional * weekday_share * season * multiplier


def region_weights(scenario: Scenario, season: np.ndarray | None = None) -> np.ndarray:
    """(a network) Each day's weight of each region (days x regions, in name order), as a
    multiple of the referrals' own season that day: share x growth, times the region's own
    monthly pattern over the referrals' where it has one. Summed over regions: how the regions
    scale the day's referrals; across a day's row: the chance a referral comes from each."""
    regions = sorted(scenario.network.regions, key=lambda r: r.name)
    days = np.arange(scenario.total_weeks * 7)
    total = sum(r.share for r in regions) or 1.0
    weights = np.empty((len(days), len(regions)))
    months = None
    for k, region in enumerate(regions):
        weights[:, k] = region.share * region.growth / total
        if region.seasonality is not None:
            if months is None:
                months = np.array(
                    [clock.month_of(d * 24.0, scenario.start_date) for d in days[::7]]
                )
                months = np.repeat(months, 7)[: len(days)] - 1
                base = season if season is not None else _season(scenario, months)
            weights[:, k] *= np.asarray(region.seasonality)[months] / base
    return weights


def _season(scenario: Scenario, months: np.ndarray) -> np.ndarray:
    return np.asarray(scenario.referrals.seasonality)[months]


def _chances(scenario: Scenario) -> np.ndarray:
    if not scenario.sites or not scenario.network.regions:
        return np.empty((0, 0))
    weights = region_weights(scenario)
    return weights / weights.sum(axis=1, keepdims=True)


def _frozen(array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    array.setflags(write=False)
    return array


def compile_scenario(scenario: Scenario) -> Plan:
    """The plan of ``scenario`` (the same plan for the same scenario object in one process)."""
    with _LOCK:
        cached = _CACHE.get(id(scenario))
        if cached is not None and cached[0] is scenario:
            return cached[1]
    plan = _compile(scenario)
    with _LOCK:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[id(scenario)] = (scenario, plan)  # (the scenario is held: its id stays its own)
    return plan


_CACHE: dict[int, tuple[Scenario, Plan]] = {}
_CACHE_SIZE = 8
_LOCK = threading.Lock()


def _compile(scenario: Scenario) -> Plan:
    school = frozenset(school_holiday_weeks(scenario))
    holiday_weeks = school if any(t.has_holiday_timetable for t in scenario.tracks) else frozenset()
    timetable = plan_timetable(scenario)
    holidays = plan_timetable(scenario, holiday=True) if holiday_weeks else None
    full_time = scenario.finance.full_time_hours
    sources = scenario.referrals.sources
    people = tuple(scenario.people())
    return Plan(
        scenario=scenario,
        weeks=scenario.total_weeks,
        end=scenario.total_weeks * HOURS_PER_WEEK,
        closed_days=frozenset(closed_days(scenario)),
        school_holiday_weeks=school,
        timetable=_slots(timetable),
        holiday_timetable=_slots(holidays) if holidays is not None else None,
        holiday_weeks=holiday_weeks,
        people=people,
        rosters=MappingProxyType(
            {name: tuple(roster_intervals(pool.roster)) for name, pool in scenario.staff.items()}
        ),
        caseload_caps=MappingProxyType(
            {name: pool.caseload_caps(full_time) for name, pool in scenario.staff.items()}
        ),
        offices=tuple(
            OfficePlan(
                office.name,
                tuple(office.units()),
                tuple(roster_intervals(office.available)),
                tuple(office.used_for),
                office.site,
            )
            for office in sorted(scenario.offices, key=lambda o: o.name)
        ),
        referral_rates=_frozen(daily_rates(scenario)),
        source_rates=MappingProxyType(
            {
                source.name: _frozen(daily_rates(scenario, source))
                for source in sources
                if any(s.seasonality is not None for s in sources)
            }
        ),
        arrival_window=tuple(scenario.referrals.arrival_window()),
        site_hours=MappingProxyType(
            {
                name: MappingProxyType({k: tuple(v) for k, v in hours.items()})
                for name, pool in scenario.staff.items()
                if set(hours := site_hours(pool.roster)) - {None}
            }
        ),
        travel=MappingProxyType(
            {
                name: tuple(travel)
                for name, pool in scenario.staff.items()
                if (travel := travel_hours(pool.roster))
            }
        ),
        region_chances=_frozen(_chances(scenario)),
        site_closed_days=MappingProxyType(
            {site: frozenset(days) for site, days in site_closed_days(scenario).items()}
        ),
        levels=MappingProxyType(
            {level.name: _level_plan(level, people) for level in scenario.levels}
        ),
    )


def _level_plan(level, people) -> LevelPlan:
    programme = level.programme
    if programme is None:
        return LevelPlan(
            level.name, level.total_places, (), (), MappingProxyType(dict(level.places_by_site))
        )
    staff = tuple(sorted(name for name, pool, _, _ in people if pool in programme.staff_pools))
    places = level.places
    if programme.clients_per_staff is not None:
        # the members in post when the run starts (joiners and leavers do not move it)
        present = sum(
            1 for _, pool, first, _ in people if pool in programme.staff_pools and first == 0
        )
        staffed = int(present * programme.clients_per_staff + 1e-9)
        places = staffed if places is None else min(places, staffed)
    return LevelPlan(
        level.name,
        places if not level.places_by_site else level.total_places,
        tuple(roster_intervals([programme])),
        staff,
        MappingProxyType(dict(level.places_by_site)),
    )


def _slots(timetable: dict[str, list[Slot]]) -> MappingProxyType:
    return MappingProxyType({name: tuple(slots) for name, slots in timetable.items()})
