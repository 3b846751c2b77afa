"""Staff: named people with rosters, diaries, leave and caseloads.

Each person keeps a diary of free time: their rostered hours, less the group sessions they
facilitate every week, less days on leave, less what has been booked. Appointments (intakes,
individual therapy, medication reviews, outpatient sessions) are booked into the earliest
free slot, so they never clash with each other or with the person's groups.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

import numpy as np

from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.compiled import Plan
from simulation.config import StaffPool

EPS = 1e-9


def subtract(
    intervals: list[tuple[float, float]], blocked: list[tuple[float, float]]
) -> list[tuple[float, float]]:
    """``intervals`` less every interval in ``blocked`` (both lists of (start, end))."""
    result = []
    for start, end in intervals:
        pieces = [(start, end)]
        for b_start, b_end in blocked:
            nxt = []
            for s, e in pieces:
                if b_end <= s or b_start >= e:
                    nxt.append((s, e))
                    continue
                if b_start > s:
                    nxt.append((s, b_start))
                if b_end < e:
                    nxt.append((b_end, e))
            pieces = nxt
        result += pieces
    return [(s, e) for s, e in result if e - s > EPS]


@dataclass
class Person:
    """One member of staff.

    Parameters
    ----------
    name: the person's name (unique in the clinic).
    pool: the staff pool they belong to; role: therapist, prescriber, intake or other.
    roster: working hours as (start, end) hours after Monday 00:00, repeated every week.
    leave_days: day numbers (from Monday of week 0) the person is away.
    iop_cap, op_cap: how many IOP / outpatient clients they can hold as primary clinician.
    """

    name: str
    pool: str
    role: str
    roster: list[tuple[float, float]]
    leave_days: set[int] = field(default_factory=set)
    iop_cap: int = 0
    op_cap: int = 0
    iop_clients: int = 0
    op_clients: int = 0
    fixed: list[tuple[float, float]] = field(default_factory=list)  # weekly group facilitation
    indirect_hours: float = 0.0  # supervision, meetings, case management a week
    documentation_rate: float = 0.0  # hours of notes per client-facing hour
    indirect_blocks: list[tuple[float, float]] = field(default_factory=list)  # weekly, reserved
    first_week: int = 0  # joins at the start of this week
    gone_week: int | None = None  # leaves at the start of this week
    agency: bool = False  # a locum covering a vacancy
    holiday_fixed: list[tuple[float, float]] | None = None  # groups in school-holiday weeks
    holiday_weeks: frozenset[int] = frozenset()
    # (with sites) weekly hours at each site, for staff whose shifts say where they work
    at_sites: dict = field(default_factory=dict)
    _starts: list[float] = field(default_factory=list, repr=False)
    _ends: list[float] = field(default_factory=list, repr=False)
    _weeks_built: int = 0
    _usual_weeks: dict = field(default_factory=dict, repr=False)  # free time of a week, by groups
    _usual_by_site: dict = field(default_factory=dict, repr=False)  # the same at each site

    @property
    def weekly_rostered_hours(self) -> float:
        return sum(e - s for s, e in self.roster)

    def available_hours(self, weeks: int) -> np.ndarray:
        """Rostered hours in each of the first ``weeks`` weeks, less the days on leave."""
        per_day = np.zeros(7)
        for start, end in self.roster:
            for day in range(7):
                lo, hi = max(start, day * HOURS_PER_DAY), min(end, (day + 1) * HOURS_PER_DAY)
                per_day[day] += max(0.0, hi - lo)
        hours = np.tile(per_day, weeks)
        away = [d for d in self.leave_days if d < weeks * 7]
        hours[away] = 0.0
        return hours.reshape(weeks, 7).sum(axis=1)

    def reserve_indirect(self) -> None:
        """Take the weekly indirect hours out of the free time: an equal share at the end of
        each working day's free time (after the groups this person facilitates)."""
        if self.indirect_hours <= 0:
            return
        free = subtract(self.roster, self.fixed)
        days = sorted({int(s // HOURS_PER_DAY) for s, _ in free})
        share = self.indirect_hours / max(len(days), 1)
        for day in days:
            need = share
            for s, e in sorted(
                (iv for iv in free if int(iv[0] // HOURS_PER_DAY) == day), reverse=True
            ):
                take = min(need, e - s)
                if take > EPS:
                    self.indirect_blocks.append((e - take, e))
                    need -= take
                if need <= EPS:
                    break
        self.fixed += self.indirect_blocks
        if self.holiday_fixed is not None:
            self.holiday_fixed += self.indirect_blocks

    def indirect_by_week(self, weeks: int) -> np.ndarray:
        """Reserved indirect hours in each week, less the days away."""
        out = np.zeros(weeks)
        per_day = np.zeros(7)
        for s, e in self.indirect_blocks:
            per_day[int(s // HOURS_PER_DAY) % 7] += e - s
        hours = np.tile(per_day, weeks)
        away = [d for d in self.leave_days if d < weeks * 7]
        hours[away] = 0.0
        out[:] = hours.reshape(weeks, 7).sum(axis=1)
        return out

    def away_from(self, site: str, earliest: float, latest: float) -> list[tuple[float, float]]:
        """The hours in [earliest, latest) this person works at other sites than ``site`` (a
        client of ``site`` cannot see them then); none without shifts at sites."""
        if not self.at_sites or not site:
            return []
        weekly = [
            h for where, hours in self.at_sites.items() if where not in (None, site) for h in hours
        ]
        out = []
        week = int(earliest // HOURS_PER_WEEK)
        while week * HOURS_PER_WEEK < latest:
            base = week * HOURS_PER_WEEK
            out += [
                (base + s, base + e) for s, e in weekly if base + e > earliest and base + s < latest
            ]
            week += 1
        return out

    def in_post(self, week: int) -> bool:
        """Employed in ``week`` (joined by then and not yet gone)."""
        return self.first_week <= week and (self.gone_week is None or week < self.gone_week)

    def on_leave(self, t: float) -> bool:
        return int(t // HOURS_PER_DAY) in self.leave_days

    # -- the diary -------------------------------------------------------------------------
    def _extend_to(self, t: float) -> None:
        """Add the free time of every week up to the one containing ``t``."""
        last_week = int(t // HOURS_PER_WEEK)
        while self._weeks_built <= last_week:
            week = self._weeks_built
            base = week * HOURS_PER_WEEK
            fixed = self.fixed
            if self.holiday_fixed is not None and week in self.holiday_weeks:
                fixed = self.holiday_fixed  # the groups of a school-holiday week
            away = [
                (d * HOURS_PER_DAY, (d + 1) * HOURS_PER_DAY)
                for d in range(week * 7, week * 7 + 7)
                if d in self.leave_days
            ]
            if away:
                blocked = [(base + s, base + e) for s, e in fixed] + away
                shifted = [(base + s, base + e) for s, e in self.roster]
                free = subtract(shifted, blocked)
            else:  # a week like any other: its free time once, moved to this week
                key = tuple(fixed)
                usual = self._usual_weeks.get(key)
                if usual is None:
                    usual = self._usual_weeks[key] = subtract(self.roster, fixed)
                free = [(base + s, base + e) for s, e in usual]
            for s, e in free:
                if self._ends and abs(self._ends[-1] - s) < EPS:
                    self._ends[-1] = e  # free time running on across midnight Sunday
                else:
                    self._starts.append(s)
                    self._ends.append(e)
            self._weeks_built += 1

    def find_slot(self, earliest: float, hours: float, latest: float) -> float | None:
        """Start of the first free slot of ``hours`` beginning at or after ``earliest`` and
        ending by ``latest``; None if there is none."""
        if latest - earliest < hours - EPS:
            return None
        if latest >= self._weeks_built * HOURS_PER_WEEK:
            self._extend_to(latest)
        starts, ends = self._starts, self._ends
        i = bisect.bisect_right(ends, earliest + EPS)
        n = len(starts)
        latest += EPS
        while i < n:
            start = starts[i]
            if start < earliest:  # (max(start, earliest), without the call)
                start = earliest
            if start + hours > latest:
                return None
            if start + hours <= ends[i] + EPS:
                return start
            i += 1
        return None

    def first_rostered(self, earliest: float, hours: float, latest: float, site: str = "") -> float:
        """The start of the first ``hours`` from ``earliest`` that this person's usual week
        offers (their roster less the groups and indirect time they hold every week, at
        ``site`` when their shifts say where they work), in a week they are in post: the slot
        an empty diary would give. Leave, closures and bookings are not looked at; inf if
        there is none by ``latest``."""
        usual = self._usual_at(site)[0]
        week = max(int(earliest // HOURS_PER_WEEK), self.first_week)
        while usual and week * HOURS_PER_WEEK < latest and self.in_post(week):
            base = week * HOURS_PER_WEEK
            for s, e in usual:
                start = max(base + s, earliest)
                if start + hours <= base + e + EPS:
                    return start if start + hours <= latest + EPS else math.inf
            week += 1
        return math.inf

    def _usual_at(self, site: str) -> tuple[list[tuple[float, float]], tuple]:
        """The usual week's free time (the roster less the groups and indirect time held every
        week), at ``site`` when this person's shifts say where they work, as a list and as a
        tuple (to compare people by); worked out once for each site and each set of weekly
        commitments."""
        key = (site if self.at_sites else "", tuple(self.fixed))
        found = self._usual_by_site.get(key)
        if found is None:
            usual = subtract(self.roster, self.fixed)
            if site and self.at_sites:
                here = self.at_sites.get(site, []) + self.at_sites.get(None, [])
                usual = [
                    (max(s, a), min(e, b))
                    for s, e in usual
                    for a, b in here
                    if max(s, a) < min(e, b)
                ]
            found = self._usual_by_site[key] = (usual, tuple(usual))
        return found

    def is_free(self, start: float, end: float) -> bool:
        """True if the whole of [start, end) is free in the diary."""
        if end >= self._weeks_built * HOURS_PER_WEEK:
            self._extend_to(end)
        i = bisect.bisect_right(self._starts, start + EPS) - 1
        return i >= 0 and self._ends[i] >= end - EPS

    def book(self, start: float, hours: float) -> None:
        """Take [start, start + hours) out of the free time (it must be free)."""
        end = start + hours
        if end >= self._weeks_built * HOURS_PER_WEEK:
            self._extend_to(end)
        starts, ends = self._starts, self._ends
        i = bisect.bisect_right(starts, start + EPS) - 1
        s, e = starts[i], ends[i]
        assert s <= start + EPS and end <= e + EPS, f"{self.name}: booking outside free time"
        if end < e - EPS:
            if start > s + EPS:  # a piece left on both sides
                ends[i] = start
                starts.insert(i + 1, end)
                ends.insert(i + 1, e)
            else:
                starts[i] = end
        elif start > s + EPS:
            ends[i] = start
        else:
            del starts[i], ends[i]

    def release(self, start: float, hours: float) -> None:
        """Give a booked slot back (a cancelled appointment)."""
        end = start + hours
        i = bisect.bisect_left(self._starts, start)
        self._starts.insert(i, start)
        self._ends.insert(i, end)
        # merge with neighbours that touch
        if i + 1 < len(self._starts) and abs(self._starts[i + 1] - end) < EPS:
            self._ends[i] = self._ends[i + 1]
            del self._starts[i + 1], self._ends[i + 1]
        if i > 0 and abs(self._ends[i - 1] - start) < EPS:
            self._ends[i - 1] = self._ends[i]
            del self._starts[i], self._ends[i]


def _with_turnover(plan: Plan, streams) -> list[tuple[str, str, int, int | None, bool]]:
    """Everyone who works during the run: the scenario's people and dated changes, then, for
    pools with ``annual_turnover``, each post's chain of leavers and replacements drawn from
    the post's own stream (exponential times in post; the post empty for time_to_fill_weeks,
    or covered at once by an agency locum)."""
    from simulation.distributions import sampler

    weeks = plan.weeks
    rows = [(n, p, first, gone, False) for n, p, first, gone in sorted(plan.people)]
    out = []
    for name, pool_name, first, gone, agency in rows:
        pool = plan.scenario.staff[pool_name]
        if pool.annual_turnover <= 0 or gone is not None:
            out.append((name, pool_name, first, gone, agency))
            continue
        rng = streams.get(f"turnover:{name}")
        fill = sampler(pool.time_to_fill_weeks)
        current, start, hires = name, first, 0
        while True:
            stay = int(rng.exponential(52.0 / pool.annual_turnover))
            leave = start + max(stay, 1)
            if leave >= weeks:
                out.append((current, pool_name, start, None, agency))
                break
            out.append((current, pool_name, start, leave, agency))
            hires += 1
            if pool.agency_cover:  # a locum from the first day, the post filled later
                filled = leave + max(int(round(float(fill(rng, 1)[0]))), 1)
                locum = f"{name} locum {hires}"
                out.append((locum, pool_name, leave, min(filled, weeks), True))
            else:
                filled = leave + max(int(round(float(fill(rng, 1)[0]))), 0)
            if filled >= weeks:
                break
            current, start, agency = f"{name} hire {hires}", filled, False
    return sorted(out)


def alike(people: list[Person], site: str = "") -> list[list[Person]]:
    """``people`` in kinds whose ``Person.first_rostered`` is the same whatever is asked: the
    same usual week (at ``site``) and weeks in post, all it depends on besides its arguments.
    In a large clinic most share a few rosters."""
    kinds: dict[tuple, list[Person]] = {}
    for person in people:
        like = (person._usual_at(site)[1], person.first_week, person.gone_week)
        kinds.setdefault(like, []).append(person)
    return list(kinds.values())


class Staff:
    """Every person in the clinic, by pool, with the booking rules that span people.

    People are kept in name order and each has their own leave stream
    (``staff_leave:<name>``), so the order in which a scenario lists pools or members changes
    no draw and no tie (common random numbers keyed by name, never by position)."""

    def __init__(self, plan: Plan, streams, closed: set[int] | None = None) -> None:
        scenario = plan.scenario
        days = plan.weeks * 7
        closed = closed or set()
        self.people: dict[str, Person] = {}
        self.pools: dict[str, list[Person]] = {name: [] for name in sorted(scenario.staff)}
        self._one_of_each: dict[tuple, list[Person]] = {}  # (a team, a site): one of each kind
        self.employment = _with_turnover(plan, streams)
        for name, pool_name, first, gone, agency in self.employment:
            pool = scenario.staff[pool_name]
            person = self._person(
                name,
                pool_name,
                pool,
                plan.rosters[pool_name],
                streams.get(f"staff_leave:{name}"),
                days,
            )
            person.iop_cap, person.op_cap = plan.caseload_caps[pool_name]
            person.at_sites = dict(plan.site_hours.get(pool_name, {}))
            person.fixed += plan.travel.get(pool_name, ())  # travelling: never booked
            person.leave_days |= closed  # nobody works on a day the clinic is closed
            person.leave_days |= plan.site_closed_days.get(pool.site, frozenset())  # (theirs)
            # before joining and after leaving, every day is away (no booking, no group)
            person.first_week, person.gone_week = first, gone
            person.leave_days |= set(range(min(7 * first, days)))
            if gone is not None:
                person.leave_days |= set(range(7 * gone, days))
            if first > 0:  # caseloads open when they join (see clinic.py)
                person.iop_cap = person.op_cap = 0
            person.agency = agency
            self.pools[pool_name].append(person)
            self.people[name] = person
        for members in self.pools.values():
            members.sort(key=lambda p: p.name)

    @staticmethod
    def _person(name: str, pool_name: str, pool: StaffPool, roster, rng, days: int) -> Person:
        # Leave is drawn per person-day for the whole run and known in advance (as planned
        # leave is), so bookings avoid it; sickness would behave the same for groups.
        away = rng.random(days) < pool.absence_share
        return Person(
            name=name,
            pool=pool_name,
            role=pool.role,
            roster=list(roster),
            leave_days=set(np.flatnonzero(away).tolist()),
            indirect_hours=pool.indirect_hours_per_week,
            documentation_rate=pool.documentation_minutes_per_hour / 60.0,
        )

    def members(self, pool_names: list[str]) -> list[Person]:
        """Members of the pools, in name order (ties go to the first name, whatever the order
        the pools are listed in)."""
        return sorted(
            (p for name in dict.fromkeys(pool_names) for p in self.pools.get(name, [])),
            key=lambda p: p.name,
        )

    @staticmethod
    def earliest_slot(
        people: list[Person], earliest: float, hours: float, latest: float
    ) -> tuple[Person, float] | None:
        """The person and start time of the earliest free slot among ``people``."""
        best: tuple[Person, float] | None = None
        for person in people:
            start = person.find_slot(
                earliest, hours, latest if best is None else min(latest, best[1] + hours)
            )
            if start is not None and (best is None or start < best[1]):
                best = (person, start)
        return best

    def first_rostered(
        self, people: list[Person], earliest: float, hours: float, latest: float, site: str = ""
    ) -> float:
        """The earliest of the people's ``Person.first_rostered``: the slot empty diaries
        would give. Each team is sorted once into people alike (``alike``), and one of each
        kind is asked."""
        key = (tuple(map(id, people)), site)
        asked = self._one_of_each.get(key)
        if asked is None:
            asked = self._one_of_each[key] = [kind[0] for kind in alike(people, site)]
        best = math.inf
        for person in asked:
            start = person.first_rostered(earliest, hours, latest, site)
            if start < best:
                best = start
        return best

    @staticmethod
    def document(person: Person, after: float, hours: float, recorder) -> None:
        """Notes after client-facing work: booked in the person's free time from ``after`` to
        the end of that day; what finds no time that day is counted as unbooked (overtime)."""
        need = hours * person.documentation_rate
        if need <= EPS:
            return
        day_end = (after // HOURS_PER_DAY + 1) * HOURS_PER_DAY
        start = person.find_slot(after, need, day_end)
        if start is None:
            recorder.documentation_unbooked += need
            return
        person.book(start, need)
        recorder.indirect(person.name, start, start + need, "documentation")

    @staticmethod
    def least_loaded(people: list[Person], kind: str) -> Person | None:
        """The person with most caseload room (by share of cap) for ``kind`` 'iop' or 'op'."""
        best, best_load = None, 2.0
        for person in people:
            cap = person.iop_cap if kind == "iop" else person.op_cap
            held = person.iop_clients if kind == "iop" else person.op_clients
            if held < cap and held / cap < best_load:
                best, best_load = person, held / cap
        return best
