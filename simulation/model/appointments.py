"""Appointments around the groups: individual therapy, medication reviews, family sessions
and outpatient sessions, booked a week at a time in the clinician's free rostered hours.

Every Monday 00:00 the clinic books the week for everyone in its care (new clients get the
rest of their first week when they start). An appointment that finds no free slot that week
is counted as unbooked; a due medication review stays due and is tried again next week.
Weekly sessions count as due only when the client is in care for at least three days of
that week (a client who starts on a Friday is not owed that week's individual session).
"""

from __future__ import annotations

from simulation.clock import HOURS_PER_WEEK
from simulation.model.staff import Person, Staff

MIN_DAYS_OWED = 3.0 * 24  # hours of a week in care before its weekly sessions are owed


def weekly_booking(env, clinic):
    """Process: book every client's appointments at the start of each week."""
    for week in range(clinic.scenario.total_weeks):
        yield env.timeout(week * HOURS_PER_WEEK - env.now)
        week_end = (week + 1) * HOURS_PER_WEEK
        for c in list(clinic.in_iop.values()):
            book_iop_week(clinic, c, env.now, week_end)
        for c in list(clinic.in_op.values()):
            book_op_week(clinic, c, env.now, week_end)


def _client_week(clinic, c, earliest: float, week_end: float) -> list[tuple[float, float]]:
    """The client's own commitments from ``earliest`` to the end of the week: their track's
    groups and the appointments already booked for them."""
    c._appointments = [(s, e) for s, e in c._appointments if e > earliest]  # forget past ones
    busy = list(c._appointments)
    if c.track and c.status in ("iop", "blocked"):
        base = (earliest // HOURS_PER_WEEK) * HOURS_PER_WEEK
        busy += [(base + s, base + e) for s, e in clinic.tracks[c.track].weekly_times]
    return busy


def find_time(
    person: Person, client_busy: list, earliest: float, hours: float, latest: float
) -> float | None:
    """The first slot free in both the clinician's diary and the client's week."""
    while True:
        start = person.find_slot(earliest, hours, latest)
        if start is None:
            return None
        clash = [e for s, e in client_busy if s < start + hours and start < e]
        if not clash:
            return start
        earliest = max(clash)


def _earliest_for_client(
    people: list[Person], client_busy, earliest: float, hours: float, latest: float
):
    best = None
    for person in people:
        start = find_time(person, client_busy, earliest, hours, latest)
        if start is not None and (best is None or start < best[1]):
            best = (person, start)
    return best


def _appointment(
    clinic, c, client_busy, person: Person, start: float, hours: float, kind: str
) -> None:
    person.book(start, hours)
    c._appointments.append((start, start + hours))
    client_busy.append((start, start + hours))
    if clinic.appointment_rng.random() < clinic.scenario.iop.attendance:
        clinic.recorder.attended(c.id, start, kind, hours)
        clinic.recorder.busy(person.name, start, start + hours, kind)
        Staff.document(person, start + hours, hours, clinic.recorder)


def book_iop_week(clinic, c, earliest: float, week_end: float) -> None:
    """Book an IOP client's individual, medication and family sessions in [earliest, week_end)."""
    iop = clinic.scenario.iop
    recorder = clinic.recorder
    # Clients blocked waiting for step-down stay in the IOP until they leave; book their week.
    latest = week_end if c.status == "blocked" else min(week_end, c._iop_planned_end)
    busy = _client_week(clinic, c, earliest, week_end)
    if c.therapist and latest - earliest >= MIN_DAYS_OWED:
        therapist = clinic.staff.people[c.therapist]
        hours = iop.individual_session_hours
        for _ in range(iop.individual_sessions_per_week):
            start = find_time(therapist, busy, earliest, hours, latest)
            recorder.appointment("individual", earliest, start is not None)
            if start is not None:
                _appointment(clinic, c, busy, therapist, start, hours, "individual")
        if iop.family_session_interval_weeks and c._next_family < latest:
            hours = iop.family_session_hours
            start = find_time(therapist, busy, max(earliest, c._next_family), hours, latest)
            recorder.appointment("family", earliest, start is not None)
            if start is not None:
                _appointment(clinic, c, busy, therapist, start, hours, "family")
                c._next_family = start + iop.family_session_interval_weeks * HOURS_PER_WEEK
    if c.needs_medication and clinic.prescribers and c._next_medication < latest:
        hours = iop.medication_review_hours if c.prescriber else iop.medication_first_hours
        people = [clinic.staff.people[c.prescriber]] if c.prescriber else clinic.prescribers
        booking = _earliest_for_client(
            people, busy, max(earliest, c._next_medication), hours, latest
        )
        recorder.appointment("medication", earliest, booking is not None)
        if booking is not None:
            prescriber, start = booking
            c.prescriber = prescriber.name
            _appointment(clinic, c, busy, prescriber, start, hours, "medication")
            c._next_medication = start + iop.medication_interval_weeks * HOURS_PER_WEEK


def book_op_week(clinic, c, earliest: float, week_end: float) -> None:
    """Book an outpatient client's sessions with their outpatient clinician."""
    step_down = clinic.scenario.step_down
    latest = min(week_end, c._op_planned_end)
    if latest - earliest < MIN_DAYS_OWED or not c.op_therapist:
        return  # (a leaver's client without a new clinician yet)
    clinician = clinic.staff.people[c.op_therapist]
    busy = _client_week(clinic, c, earliest, week_end)
    for _ in range(step_down.sessions_per_week):
        start = find_time(clinician, busy, earliest, step_down.session_hours, latest)
        clinic.recorder.appointment("outpatient", earliest, start is not None)
        if start is not None:
            _appointment(clinic, c, busy, clinician, start, step_down.session_hours, "outpatient")
