"""Levels of care beside the IOP (``config/levels.py``): a client waits for a place (transfers
from other levels and the IOP first, then referrals in the order they came), stays, and goes on
by the level's routes: to another level, to the IOP or out of care.

Blocking: a client whose route leads on at once (no ``lead_days``) to a level or an IOP with no
place keeps their place while they wait when the level's ``when_full`` is "stay" (their days
there are blocked days, in care); with "wait_outside" they leave the place and wait outside
care (and, for the IOP, may give up as anyone on its waitlist).

Every draw comes from the level's own streams (``level_stay:<name>``, ``level_route:<name>``,
``level_gap:<name>``), in the order clients reach that point: adding a level never shifts
another stream.
"""

from __future__ import annotations

import heapq
import math

from simulation.clock import HOURS_PER_DAY
from simulation.config.levels import IOP, OUT
from simulation.distributions import sampler

CENSUS = "level:"  # + name: places held (blocked clients included)
WAITING = "level_waitlist:"  # + name: clients waiting for a place
BLOCKED = "level_blocked:"  # + name: clients holding a place while they wait to go on


class Level:
    """One level during a run: its free places, who waits for one, and its draws."""

    def __init__(self, spec, streams, recorder) -> None:
        self.spec = spec
        self.name = spec.name
        self.free = math.inf if spec.places is None else spec.places
        self.queue: list = []  # (rank, joined, order, event): transfers (rank 0) first
        self._order = 0
        self.recorder = recorder
        self.stay = sampler(spec.stay_days)
        self.stay_rng = streams.get(f"level_stay:{spec.name}")
        self.route_rng = streams.get(f"level_route:{spec.name}")
        self.gap_rng = streams.get(f"level_gap:{spec.name}")
        self.gaps = [sampler(route.lead_days) for route in spec.routes]
        for prefix in (CENSUS, WAITING, BLOCKED):
            recorder.add_monitor(prefix + spec.name)

    def request(self, env, transfer: bool):
        """An event that fires (with the time) when the client has a place here."""
        event = env.event()
        if self.free > 0 and not self.queue:
            self.free -= 1
            self.recorder.monitors[CENSUS + self.name].add(env.now, +1)
            event.succeed(env.now)
            return event
        rank = 0 if transfer and self.spec.transfers_first else 1
        self._order += 1
        heapq.heappush(self.queue, (rank, env.now, self._order, event))
        self.recorder.monitors[WAITING + self.name].add(env.now, +1)
        return event

    def release(self, env) -> None:
        """A place is given up: it passes to the first in the queue, or stays free."""
        if self.queue:
            event = heapq.heappop(self.queue)[3]
            self.recorder.monitors[WAITING + self.name].add(env.now, -1)
            event.succeed(env.now)  # (the place passes on: the census does not change)
            return
        self.free += 1
        self.recorder.monitors[CENSUS + self.name].add(env.now, -1)

    def draw_stay(self) -> float:
        return float(self.stay(self.stay_rng, 1)[0]) * HOURS_PER_DAY

    def draw_route(self) -> tuple[str, float]:
        """Where this client goes when their stay ends, and after how many hours."""
        u = self.route_rng.random()
        edge = 0.0
        for route, gap in zip(self.spec.routes, self.gaps, strict=True):
            edge += route.share
            if u < edge:
                return route.to, float(gap(self.gap_rng, 1)[0]) * HOURS_PER_DAY
        return OUT, 0.0


def level_stay(env, clinic, c, name: str, came_from: str, holding=None, stay_hours=None):
    """A stay at level ``name``: wait for a place (still holding ``holding``, the place and
    visit of the level they come from, if they are blocked there), stay, then go on."""
    level = clinic.levels[name]
    visit = {
        "client_id": c.id,
        "level": name,
        "came_from": came_from,
        "queued": env.now,
        "admitted": math.nan,
        "ready": math.nan,
        "left": math.nan,
        "to": "",
    }
    clinic.recorder.level_visits.append(visit)
    clinic.recorder.move(c, "level", env.now)
    yield level.request(env, transfer=came_from != "community")
    visit["admitted"] = env.now
    if holding is not None:
        _let_go(env, clinic, holding)
    yield env.timeout(level.draw_stay() if stay_hours is None else stay_hours)
    visit["ready"] = env.now
    to, gap = level.draw_route()
    visit["to"] = to
    held = None
    if to != OUT and gap == 0 and level.spec.when_full == "stay":
        held = (level, visit)  # blocked until the next place is theirs
        clinic.recorder.monitors[BLOCKED + name].add(env.now, +1)
    else:
        level.release(env)
        visit["left"] = env.now
    if to == OUT:
        clinic.discharge(c)
        return
    if gap > 0:
        yield env.timeout(gap)
    if to == IOP:
        yield from clinic.into_iop(c, name, held)
    else:
        yield from level_stay(env, clinic, c, to, name, held)


def _let_go(env, clinic, holding) -> None:
    """A blocked client has their next place: the one they held is free."""
    level, visit = holding
    clinic.recorder.monitors[BLOCKED + level.name].add(env.now, -1)
    level.release(env)
    visit["left"] = env.now


def let_go(env, clinic, holding) -> None:
    """(for the IOP's waitlist) A blocked client's place is free: they have their IOP place or
    left its waitlist."""
    if holding is not None:
        _let_go(env, clinic, holding)
