"""Waitlists and admission: who gets the next IOP seat and the next outpatient slot.

The IOP waitlist is ordered by referral-source priority, then first come. A client is placed
when a seat in a track for their age group AND a primary therapist with caseload room are both
free. The track's admission policy says when they start: ``rolling`` at the track's next
session, ``cohort`` only at a cohort's first session, ``immediate`` at once (for checks
against queueing theory). Placement is re-tried whenever something frees or someone joins.
"""

from __future__ import annotations

import heapq
from collections import Counter

from simulation.model.groups import TrackState
from simulation.model.network import POOLED, SITE_LIMITS
from simulation.model.staff import Person, Staff


class IopWaitlist:
    """The queue for IOP places, and the seats and caseloads it hands out."""

    def __init__(self, clinic) -> None:
        self.clinic = clinic
        # one heap per age group of (priority, joined, client id): joining, placing and giving
        # up cost O(log n) however long the list (a client who gave up is dropped lazily)
        self.queues: dict[str, list[tuple[int, float, int]]] = {}
        self.clients: dict[int, object] = {}  # who is waiting, by id
        self.tracks: dict[str, TrackState] = clinic.tracks
        self.therapists: list[Person] = clinic.iop_therapists
        self.waiting_ages: Counter = Counter()  # lanes of those waiting
        # a lane is who may take a track's seats: its age group, and with sites its site (a
        # network-wide track serves every site; every track serves the pooled lane)
        scenario = clinic.scenario
        sites = sorted(s.name for s in scenario.sites)
        self.sites = bool(sites)
        self.pooled = scenario.network.routing == "pooled"
        self._site_monitors: dict[str, list] = {}  # site -> its SITE_LIMITS monitors
        self.serves = {
            name: {state.track.age_group}
            if not sites
            else {
                f"{site}|{state.track.age_group}"
                for site in ([state.track.site] if state.track.site else sites)
            }
            | {f"{POOLED}|{state.track.age_group}"}
            for name, state in self.tracks.items()
        }

        self.serves_any = {
            lane for lanes in self.serves.values() for lane in lanes if not lane.startswith(POOLED)
        }
        self.tracks_for: dict[str, list[TrackState]] = {}  # lane -> the tracks serving it
        for name, lanes in self.serves.items():
            for lane in lanes:
                self.tracks_for.setdefault(lane, []).append(self.tracks[name])
        self.site_of_lane = {lane: lane.split("|", 1)[0] for lane in self.serves_any}
        # kept current as seats are taken and freed, so that placing and noting what limits
        # admissions cost the same however many tracks there are: the rolling (or immediate)
        # tracks with a free seat, and each lane's count of such tracks [rolling, cohort]
        self.open_rolling: dict[str, TrackState] = {}
        self.free_in_lane: dict[str, list[int]] = {lane: [0, 0] for lane in self.tracks_for}
        for state in self.tracks.values():
            self._update_open(state, False)
        if self.sites and not self.pooled:  # what holds admissions up at each site
            for site in sites:
                for why in SITE_LIMITS:
                    clinic.recorder.add_monitor(f"{why}:{site}")

    def lane(self, c) -> str:
        """The queue a client waits in: their age group (with sites: and their site)."""
        if not self.sites:
            return c.age_group
        return f"{POOLED if self.pooled else c.site}|{c.age_group}"

    def join(self, c) -> None:
        self.clinic.recorder.move(c, "iop_waitlist", self.clinic.env.now)
        heapq.heappush(
            self.queues.setdefault(self.lane(c), []), (c.priority, c.iop_waitlisted, c.id)
        )
        self.clients[c.id] = c
        self.waiting_ages[self.lane(c)] += 1
        self.place_clients()

    def give_up(self, c) -> None:
        del self.clients[c.id]  # its heap entry is skipped when it comes to the top
        self.waiting_ages[self.lane(c)] -= 1
        self._note_what_limits()

    def _head(self, age_group: str) -> tuple[int, float, int] | None:
        """The first client waiting in an age group (dropping those who gave up)."""
        queue = self.queues.get(age_group)
        while queue and queue[0][2] not in self.clients:
            heapq.heappop(queue)
        return queue[0] if queue else None

    def _seat(self, state: TrackState, cid: int, start: float | None) -> None:
        """Client ``cid`` takes a seat of ``state`` from ``start`` (None: leaves it), keeping
        the open tracks and each lane's count of them current."""
        was_open = state.free_seats > 0
        if start is None:
            del state.members[cid]
        else:
            state.members[cid] = start
        self._update_open(state, was_open)

    def _update_open(self, state: TrackState, was_open: bool) -> None:
        """After a seat of ``state`` was taken or freed (``was_open``: it had a free seat
        before): keep the open tracks and each lane's count of them current."""
        now_open = state.free_seats > 0
        if now_open == was_open:
            return
        cohort = state.track.admission == "cohort"
        for lane in self.serves[state.track.name]:
            self.free_in_lane[lane][cohort] += 1 if now_open else -1
        if cohort:
            return
        if now_open:
            self.open_rolling[state.track.name] = state
        else:
            del self.open_rolling[state.track.name]

    def _note_what_limits(self) -> None:
        """Record whether someone waits for a place that cannot be given now, and why: no
        free seat in a track for their age group, every primary therapist at their caseload
        cap, or free seats only in cohort tracks between cohort starts."""
        seats = caseload = cohort = False
        waiting = [age for age, n in self.waiting_ages.items() if n > 0]
        if waiting:
            caseload = bool(self.therapists) and Staff.least_loaded(self.therapists, "iop") is None
            for lane in waiting:
                rolling, cohorts = self.free_in_lane.get(lane, (0, 0))
                if rolling + cohorts == 0:
                    seats = True
                elif rolling == 0:
                    cohort = True
        now = self.clinic.env.now
        m = self.clinic.recorder.monitors
        if self.sites and not self.pooled:
            self._note_site_limits(waiting, now, m)
        m["blocked_any"].set(now, int(bool(waiting)))
        m["blocked_by_seats"].set(now, int(seats))
        m["blocked_by_caseload"].set(now, int(caseload))
        m["blocked_by_cohort"].set(now, int(cohort))

    def _note_site_limits(self, waiting: list[str], now: float, m) -> None:
        """For each site: whether someone waits for a place there that cannot be given now,
        and why (no free seat for them at the site or in a network-wide track; no therapist
        of the site, or of every site, with caseload room)."""
        where = self.clinic.site_of_pool
        by_site: dict[str, list[str]] = {site: [] for site in self.site_of_lane.values()}
        for lane in waiting:
            by_site[self.site_of_lane[lane]].append(lane)
        for site, lanes in by_site.items():
            seats = any(sum(self.free_in_lane[lane]) == 0 for lane in lanes)
            caseload = bool(lanes) and bool(self.therapists)
            caseload = caseload and not any(
                p.iop_clients < p.iop_cap and where[p.pool] in (None, site) for p in self.therapists
            )
            monitors = self._site_monitors.get(site)
            if monitors is None:  # (looked up once a site)
                monitors = self._site_monitors[site] = [m[f"{n}:{site}"] for n in SITE_LIMITS]
            monitors[0].set(now, int(bool(lanes)))
            monitors[1].set(now, int(seats))
            monitors[2].set(now, int(caseload))

    def open_cohort(self, state: TrackState) -> None:
        """A cohort track's first session is about to start: fill its free seats now."""
        self.place_clients(cohort=state)

    def release(self, c) -> None:
        """Client ``c`` leaves the IOP: free the seat and caseload place, place the next."""
        state = self.tracks[c.track]
        self._seat(state, c.id, None)
        self.clinic.recorder.seats(self.clinic.env.now, -1)
        if c.therapist:
            self.clinic.staff.people[c.therapist].iop_clients -= 1
            self.clinic.recorder.monitors["caseload_held"].add(self.clinic.env.now, -1)
        self.place_clients()

    def _open_tracks(self, cohort: TrackState | None) -> list[TrackState]:
        """Tracks with a free seat that admit now: rolling ones, and a cohort track at its
        cohort's start (in any order: a placement never depends on it)."""
        open_tracks = list(self.open_rolling.values())
        if cohort is not None and cohort.free_seats > 0 and cohort.track.admission == "cohort":
            open_tracks.append(cohort)
        return open_tracks

    def place_clients(self, cohort: TrackState | None = None) -> None:
        """Place as many waiting clients as seats and caseloads allow, in waitlist order."""
        self._place_clients(cohort)
        self._note_what_limits()

    def _place_clients(self, cohort: TrackState | None) -> None:
        """In waitlist order across age groups, among those whose age group has a track with
        a free seat; stops when every primary therapist is at their caseload cap."""
        if not self.clients:
            return
        open_tracks = self._open_tracks(cohort)
        now = self.clinic.env.now
        stuck: set[str] = set()  # (with sites) lanes whose free seats have no therapist free
        while open_tracks:
            heads = [
                (head, lane)
                for lane in set().union(*(self.serves[s.track.name] for s in open_tracks))
                if lane not in stuck and (head := self._head(lane)) is not None
            ]
            if not heads:
                return
            if self.therapists and Staff.least_loaded(self.therapists, "iop") is None:
                return  # every primary therapist is at their caseload cap
            head, lane = min(heads)
            fitting = [s for s in open_tracks if lane in self.serves[s.track.name]]
            if self.sites and self.therapists:  # a therapist of the seat's site
                fitting = [s for s in fitting if self._primary_for(s) is not None]
                if not fitting:
                    stuck.add(lane)
                    continue
            heapq.heappop(self.queues[lane])
            c = self.clients[head[2]]
            starts = [
                now if s.track.admission != "rolling" else s.next_session(now) for s in fitting
            ]
            best = min(
                range(len(fitting)),
                key=lambda k: (starts[k], -fitting[k].free_seats, fitting[k].track.name),
            )
            self._place(c, fitting[best], starts[best], self._primary_for(fitting[best]))
            self.waiting_ages[lane] -= 1
            open_tracks = [s for s in open_tracks if s.free_seats > 0]

    def _primary_for(self, state: TrackState) -> Person | None:
        """The least-loaded primary therapist, preferring those of the track's facilitator
        pools (they work when the client comes in); anyone with room otherwise."""
        if not self.therapists:
            return None
        therapists = self.therapists
        if self.sites and state.track.site is not None:  # (at the seat's site, or anywhere)
            where = self.clinic.site_of_pool
            therapists = [p for p in therapists if where[p.pool] in (None, state.track.site)]
        pools = state.track.facilitator_pools
        preferred = [p for p in therapists if p.pool in pools]
        return Staff.least_loaded(preferred, "iop") or Staff.least_loaded(therapists, "iop")

    def seat_on_the_books(self, c, state: TrackState | None, therapist: str | None) -> None:
        """A client already in the IOP when the run starts: their seat (even past the seats:
        the clinic may be over them) and their primary therapist, if they have room."""
        now = self.clinic.env.now
        if state is None:
            fitting = [s for s in self.tracks.values() if s.track.age_group == c.age_group]
            state = max(
                fitting or list(self.tracks.values()), key=lambda s: (s.free_seats, s.track.name)
            )
        self._seat(state, c.id, now)
        self.clinic.recorder.seats(now, +1)
        c.track = state.track.name
        c.placed = c.iop_start
        person = self.clinic.staff.people.get(therapist or "")
        if person is None or person.iop_clients >= person.iop_cap:
            person = self._primary_for(state)
        if person is not None:
            person.iop_clients += 1
            c.therapist = person.name
            self.clinic.recorder.monitors["caseload_held"].add(now, +1)

    def _place(self, c, state: TrackState, start: float, therapist: Person | None) -> None:
        now = self.clinic.env.now
        del self.clients[c.id]
        self._seat(state, c.id, start)
        self.clinic.recorder.seats(now, +1)
        c.track = state.track.name
        c.placed = now
        if self.sites:
            if self.pooled:  # (seen at the site of the seat they took)
                c.site = state.track.site or c.site
            self.clinic.router.started_or_left(c)
        if therapist is not None:
            therapist.iop_clients += 1
            c.therapist = therapist.name
            self.clinic.recorder.monitors["caseload_held"].add(now, +1)
        c._placed_event.succeed(start)


class OpWaitlist:
    """The queue for standard outpatient (step-down) places, first come first served."""

    def __init__(self, clinic) -> None:
        self.clinic = clinic
        self.waiting: list = []
        self.clinicians: list[Person] = clinic.staff.members(clinic.scenario.step_down.pools)

    def join(self, c) -> None:
        self.waiting.append(c)
        self.place_clients()

    def release(self, c) -> None:
        if c.op_therapist:
            self.clinic.staff.people[c.op_therapist].op_clients -= 1
        self.place_clients()

    def place_clients(self) -> None:
        while self.waiting:
            clinician = Staff.least_loaded(self.clinicians, "op")
            if clinician is None:
                return
            c = self.waiting.pop(0)
            clinician.op_clients += 1
            c.op_therapist = clinician.name
            c._op_event.succeed()
