"""Levels of care beside the IOP (``config/levels.py``): a client waits for a place (with
``transfers_first``: transfers from other levels and the IOP first, then referrals, a referral
source's or intake's, by their source's priority; then in the order they came), stays, and
goes on by the level's routes: to another level, to the IOP or out of care.

Blocking: a client whose route leads on at once (no ``lead_days``) to a level or an IOP with no
place keeps their place while they wait when the level's ``when_full`` is "stay" (their days
there are blocked days, in care); with "wait_outside" they leave the place and wait outside
care (and, for the IOP, may give up as anyone on its waitlist).

Every draw comes from the level's own streams (``level_stay:<name>``, ``level_route:<name>``,
``level_gap:<name>``, ``level_step_up:<name>``, ``level_relapse:<name>``,
``level_patience:<name>``), in the order clients reach that point: adding a level never
shifts another stream. The route a client will leave by is drawn when they are admitted (a
route may have its own stays); a step-up on deterioration during the stay comes first if it
falls before the stay's end.

Patience (``patience_days``): a client waiting for a place out of care (a referral, or one
waiting outside on the way on) gives up when it runs out before a place is theirs, and is lost
to the clinic; one waiting in care (blocked, or still in the IOP) does not.

Relapse: a client out of care on the way on (in a gap, or waiting outside for a place here
or on the IOP's waitlist) may deteriorate and go to the level's ``relapse.to`` instead.
"""

from __future__ import annotations

import heapq
import math

from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.config.levels import IOP, OUT
from simulation.distributions import sampler

CENSUS = "level:"  # + name: places held (blocked clients included)
WAITING = "level_waitlist:"  # + name: clients waiting for a place
REFERRED = ("community", "intake")
"""Where a level's referrals come from (``came_from``): a source that places them there, or
intake (those assessed as needing this care). Everyone else is a transfer: from another
level, the IOP, a relapse on the way on, or a state's stay resumed."""
BLOCKED = "level_blocked:"  # + name: clients holding a place while they wait to go on


class Level:
    """One level during a run: its free places, who waits for one, and its draws. With places
    at each site of a network (``places_by_site``), each site has its own places and queue (a
    "ward" of the level); otherwise one ward, ``""``."""

    def __init__(self, spec, plan, streams, recorder) -> None:
        self.spec = spec
        self.plan = plan  # (compiled.LevelPlan: places in use, programme hours and staff)
        self.name = spec.name
        by_site = dict(plan.places_by_site)
        self.wards = sorted(by_site) if by_site else [""]
        self.free = (
            {site: float(n) for site, n in by_site.items()}
            if by_site
            else {"": math.inf if plan.places is None else plan.places}
        )
        self.queues: dict[str, list] = {
            ward: [] for ward in self.wards
        }  # (rank, joined, order, event)
        self.holders: dict[int, str] = {}  # clients holding a place (blocked ones included): ward
        self.attendance_rng = streams.get(f"level_attendance:{spec.name}")
        self._order = 0
        self.recorder = recorder
        self.stay = sampler(spec.stay_days)
        self.stay_rng = streams.get(f"level_stay:{spec.name}")
        self.route_rng = streams.get(f"level_route:{spec.name}")
        self.gap_rng = streams.get(f"level_gap:{spec.name}")
        self.step_up_rng = streams.get(f"level_step_up:{spec.name}")
        self.relapse_rng = streams.get(f"level_relapse:{spec.name}")
        self.patience = None if spec.patience_days is None else sampler(spec.patience_days)
        self.patience_rng = (
            None if self.patience is None else streams.get(f"level_patience:{spec.name}")
        )
        self.gaps = [sampler(route.lead_days) for route in spec.routes]
        self.route_stays = [
            self.stay if route.stay_days is None else sampler(route.stay_days)
            for route in spec.routes
        ]
        for prefix in (CENSUS, WAITING, BLOCKED):
            recorder.add_monitor(prefix + spec.name)
            if by_site:
                for site in self.wards:
                    recorder.add_monitor(f"{prefix}{spec.name}@{site}")

    def ward_for(self, site: str) -> str:
        """The ward a client of ``site`` takes a place in: their site's, or (no site of theirs
        here) the one with the most places free for those waiting, then by name."""
        if site in self.free:
            return site
        return max(
            self.wards, key=lambda w: (self.free[w] - len(self.queues[w]), -self.wards.index(w))
        )

    def count(self, prefix: str, ward: str, now: float, delta: int) -> None:
        """Move a monitor of the level (and of the ward, with places by site)."""
        self.recorder.monitors[prefix + self.name].add(now, delta)
        if ward:
            self.recorder.monitors[f"{prefix}{self.name}@{ward}"].add(now, delta)

    def request(self, env, transfer: bool, ward: str = "", priority: int = 0):
        """An event that fires (with the time) when the client has a place here (in
        ``ward``). With ``transfers_first``, transfers (``transfer``) are placed first, then
        referrals by their source's ``priority`` (lower first); then in the order they came."""
        event = env.event()
        if self.free[ward] > 0 and not self.queues[ward]:
            self.free[ward] -= 1
            self.count(CENSUS, ward, env.now, +1)
            event.succeed(env.now)
            return event
        first = self.spec.transfers_first
        rank = (0, 0) if transfer or not first else (1, priority)
        self._order += 1
        heapq.heappush(self.queues[ward], (rank, env.now, self._order, event))
        self.count(WAITING, ward, env.now, +1)
        return event

    def withdraw(self, env, event, ward: str = "") -> None:
        """A client waiting for a place here leaves the queue (relapsed on the way)."""
        self.queues[ward] = [entry for entry in self.queues[ward] if entry[3] is not event]
        heapq.heapify(self.queues[ward])
        self.count(WAITING, ward, env.now, -1)

    def release(self, env, client_id: int) -> None:
        """A place is given up: it passes to the first in the queue, or stays free."""
        ward = self.holders.pop(client_id, "")
        queue = self.queues[ward]
        if queue:
            event = heapq.heappop(queue)[3]
            self.count(WAITING, ward, env.now, -1)
            event.succeed(env.now)  # (the place passes on: the census does not change)
            return
        self.free[ward] += 1
        self.count(CENSUS, ward, env.now, -1)

    def draw_route(self) -> int | None:
        """The route this client will leave by (its index), or None: discharge."""
        u = self.route_rng.random()
        edge = 0.0
        for i, route in enumerate(self.spec.routes):
            edge += route.share
            if u < edge:
                return i
        return None

    def draw_stay(self, route: int | None) -> float:
        """Hours of the stay of a client who will leave by ``route``."""
        stay = self.stay if route is None else self.route_stays[route]
        return float(stay(self.stay_rng, 1)[0]) * HOURS_PER_DAY

    def draw_gap(self, route: int) -> float:
        return float(self.gaps[route](self.gap_rng, 1)[0]) * HOURS_PER_DAY

    def draw_patience(self) -> float:
        """Hours a client waiting here out of care waits before giving up; inf without the
        level's ``patience_days``."""
        if self.patience is None:
            return math.inf
        return float(self.patience(self.patience_rng, 1)[0]) * HOURS_PER_DAY

    def draw_hazard(self, hazard, rng) -> float:
        """Hours until a hazard (``step_up`` or ``relapse``) happens; inf without one."""
        if hazard is None:
            return math.inf
        return float(rng.exponential(HOURS_PER_WEEK / hazard.per_week))


def level_stay(
    env, clinic, c, name: str, came_from: str, holding=None, stay_hours=None, relapse=None
):
    """A stay at level ``name``: wait for a place, stay, then go on. ``holding``: called once
    the place is theirs, to give up the place the client keeps while they wait (blocked at the
    level they come from, or still attending the IOP on their way up); until then they are
    in that care. ``relapse``: for a client waiting out of care, (when, the visit they left)."""
    level = clinic.levels[name]
    visit = _visit(c, name, came_from, env.now)
    clinic.recorder.level_visits.append(visit)
    if holding is None:
        clinic.recorder.move(c, "level", env.now)
    ward = level.ward_for(c.site)
    visit["site"] = ward
    request = level.request(env, came_from not in REFERRED, ward, c.priority)
    relapse_at = math.inf if relapse is None else relapse[0]
    gives_up = math.inf
    rest, c._level_patience = c._level_patience, None  # (a state's: the rest of theirs)
    if holding is None and not request.triggered:  # waiting out of care
        gives_up = env.now + (level.draw_patience() if rest is None else rest)
    if not request.triggered and math.isfinite(min(relapse_at, gives_up)):
        yield request | env.timeout(max(min(relapse_at, gives_up) - env.now, 0.0))
        if not request.triggered:
            level.withdraw(env, request, ward)
            visit["left"] = env.now
            if env.now >= relapse_at:  # deteriorated while waiting outside care
                yield from relapsed(env, clinic, c, relapse[1])
            else:  # gave up waiting
                visit["gave_up"] = env.now
                clinic.lose(c)
            return
    else:
        yield request
    visit["admitted"] = env.now
    level.holders[c.id] = ward
    if holding is not None:
        holding()
        clinic.recorder.move(c, "level", env.now)
    spec = level.spec
    route = level.draw_route()
    stay = level.draw_stay(route) if stay_hours is None else stay_hours
    up = level.draw_hazard(spec.step_up, level.step_up_rng)
    if up < stay:  # deteriorates during the stay: steps up
        stay, to, reason, route = up, spec.step_up.to, "stepped_up", None
    elif route is None:
        to, reason = OUT, "completed"
    else:
        to, reason = spec.routes[route].to, spec.routes[route].reason
    yield env.timeout(stay)
    visit["ready"], visit["to"], visit["reason"] = env.now, to, reason
    gap = 0.0 if route is None else level.draw_gap(route)
    held = None
    if to != OUT and gap == 0 and (spec.when_full == "stay" or reason == "stepped_up"):
        held = _blocked(env, clinic, level, visit, c.id)  # until the next place is theirs
    else:
        level.release(env, c.id)
        visit["left"] = env.now
    if to == OUT:
        clinic.discharge(c)
        return
    relapse = None
    if held is None and spec.relapse is not None:  # out of care until the next place
        relapse = (env.now + level.draw_hazard(spec.relapse, level.relapse_rng), visit)
        if relapse[0] < env.now + gap:  # in the gap
            yield env.timeout(relapse[0] - env.now)
            yield from relapsed(env, clinic, c, visit)
            return
    if gap > 0:
        yield env.timeout(gap)
    if to == IOP:
        yield from clinic.into_iop(c, name, held, relapse)
    else:
        yield from level_stay(env, clinic, c, to, name, held, relapse=relapse)


def _visit(c, name: str, came_from: str, now: float) -> dict:
    return {
        "client_id": c.id,
        "level": name,
        "came_from": came_from,
        "queued": now,
        "admitted": math.nan,
        "ready": math.nan,
        "left": math.nan,
        "to": "",
        "reason": "",
        "relapsed": math.nan,
        "gave_up": math.nan,
        "site": "",
    }


def relapsed(env, clinic, c, visit: dict):
    """Process part: a client out of care on their way on from a level deteriorates: they go
    to the level's ``relapse.to`` (as a transfer) instead of the care they were waiting for."""
    visit["relapsed"] = env.now
    level = clinic.levels[visit["level"]]
    to = level.spec.relapse.to
    if to == IOP:
        yield from clinic.into_iop(c, level.name)
    else:
        yield from level_stay(env, clinic, c, to, "relapse")


def _blocked(env, clinic, level: Level, visit: dict, client_id: int):
    """A client ready to go on keeps their place here (a blocked day for each day) until their
    next place is theirs: what to call then, to free this one."""
    ward = level.holders.get(client_id, "")
    level.count(BLOCKED, ward, env.now, +1)

    def let_go() -> None:
        level.count(BLOCKED, ward, env.now, -1)
        level.release(env, client_id)
        visit["left"] = env.now

    return let_go


def let_go(holding) -> None:
    """(for the IOP's waitlist) A blocked client's place is free: they have their IOP place or
    left its waitlist."""
    if holding is not None:
        holding()


def run_programme(env, clinic, level: Level):
    """Process: a level's day programme, week after week. On each of its days the clinic is
    open, its staff who are in post and not on leave run it (busy for its hours: their diaries
    never had those hours free) and each client holding a place comes with the programme's
    chance of attendance (drawn from ``level_attendance:<name>`` in client order)."""
    programme = level.spec.programme
    people = [clinic.staff.people[name] for name in level.plan.programme_staff]
    recorder = clinic.recorder
    week = 0
    while True:
        base = week * HOURS_PER_WEEK
        for start, end in level.plan.programme_hours:
            t = base + start
            if t >= clinic.end:
                return
            if t > env.now:
                yield env.timeout(t - env.now)
            if int(t // HOURS_PER_DAY) in clinic.closed_days:
                continue
            for person in people:
                if person.in_post(week) and not person.on_leave(t):
                    recorder.busy(person.name, t, base + end, "programme")
            expected = sorted(level.holders)
            came = level.attendance_rng.random(len(expected)) < programme.attendance
            for cid, here in zip(expected, came, strict=True):
                if here:
                    recorder.level_attendance.append((cid, level.name, t, end - start))
        week += 1
