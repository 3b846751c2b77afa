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
    for week in range(clinic.plan.weeks):
        yield env.timeout(week * HOURS_PER_WEEK - env.now)
        clinic.appointment_list.clear()  # last week's list: those weeks are over
        week_end = (week + 1) * HOURS_PER_WEEK
        for c in list(clinic.in_iop.values()):
            book_iop_week(clinic, c, env.now, week_end)
        for c in list(clinic.in_op.values()):
            book_op_week(clinic, c, env.now, week_end)


def _client_week(clinic, c, earliest: float, week_end: float) -> list[tuple[float, float]]:
    """The client's own commitments from ``earliest`` to the end of the week: their track's
    groups and the appointments already booked for them."""
    c._appointments = [(s, e) for s, e in c._appointments if e > earliest]  # forget past ones
    c._booked = [b for b in c._booked if b[0] + b[1] > earliest]
    busy = list(c._appointments)
    track = clinic.tracks.get(c.track)
    if track is not None:
        sessions, away = track.client_busy(int(earliest // HOURS_PER_WEEK))
        if c.status in ("iop", "blocked"):
            busy += sessions
        busy += away  # hours the client cannot come (school, work)
    return busy


def find_time(
    person: Person,
    client_busy: list,
    earliest: float,
    hours: float,
    latest: float,
    offices: list[Person] | None = None,
    site: str = "",
) -> tuple[float, Person | None] | None:
    """The first slot free in the clinician's diary, the client's week and, for a session
    that needs one, some office: (start, office), or None if there is none by ``latest``
    (``site``: the client's; a clinician working at another site then cannot see them)."""
    if site and person.at_sites:
        client_busy = client_busy + person.away_from(site, earliest, latest)
    while True:
        start = person.find_slot(earliest, hours, latest)
        if start is None:
            return None
        end = start + hours
        clash = [e for s, e in client_busy if s < end and start < e]
        if clash:
            earliest = max(clash)
            continue
        if not offices:
            return start, None
        office = next((o for o in offices if o.is_free(start, start + hours)), None)
        if office is not None:
            return start, office
        later = [t for o in offices if (t := o.find_slot(start, hours, latest)) is not None]
        if not later:
            return None
        earliest = min(later)  # the next time an office is free for as long


def earliest_for_client(
    people: list[Person],
    client_busy,
    earliest: float,
    hours: float,
    latest: float,
    offices: list[Person] | None = None,
    site: str = "",
):
    """The clinician (first in order on a tie), start and office of the earliest slot. Once
    someone has a slot, the others are only searched up to it (a later slot cannot win)."""
    best = None
    for person in people:
        bound = latest if best is None else min(latest, best[1] + hours)
        found = find_time(person, client_busy, earliest, hours, bound, offices, site)
        if found is not None and (best is None or found[0] < best[1]):
            best = (person, *found)
    return best


def offices_for(clinic, kind: str, site: str = "") -> list[Person] | None:
    """The offices this session may use, or None if it needs none (no office is used for
    its kind, or an individual or medication session held by video)."""
    offices = clinic.offices.needed_for(kind, site)
    share = clinic.scenario.iop.virtual_appointment_share
    video = offices and share > 0 and kind in ("individual", "medication")
    if video and clinic.appointment_rng.random() < share:
        return None
    return offices


def _appointment(
    clinic,
    c,
    client_busy,
    person: Person,
    start: float,
    hours: float,
    kind: str,
    office: Person | None = None,
) -> None:
    person.book(start, hours)
    busy = []
    if office is not None:  # booked for the client whether or not they come
        office.book(start, hours)
        busy.append(clinic.recorder.busy(office.name, start, start + hours, kind))
    c._appointments.append((start, start + hours))
    client_busy.append((start, start + hours))
    chance = c.attendance if c.attendance == c.attendance else clinic.scenario.iop.attendance
    came = None
    if clinic.appointment_rng.random() < chance:
        came = clinic.recorder.attended(c.id, start, kind, hours)
        busy.append(clinic.recorder.busy(person.name, start, start + hours, kind))
        Staff.document(person, start + hours, hours, clinic.recorder)
    c._booked.append((start, hours, person, office, came, busy))


def cancel_after(clinic, c, now: float) -> None:
    """A client who leaves unexpectedly (a dropout after missed sessions): their appointments
    from ``now`` on are cancelled, the clinicians' and offices' slots given back and what was
    recorded for them taken back (their notes stay booked: a small overstatement)."""
    keep, freed = [], []
    for start, hours, person, office, came, busy in c._booked:
        if start < now:
            keep.append((start, hours, person, office, came, busy))
            continue
        person.release(start, hours)
        if office is not None:
            office.release(start, hours)
        clinic.recorder.cancel(came, busy)
        freed.append(person)
    c._booked = keep
    c._appointments = [(s, e) for s, e in c._appointments if s < now]
    if clinic.scenario.iop.cancellation_list:
        for person in freed:
            _call_the_list(clinic, person, now)


def _call_the_list(clinic, person: Person, now: float) -> None:
    """Offer a therapist's freed time to their clients whose individual session this week
    found no slot, in the order they were put on the list."""
    waiting = clinic.appointment_list.get(person.name, [])
    still = []
    for c, hours, latest, record in waiting:
        if latest <= now or c.status not in ("iop", "blocked"):
            continue  # the week is over, or they have left
        busy = _client_week(clinic, c, now, latest)
        found = find_time(
            person, busy, now, hours, latest, offices_for(clinic, "individual", c.site), c.site
        )
        if found is None:
            still.append((c, hours, latest, record))
            continue
        _appointment(clinic, c, busy, person, found[0], hours, "individual", found[1])
        clinic.recorder.booked_later(record)
    clinic.appointment_list[person.name] = still


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
            found = find_time(
                therapist,
                busy,
                earliest,
                hours,
                latest,
                offices_for(clinic, "individual", c.site),
                c.site,
            )
            record = recorder.appointment("individual", earliest, found is not None, c.track)
            if found is not None:
                _appointment(clinic, c, busy, therapist, found[0], hours, "individual", found[1])
            elif iop.cancellation_list:  # on the list for a slot freed this week
                clinic.appointment_list.setdefault(therapist.name, []).append(
                    (c, hours, latest, record)
                )
        if iop.family_session_interval_weeks and c._next_family < latest:
            hours = iop.family_session_hours
            found = find_time(
                therapist,
                busy,
                max(earliest, c._next_family),
                hours,
                latest,
                offices_for(clinic, "family", c.site),
                c.site,
            )
            recorder.appointment("family", earliest, found is not None, c.track)
            if found is not None:
                _appointment(clinic, c, busy, therapist, found[0], hours, "family", found[1])
                c._next_family = found[0] + iop.family_session_interval_weeks * HOURS_PER_WEEK
    if c.needs_medication and clinic.prescribers and c._next_medication < latest:
        hours = iop.medication_review_hours if c.prescriber else iop.medication_first_hours
        people = [clinic.staff.people[c.prescriber]] if c.prescriber else clinic.prescribers
        booking = earliest_for_client(
            people,
            busy,
            max(earliest, c._next_medication),
            hours,
            latest,
            offices_for(clinic, "medication", c.site),
            c.site,
        )
        recorder.appointment("medication", earliest, booking is not None, c.track)
        if booking is not None:
            prescriber, start, office = booking
            recorder.medication_delays.append((start, start - c._next_medication))
            if not c.prescriber:
                c.evaluated = start  # the first visit is the psychiatric evaluation
            c.prescriber = prescriber.name
            _appointment(clinic, c, busy, prescriber, start, hours, "medication", office)
            c._next_medication = start + iop.medication_interval_weeks * HOURS_PER_WEEK


def book_op_week(clinic, c, earliest: float, week_end: float) -> None:
    """Book an outpatient client's sessions with their outpatient clinician."""
    step_down = clinic.scenario.step_down
    latest = min(week_end, c._op_planned_end)
    if latest - earliest < MIN_DAYS_OWED or not c.op_therapist:
        return  # (a leaver's client without a new clinician yet)
    clinician = clinic.staff.people[c.op_therapist]
    busy = _client_week(clinic, c, earliest, week_end)
    hours = step_down.session_hours
    for _ in range(step_down.sessions_per_week):
        found = find_time(
            clinician,
            busy,
            earliest,
            hours,
            latest,
            clinic.offices.needed_for("outpatient", c.site),
            c.site,
        )
        clinic.recorder.appointment("outpatient", earliest, found is not None)
        if found is not None:
            _appointment(clinic, c, busy, clinician, found[0], hours, "outpatient", found[1])
