"""Group tracks: the weekly timetable, seats, enrolment and the sessions themselves.

``plan_timetable`` gives every weekly session of every track a room and its facilitators,
once, as a clinic does when it writes its timetable; it fails with a readable message when a
track cannot be staffed or housed. During the run each session is ONE event: at its time it
checks the facilitators are in (finding a stand-in from the same pools for anyone on leave),
draws attendance for all enrolled clients at once and credits the hours.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulation.clock import HOURS_PER_WEEK
from simulation.config import Track
from simulation.config.timetable import Slot
from simulation.model.staff import Staff


@dataclass
class TrackState:
    """A track during the run: its timetable and who holds its seats (client id -> start)."""

    track: Track
    slots: list[Slot]
    attendance_rng: object = None  # the track's own stream: attendance at its sessions
    hybrid_rng: object = None  # a hybrid track's own stream: who joins by video
    optional_rng: object = None  # with optional days: who takes part in optional sessions
    members: dict[int, float] = field(default_factory=dict)
    holiday_slots: list[Slot] | None = None  # in school-holiday weeks, if it has its own
    holiday_weeks: frozenset[int] = frozenset()
    away: list[tuple[float, float]] = field(init=False)  # clients' hours away
    _weeks: dict = field(default_factory=dict, repr=False)  # week -> its clients' busy hours

    def __post_init__(self) -> None:
        """The hours of the week its clients cannot come to appointments (school, work): the
        complement of the track's ``client_hours``."""
        self.away = []
        t = 0.0
        for start, end in sorted(self.track.client_intervals()):
            if start > t:
                self.away.append((t, start))
            t = max(t, end)
        if t < HOURS_PER_WEEK:
            self.away.append((t, HOURS_PER_WEEK))

    def slots_in(self, week: int) -> list[Slot]:
        """The sessions of a week: the holiday timetable in school-holiday weeks."""
        if self.holiday_slots is not None and week in self.holiday_weeks:
            return self.holiday_slots
        return self.slots

    def times_in(self, week: int) -> list[tuple[float, float]]:
        """(start, end) of each session of a week, hours after that week's Monday 00:00."""
        return [(slot.start, slot.end) for slot in self.slots_in(week)]

    def client_busy(self, week: int) -> tuple[list, list]:
        """A week's sessions and hours away as hours from week zero (computed once a week):
        what its members cannot book an appointment over."""
        found = self._weeks.get(week)
        if found is None:
            base = week * HOURS_PER_WEEK
            found = (
                [(base + s, base + e) for s, e in self.times_in(week)],
                [(base + s, base + e) for s, e in self.away],
            )
            self._weeks[week] = found
        return found

    @property
    def free_seats(self) -> int:
        return self.track.seats - len(self.members)

    def next_session(self, after: float) -> float:
        """Start time of the first session strictly after ``after``."""
        week = int(after // HOURS_PER_WEEK)
        for w in (week, week + 1):
            for slot in self.slots_in(w):
                t = w * HOURS_PER_WEEK + slot.start
                if t > after:
                    return t
        raise AssertionError("a track has at least one session a week")

    def is_cohort_start(self, t: float) -> bool:
        """True if ``t`` is the first session of a cohort week (every N weeks from the track's
        ``cohort_first_week``)."""
        week = int(t // HOURS_PER_WEEK)
        first = week * HOURS_PER_WEEK + self.slots_in(week)[0].start
        track = self.track
        cohort = (week - track.cohort_first_week) % track.cohort_every_weeks == 0
        return cohort and abs(t - first) < 1e-9


def run_track(env, clinic, state: TrackState):
    """The process that holds every session of one track, in timetable order."""
    for week in range(clinic.plan.weeks):
        for slot in state.slots_in(week):
            t = week * HOURS_PER_WEEK + slot.start
            yield env.timeout(t - env.now)
            hold_session(clinic, state, slot, week)


def hold_session(clinic, state: TrackState, slot: Slot, week: int) -> None:
    """One group session: staff it, draw attendance for all enrolled clients, credit hours.

    A session with nobody enrolled does not run (and is not counted as cancelled).
    """
    now = clinic.env.now
    track = state.track
    if track.admission == "cohort" and state.is_cohort_start(now):
        clinic.iop_waitlist.open_cohort(state)
    started = [cid for cid, start in state.members.items() if start <= now]
    if track.optional_days and track.is_optional(slot.start):  # only those who take part
        started = [cid for cid in started if clinic.clients[cid].takes_optional]
    recorder = clinic.recorder
    day = int(now // 24)
    closed = day in clinic.closed_days or day in clinic.plan.site_closed_days.get(track.site, ())
    if not started or closed:  # nobody enrolled, or closed (the clinic, or the track's site)
        outcome = "closed" if started else "empty"
        recorder.session(track.name, now, week, False, False, 0, 0, slot.room, "", outcome)
        return
    staffed = _staff_session(clinic, state, slot, now)
    if staffed is None:
        recorder.session(track.name, now, week, False, True, 0, len(started), slot.room, "")
        return
    facilitators, delay = staffed
    hours = slot.end - slot.start - delay
    now += delay  # a stand-in who came within the grace period: the session starts late
    chance = clinic.scenario.iop.attendance
    if clinic.scenario.iop.attendance_sd is not None:  # each client their own chance
        chance = np.array([clinic.clients[cid].attendance for cid in started])
    if track.modality == "virtual":
        chance = np.minimum(chance * track.virtual_attendance_multiplier, 1.0)
    elif track.modality == "hybrid":  # those joining by video come as a virtual group's do
        by_video = np.array([clinic.clients[cid].by_video for cid in started])
        video = np.minimum(chance * track.virtual_attendance_multiplier, 1.0)
        chance = np.where(by_video, video, chance)
    attended = (state.attendance_rng.random(len(started)) < chance).tolist()
    attendees = [cid for cid, came in zip(started, attended, strict=True) if came]
    absent = [cid for cid, came in zip(started, attended, strict=True) if not came]
    most = track.max_size_on(int(now // 24) % 7)
    if most is not None and len(attendees) > most:  # this day's kind of group is full
        recorder.turned_away.append((now, len(attendees) - most))
        attendees = attendees[:most]  # (those enrolled longest keep their places)
    if 0 < len(attendees) < track.min_attendance:
        small = SmallGroup(state, slot, attendees, len(started), hours, week, now, absent)
        gathering = clinic.gathering.at(clinic.env.now)
        partner = gathering.room_for(small)
        if partner is not None:
            _merge(clinic, small, partner)
        else:  # a session later in this same moment may still take them, else cancelled
            if not gathering.waiting:
                clinic.env.process(_settle(clinic, gathering))
            gathering.waiting.append(small)
        return
    if track.clients_per_facilitator:
        needed = -(-len(attendees) // track.clients_per_facilitator)
        extra = _extra_facilitators(clinic, state, facilitators, needed, now, now + hours)
        if extra is None:  # the ratio cannot be met: the session cannot run
            recorder.session(
                track.name, now, week, False, True, 0, len(started), slot.room, "", "cancelled"
            )
            return
        facilitators = facilitators + extra
    recorder.all_attended(attendees, now, "group", hours)
    recorder.absences.extend((cid, now) for cid in absent)  # (a session that ran)
    iop = clinic.scenario.iop
    if iop.dropout_after_missed_sessions is not None or iop.dropout_per_missed_session:
        _count_absences(clinic, started, attended)
    recorder.session(
        track.name,
        now,
        week,
        True,
        False,
        len(attendees),
        len(started),
        slot.room,
        ",".join(facilitators),
    )
    for name in facilitators:
        recorder.busy(name, now, now + hours, "group")
        Staff.document(clinic.staff.people[name], now + hours, hours, recorder)
    if slot.room:  # a virtual group uses no room
        recorder.busy(slot.room, now, now + hours, "group")
    if clinic.merging:  # some track has a minimum: small groups may join this session
        gathering = clinic.gathering.at(clinic.env.now)
        held = HeldGroup(state, _seats(clinic, state, slot), len(attendees))
        gathering.held.append(held)
        for small in list(gathering.waiting):  # smaller groups of this moment that fit
            if gathering.fits(small, held):
                gathering.waiting.remove(small)
                _merge(clinic, small, held)


@dataclass
class SmallGroup:
    """A session whose attendees fell below its track's minimum."""

    state: TrackState
    slot: Slot
    attendees: list[int]
    enrolled: int
    hours: float
    week: int
    time: float
    absent: list[int]  # enrolled and did not come


@dataclass
class HeldGroup:
    """A session running now: its track, the seats of the room it meets in, who is there."""

    state: TrackState
    seats: int
    present: int


@dataclass
class Gathering:
    """The group sessions of one moment: those held, and small ones waiting to join one.
    Tracks meeting at the same time are handled one after another (in name order), so a
    small group may join a session held before it or one held after it in the same moment;
    a merged group never exceeds the seats of the room it meets in."""

    time: float = -1.0
    held: list[HeldGroup] = field(default_factory=list)
    waiting: list[SmallGroup] = field(default_factory=list)

    def at(self, time: float) -> Gathering:
        if time != self.time:
            self.time, self.held, self.waiting = time, [], []
        return self

    @staticmethod
    def fits(small: SmallGroup, held: HeldGroup) -> bool:
        a, b = small.state.track, held.state.track
        return (
            a.age_group == b.age_group
            and a.modality == b.modality  # a video group and a room group do not merge
            and held.present + len(small.attendees) <= held.seats
        )

    def room_for(self, small: SmallGroup) -> HeldGroup | None:
        return next((h for h in self.held if self.fits(small, h)), None)


def _seats(clinic, state: TrackState, slot: Slot) -> int:
    """Places where a session meets: its room's seats (plus its video places when hybrid),
    or its track's seats by video."""
    track = state.track
    if not slot.room:
        return track.seats
    room = next(r.seats for r in clinic.scenario.rooms if r.name == slot.room)
    return room + (track.seats - track.room_seats_needed if track.modality == "hybrid" else 0)


def _merge(clinic, small: SmallGroup, held: HeldGroup) -> None:
    """The small group's attendees join the held session (and get its hours)."""
    held.present += len(small.attendees)
    for cid in small.attendees:
        clinic.recorder.attended(cid, small.time, "group", small.hours)
    clinic.recorder.absences.extend((cid, small.time) for cid in small.absent)
    _record_small(clinic, small, "merged")


def _record_small(clinic, small: SmallGroup, outcome: str) -> None:
    clinic.recorder.session(
        small.state.track.name,
        small.time,
        small.week,
        False,
        False,
        len(small.attendees),
        small.enrolled,
        small.slot.room,
        "",
        outcome,
    )


def _settle(clinic, gathering: Gathering):
    """Process: once every session of this moment has been handled, a small group that
    joined none is cancelled."""
    yield clinic.env.timeout(0)
    for small in gathering.waiting:
        _record_small(clinic, small, "cancelled_low_attendance")
    gathering.waiting = []


def _extra_facilitators(clinic, state: TrackState, present: list[str], needed: int, start, end):
    """More facilitators from the track's pools who are free now, when the ratio asks for
    more than are present; None if not enough are free."""
    missing = needed - len(present)
    if missing <= 0:
        return []
    found = [
        p
        for p in clinic.staff.members(state.track.facilitator_pools)
        if p.name not in present and not p.on_leave(start) and p.is_free(start, end)
    ][:missing]
    if len(found) < missing:
        return None
    for person in found:
        person.book(start, end - start)
    return [p.name for p in found]


def _count_absences(clinic, started: list[int], attended) -> None:
    """Absences end stays: a client who misses ``dropout_after_missed_sessions`` sessions in
    a row drops out, and after each missed session one drops out with chance
    ``dropout_per_missed_session`` (the planned exit is replaced); a client waiting in their
    seat for step-down does not."""
    iop = clinic.scenario.iop
    limit = iop.dropout_after_missed_sessions
    hazard = iop.dropout_per_missed_session or 0.0
    for cid, came in zip(started, attended, strict=True):
        c = clinic.clients[cid]
        c._missed_in_a_row = 0 if came else c._missed_in_a_row + 1
        if came or c.status != "iop" or not c._process.is_alive:
            continue
        in_a_row = limit is not None and c._missed_in_a_row >= limit
        if in_a_row or (hazard and clinic.dropout_rng.random() < hazard):
            c._process.interrupt("missed sessions")


def survival_through_absences(
    attendance: np.ndarray, hazard: float, limit: int | None, sessions: int
) -> np.ndarray:
    """For each chance of coming in ``attendance``, the chance of still being in the IOP
    after ``sessions`` group sessions: each missed session ends the stay with chance
    ``hazard``, and ``limit`` missed in a row end it (None: no such rule)."""
    attendance = np.asarray(attendance, dtype=float)
    missed = (1.0 - attendance) * (1.0 - hazard)  # missed and stayed
    if limit is None:
        return (attendance + missed) ** sessions
    # the chance of each run of missed sessions (0 .. limit - 1) so far, per candidate
    runs = np.zeros((len(attendance), limit))
    runs[:, 0] = 1.0
    for _ in range(sessions):
        stayed = runs.sum(axis=1)
        runs[:, 1:] = runs[:, :-1] * missed[:, None]  # (a run reaching the limit ends it)
        runs[:, 0] = stayed * attendance
    return runs.sum(axis=1)


def _staff_session(
    clinic, state: TrackState, slot: Slot, now: float
) -> tuple[list[str], float] | None:
    """The facilitators who run this session and its delay in hours: anyone on leave is
    replaced by a free member of the track's pools, waiting up to the track's grace period
    for one to become free (the session then starts late and is shorter). None if the
    session must be cancelled."""
    staff = clinic.staff
    end = now + (slot.end - slot.start)
    present = [n for n in slot.facilitators if not staff.people[n].on_leave(now)]
    missing = len(slot.facilitators) - len(present)
    if missing == 0:
        return present, 0.0
    grace = state.track.grace_minutes / 60.0
    delays = [0.0] + [d / 60.0 for d in range(5, state.track.grace_minutes + 1, 5)]
    for delay in delays:
        if delay > grace or now + delay >= end:
            break
        found = [
            p
            for p in staff.members(state.track.facilitator_pools)
            if p.name not in slot.facilitators
            and not p.on_leave(now)
            and p.is_free(now + delay, end)
        ][:missing]
        if len(found) == missing:
            for person in found:
                person.book(now + delay, end - now - delay)
            return present + [p.name for p in found], delay
    return None
