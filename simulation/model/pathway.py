"""One client's journey: referral, intake, the IOP waitlist, the IOP, step-down, discharge.

Everything random about a client (loss before assessment, assessment length, intake outcome,
exit reason, length of stay, patience, medication need, step-down) is drawn for all clients
at once from named streams when the replication starts (see ``clinic.py``), so client k gets
the same draws in every scenario that shares a seed: comparisons are paired.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import simpy

from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.model import appointments
from simulation.model.levels import let_go, relapsed
from simulation.model.staff import Staff

NAN = math.nan


@dataclass(slots=True)
class Client:
    """A referral and everything that happens to them (times in simulation hours)."""

    id: int
    source: str
    priority: int
    age_group: str
    referred: float
    # drawn in advance
    lost_before_assessment: bool
    assessment_hours: float
    outcome: str
    exit_reason: str
    los_days: float
    patience_days: float
    needs_medication: bool
    steps_down: bool
    op_weeks: float
    # what happened
    status: str = "referred"
    intake_clinician: str = ""
    intake_booked_for: float = NAN
    intake_first_booked_for: float = NAN  # the appointment first booked
    intake_first_rostered: float = NAN  # the slot an empty diary would have given then
    intake_start: float = NAN
    assessed: float = NAN
    iop_waitlisted: float = NAN
    placed: float = NAN
    iop_start: float = NAN
    iop_end: float = NAN
    track: str = ""
    therapist: str = ""
    prescriber: str = ""
    blocked_from: float = NAN
    op_waitlisted: float = NAN
    op_start: float = NAN
    op_end: float = NAN
    op_therapist: str = ""
    left: float = NAN
    by_video: bool = False  # in a hybrid track: joins its groups by video
    takes_optional: bool = False  # in a track with optional sessions: takes part in them
    attendance: float = NAN  # their own chance of coming (iop.attendance_sd), else NaN
    readmission_of: int = -1  # the client whose discharge this re-referral follows
    payer: str = ""  # who pays (with [[payers]])
    region: str = ""  # where they were referred from (with [[sites]])
    site: str = ""  # the site they are seen at (with [[sites]]; pooled: the site of their seat)
    authorisation_days: float = 0.0  # the payer's delay before their first IOP day
    review_denied: bool = False  # an extension of their authorised days was refused
    evaluation_requested: float = NAN  # waiting for a prescriber's evaluation before starting
    evaluated: float = NAN  # the psychiatric evaluation (the first visit with a prescriber)
    planned_exit: str = ""  # the reason drawn at admission, when what happened replaced it
    # bookkeeping during the run
    _loss_fraction: float = 0.0
    _gives_up_at: float = math.inf  # (intake on a cancellation list)
    _intake_booking: Any = field(default=None, repr=False)
    _moved: Any = field(default=None, repr=False)
    _intake_patience_days: float = math.inf
    _iop_planned_end: float = NAN
    _op_planned_end: float = NAN
    _next_medication: float = NAN
    _next_family: float = NAN
    _appointments: list = field(default_factory=list, repr=False)
    _booked: list = field(default_factory=list, repr=False)  # (appointments, to cancel them)
    _missed_in_a_row: int = 0
    _process: Any = field(default=None, repr=False)
    _placed_event: Any = field(default=None, repr=False)
    _op_event: Any = field(default=None, repr=False)
    _relapse: Any = field(default=None, repr=False)  # (when, level visit): see levels.relapsed
    # a state's client waiting for a level's place: the rest of their patience there, hours
    _level_patience: float | None = None


def client_journey(env, clinic, c: Client):
    """The process of one client, read top to bottom as the story of their care."""
    if clinic.router is not None and not c.region and not c.site:  # (not yet routed)
        clinic.router.route(c)
    entry = clinic.entry_level.get(c.source, "iop")
    if entry != "iop":  # a source that places its referrals at a level of care directly
        c.outcome = ""  # (placed as they arrive: no intake, no assessment)
        yield from clinic.to_level(c, entry, "community")
        return
    if clinic.scenario.intake.enabled:
        assessed = yield from intake(env, clinic, c)
        if not assessed:
            return
    else:
        c.assessed = env.now  # referred straight to the IOP waitlist
    if c.outcome != "iop":  # to the level intake names for their outcome, or referred on
        rules = clinic.scenario.intake
        level = {"higher_care": rules.higher_care_to, "outpatient": rules.outpatient_to}
        if level.get(c.outcome) is not None:
            yield from clinic.to_level(c, level[c.outcome], "intake")
            return
        leave(clinic, c, "referred_on")
        return
    yield from iop_journey(env, clinic, c)


def iop_journey(env, clinic, c: Client, holding=None):
    """From the decision for the IOP on: the payer's authorisation, a psychiatric evaluation
    first if needed, the IOP waitlist, the IOP and after. ``holding``: the place at a level of
    care a blocked client keeps until their IOP place is theirs (or they leave its list)."""
    if c.authorisation_days > 0:  # the payer authorises the IOP before anyone can be placed
        clinic.recorder.move(c, "authorisation", env.now)
        yield env.timeout(c.authorisation_days * HOURS_PER_DAY)
    if evaluation_first(clinic, c):
        evaluated = yield from psychiatric_evaluation(env, clinic, c)
        if not evaluated:
            let_go(holding)
            return
    placed = yield from wait_for_iop_place(env, clinic, c)
    let_go(holding)
    if placed == RELAPSED:  # (their next wait for the IOP is a wait of its own)
        c.iop_waitlisted = math.nan
        yield from relapsed(env, clinic, c, c._relapse[1])
        return
    if not placed:
        return
    yield from attend_iop(env, clinic, c)
    yield from after_iop(env, clinic, c)


def after_iop(env, clinic, c: Client):
    """Step up to a level of care (an escalated exit, with ``iop.escalate_to``: still attending
    the IOP while they wait for the place, unless ``escalate_when_full`` is "wait_outside"), step down to
    outpatient care, or leave (a completer refused an extension by the payer steps down as
    they would have: outpatient care is the level the payer still funds)."""
    iop = clinic.scenario.iop
    if iop.escalate_to is not None and c.exit_reason == "escalated":
        if iop.escalate_when_full == "stay":  # attended in the IOP until the place is theirs
            clinic.recorder.move(c, "blocked", env.now)  # (holding the seat, as step-downs do)
            c.blocked_from = env.now
            yield from clinic.to_level(
                c, iop.escalate_to, "iop", holding=lambda: leave_iop(clinic, c)
            )
            return
        leave_iop(clinic, c)
        yield from clinic.to_level(c, iop.escalate_to, "iop")
        return
    if c.steps_down and (
        c.exit_reason == "completed"
        or (c.exit_reason == "authorisation_ended" and c.planned_exit == "completed")
    ):
        yield from step_down(env, clinic, c)
    else:
        leave_iop(clinic, c)
        leave(clinic, c, "discharged")


def resume_journey(env, clinic, c: Client, stage: str, track=None, therapist: str | None = None):
    """The rest of the journey of a client already on the clinic's books when a run starts
    from a state (their remaining stay or patience was drawn given the time already spent)."""
    if stage == "intake_waitlist":
        if c.id in clinic.lost_on_the_books:  # lost by the state's date, not yet recorded
            leave(clinic, c, "lost")
            return
        yield from client_journey(env, clinic, c)
        return
    if stage in clinic.levels:  # holding a place at a level of care: the rest of the stay
        yield from clinic.to_level(c, stage, "state", clinic.resume_stays.pop(c.id))
        return
    level = stage.removesuffix("_waitlist")
    if level in clinic.levels:  # waiting for a place there: a referral of its source or intake's
        yield from clinic.to_level(c, level, "intake" if c.outcome else "community")
        return
    if stage == "authorisation":  # assessed: the payer's authorisation, an evaluation, ...
        yield from iop_journey(env, clinic, c)
        return
    if stage == "iop_waitlist":
        placed = yield from wait_for_iop_place(env, clinic, c)
        if not placed:
            return
        yield from attend_iop(env, clinic, c)
        yield from after_iop(env, clinic, c)
        return
    if stage == "iop":
        clinic.iop_waitlist.seat_on_the_books(c, track, therapist)
        yield from attend_iop(env, clinic, c)
        yield from after_iop(env, clinic, c)
        return
    clinicians = clinic.op_waitlist.clinicians
    if clinicians:  # on the books: with their clinician, even past a cap
        person = min(clinicians, key=lambda p: (p.op_clients - p.op_cap, p.name))
        person.op_clients += 1
        c.op_therapist = person.name
    yield from outpatient(env, clinic, c)


BOOKED_BEYOND_END = 52 * HOURS_PER_WEEK
"""How far past the run's end an intake is booked: a client whose appointment falls after
the end still gives up part-way through their wait, or when their patience runs out, as they
would have (an intake booked only within the run left those referred late, or everyone once
intake is overloaded, waiting to the end whatever their patience)."""


def _book_intake(clinic, c: Client, earliest: float):
    """Book the earliest intake slot from ``earliest`` (with an office where intakes need
    one), up to a year after the run's end: (clinician, start, office or None), or None."""
    office_needed = clinic.offices.needed_for("intake", c.site)
    people = clinic.intake_people_for(c)
    until = clinic.end + BOOKED_BEYOND_END
    if office_needed or (c.site and any(p.at_sites for p in people)):
        booking = appointments.earliest_for_client(
            people, [], earliest, c.assessment_hours, until, office_needed or None, c.site
        )
    else:
        found = Staff.earliest_slot(people, earliest, c.assessment_hours, until)
        booking = None if found is None else (*found, None)
    if booking is None:
        return None
    clinician, start, office = booking
    clinician.book(start, c.assessment_hours)
    if office is not None:
        office.book(start, c.assessment_hours)
    if math.isnan(c.intake_booked_for):
        c.intake_first_booked_for = start  # (a cancellation list may move it earlier)
        # what the rosters alone offered: the rest of the wait is the queue for intake
        c.intake_first_rostered = clinic.staff.first_rostered(
            people, earliest, c.assessment_hours, until, c.site
        )
    c.intake_booked_for = start
    return booking


def _release_intake(c: Client, booking) -> None:
    clinician, start, office = booking
    clinician.release(start, c.assessment_hours)
    if office is not None:
        office.release(start, c.assessment_hours)


def _wait_on_the_list(env, clinic, c: Client, booking, gives_up_after: float):
    """Wait for the appointment on the cancellation list: when someone booked earlier gives
    up, the clinic calls those booked after the freed slot (earliest booked first) and moves
    them into the earliest slots they can take with notice. The client gives up at the same
    moment as without the list (their share of the original wait, or their patience), unless
    their appointment has come first. Returns the booking kept, or None if they gave up."""
    wait = booking[1] - env.now
    c._gives_up_at = env.now + min(
        wait * c._loss_fraction if c.lost_before_assessment else math.inf, gives_up_after
    )
    c._intake_booking = booking
    clinic.intake_list[c.id] = c
    while True:
        start = c._intake_booking[1]
        c._moved = env.event()
        yield env.timeout(min(start, c._gives_up_at) - env.now) | c._moved
        if c._moved.triggered:
            continue  # called from the list: a new, earlier appointment
        del clinic.intake_list[c.id]
        if c._gives_up_at < start:
            _release_intake(c, c._intake_booking)
            leave(clinic, c, "lost")
            _call_the_list(clinic, start)
            return None
        return c._intake_booking


def _call_the_list(clinic, freed: float) -> None:
    """A slot starting at ``freed`` came free: those booked after it (and far enough ahead
    for the notice) are offered the earliest slots they can take, earliest booked first;
    nobody gets a later slot than they had."""
    intake = clinic.scenario.intake
    now = clinic.env.now
    notice = now + intake.cancellation_notice_hours
    movable = sorted(
        (
            w
            for w in clinic.intake_list.values()
            if w._intake_booking[1] >= freed - 1e-9 and w._intake_booking[1] >= notice
        ),
        key=lambda w: (w._intake_booking[1], w.id),
    )
    for w in movable:
        _release_intake(w, w._intake_booking)
    lead = intake.booking_lead_days * HOURS_PER_DAY
    for w in movable:
        before = w._intake_booking
        booking = _book_intake(clinic, w, max(notice, w.referred + lead))
        w._intake_booking = booking
        if booking[:2] != before[:2] and not w._moved.triggered:
            w._moved.succeed()


def intake(env, clinic, c: Client):
    """Wait for an intake appointment in an intake clinician's free rostered time."""
    limit = clinic.scenario.waitlist.intake_max_length
    if limit is not None and clinic.recorder.monitors["intake_waitlist"].value >= limit:
        leave(clinic, c, "turned_away")
        return False
    clinic.recorder.move(c, "intake_waitlist", env.now)
    # the earliest appointment is the lead time after the call (for a client already waiting
    # when a run starts from a state, that may be today)
    lead = clinic.scenario.intake.booking_lead_days * HOURS_PER_DAY
    booking = _book_intake(clinic, c, max(env.now, c.referred + lead))
    gives_up_after = c._intake_patience_days * HOURS_PER_DAY
    if booking is None:  # no intake time within a year of the end: waiting while patient
        yield from _give_up_after(env, clinic, c, gives_up_after)
        return False
    clinician, start, office = booking
    wait = start - env.now
    if clinic.scenario.intake.cancellation_list:
        booking = yield from _wait_on_the_list(env, clinic, c, booking, gives_up_after)
        if booking is None:
            return False
        clinician, start, office = booking
    elif c.lost_before_assessment or gives_up_after < wait:
        # The client drops out part-way through the wait (lost share), or when their
        # patience runs out before the appointment; the slot goes back in the diary.
        yield env.timeout(
            min(wait * c._loss_fraction if c.lost_before_assessment else wait, gives_up_after)
        )
        _release_intake(c, booking)
        leave(clinic, c, "lost")
        return False
    yield env.timeout(start - env.now)
    c.intake_clinician = clinician.name
    c.intake_start = env.now
    clinic.recorder.move(c, "in_assessment", env.now)
    clinic.recorder.busy(clinician.name, env.now, env.now + c.assessment_hours, "intake")
    if office is not None:
        clinic.recorder.busy(office.name, env.now, env.now + c.assessment_hours, "intake")
    Staff.document(clinician, env.now + c.assessment_hours, c.assessment_hours, clinic.recorder)
    yield env.timeout(c.assessment_hours)
    c.assessed = env.now  # the outcome is known when the assessment ends
    return True


def _give_up_after(env, clinic, c: Client, patience_hours: float):
    """Process part: a client with no appointment to wait for gives up when their patience
    runs out (if the run lasts that long)."""
    if math.isfinite(patience_hours) and env.now + patience_hours < clinic.end:
        yield env.timeout(patience_hours)
        leave(clinic, c, "lost")


def evaluation_first(clinic, c: Client) -> bool:
    """Whether the client must see a prescriber before their first IOP day: their payer needs
    a physician's certification, or the scenario evaluates those needing medication first."""
    payer = clinic.payers.get(c.payer)
    if payer is not None and payer.requires_certification:
        return True
    return c.needs_medication and clinic.scenario.iop.evaluation_before_start


def psychiatric_evaluation(env, clinic, c: Client):
    """The evaluation (and certification) by a prescriber before the IOP: the earliest slot of
    any prescriber; the client gives up if it is further off than their patience (what they
    waited is taken from their patience on the IOP waitlist). False if they gave up or no
    prescriber has time before the run ends."""
    iop = clinic.scenario.iop
    clinic.recorder.move(c, "evaluation", env.now)
    c.evaluation_requested = env.now
    hours = iop.medication_first_hours
    offices = appointments.offices_for(clinic, "medication", c.site)
    booking = appointments.earliest_for_client(
        clinic.prescribers, [], env.now, hours, clinic.end, offices, c.site
    )
    patience = c.patience_days * HOURS_PER_DAY
    if booking is None:  # no prescriber has time before the run ends: waiting while patient
        yield from _give_up_after(env, clinic, c, patience)
        return False
    prescriber, start, office = booking
    if start - env.now > patience:
        yield env.timeout(patience)
        leave(clinic, c, "lost")
        return False
    prescriber.book(start, hours)
    if office is not None:
        office.book(start, hours)
        clinic.recorder.busy(office.name, start, start + hours, "medication")
    yield env.timeout(start - env.now)
    clinic.recorder.attended(c.id, start, "evaluation", hours)
    clinic.recorder.busy(prescriber.name, start, start + hours, "medication")
    Staff.document(prescriber, start + hours, hours, clinic.recorder)
    c.prescriber, c.evaluated = prescriber.name, start
    yield env.timeout(hours)
    return True


RELAPSED = "relapsed"
"""(wait_for_iop_place) The client left the waitlist to a level of care: they deteriorated
while waiting out of care on their way from a level (its ``relapse``)."""


def wait_for_iop_place(env, clinic, c: Client):
    """Join the IOP waitlist until placed in a track with a primary therapist, give up, or
    (coming from a level, out of care) relapse: True, False or RELAPSED."""
    limit = clinic.scenario.waitlist.iop_max_length
    if limit is not None and clinic.recorder.monitors["iop_waitlist"].value >= limit:
        leave(clinic, c, "turned_away")
        return False
    if math.isnan(c.iop_waitlisted):
        c.iop_waitlisted = env.now  # (a client on the books at the start keeps their date)
    c._placed_event = env.event()
    clinic.iop_waitlist.join(c)
    relapse_at = math.inf if c._relapse is None else c._relapse[0]
    if not c._placed_event.triggered:
        left = math.inf
        if math.isfinite(c.patience_days):
            # (what they waited for an evaluation before joining comes off their patience)
            waited = 0.0 if math.isnan(c.evaluated) else c.evaluated - c.evaluation_requested
            left = max(c.patience_days * HOURS_PER_DAY - waited, 0.0)
        if math.isfinite(min(left, relapse_at)):
            yield c._placed_event | env.timeout(min(left, max(relapse_at - env.now, 0.0)))
        else:
            yield c._placed_event
    if not c._placed_event.triggered:
        clinic.iop_waitlist.give_up(c)
        if env.now >= relapse_at:  # deteriorated waiting out of care: to a level instead
            return RELAPSED
        leave(clinic, c, "lost")
        return False
    start = c._placed_event.value
    if start > env.now:
        yield env.timeout(start - env.now)
    return True


def attend_iop(env, clinic, c: Client):
    """Attend groups, individual therapy and medication reviews for the length of stay (for a
    client already in the IOP when the run starts: the rest of it)."""
    if math.isnan(c.iop_start):
        c.iop_start = env.now
        track = clinic.tracks[c.track].track if c.track in clinic.tracks else None
        if track is not None and track.modality == "hybrid":  # drawn by track, name-keyed
            c.by_video = bool(clinic.tracks[c.track].hybrid_rng.random() < track.hybrid_video_share)
        if track is not None and track.optional_days:  # drawn by track, name-keyed
            c.takes_optional = bool(
                clinic.tracks[c.track].optional_rng.random() < track.optional_share
            )
        if track is not None and (track.modality == "virtual" or c.by_video):
            c.los_days *= track.virtual_stay_multiplier
    clinic.recorder.move(c, "iop", env.now)
    _utilisation_review(clinic, c)
    c._iop_planned_end = env.now + c.los_days * HOURS_PER_DAY
    interval = clinic.scenario.iop.medication_interval_weeks * HOURS_PER_WEEK
    # evaluated before starting: the first review is an interval after the evaluation
    c._next_medication = env.now if math.isnan(c.evaluated) else c.evaluated + interval
    c._next_family = env.now + HOURS_PER_WEEK
    clinic.in_iop[c.id] = c
    week_end = (env.now // HOURS_PER_WEEK + 1) * HOURS_PER_WEEK
    appointments.book_iop_week(clinic, c, env.now, week_end)
    try:
        yield env.timeout(c.los_days * HOURS_PER_DAY)
    except simpy.Interrupt:
        c.planned_exit = c.planned_exit or c.exit_reason
        c.exit_reason = "dropped_out"  # missed too many sessions in a row (see groups.py)
        appointments.cancel_after(clinic, c, env.now)


def _utilisation_review(clinic, c: Client) -> None:
    """The payer's reviews over the stay: after the days authorised, an extension is granted
    with its probability for so many days more, and so on; a client refused one leaves at that
    review with the exit reason 'authorisation_ended', whatever their planned reason was. A
    client in care when the run starts (a state's) faces only the reviews still to come: the
    ones before were granted, or they would have left."""
    payer = clinic.payers.get(c.payer)
    if payer is None or payer.authorised_days is None:
        return
    spent = (clinic.env.now - c.iop_start) / HOURS_PER_DAY
    review = float(payer.authorised_days)
    while review <= spent:  # (a state's client in care: the reviews passed are behind them)
        review += payer.extension_days
    rng = clinic.review_rngs[payer.name]
    while review < spent + c.los_days:
        if rng.random() >= payer.extension_probability:
            c.los_days = max(review - spent, 0.0)
            c.review_denied = True
            c.planned_exit = c.exit_reason
            c.exit_reason = "authorisation_ended"
            return
        review += payer.extension_days


def step_down(env, clinic, c: Client):
    """Move to standard outpatient care; with blocking, keep the IOP seat until a slot frees."""
    blocking = clinic.scenario.step_down.blocking
    c.op_waitlisted = env.now
    c._op_event = env.event()
    if blocking:
        clinic.recorder.move(c, "blocked", env.now)
        c.blocked_from = env.now
    else:
        leave_iop(clinic, c)
        clinic.recorder.move(c, "op_waitlist", env.now)
    clinic.op_waitlist.join(c)
    if not c._op_event.triggered:
        yield c._op_event
    if blocking:
        leave_iop(clinic, c)
    c.op_start = env.now
    yield from outpatient(env, clinic, c)


def outpatient(env, clinic, c: Client):
    """Standard outpatient care for the client's weeks, then discharge."""
    clinic.recorder.move(c, "op", env.now)
    c._op_planned_end = env.now + c.op_weeks * HOURS_PER_WEEK
    clinic.in_op[c.id] = c
    week_end = (env.now // HOURS_PER_WEEK + 1) * HOURS_PER_WEEK
    tomorrow = (
        env.now // HOURS_PER_DAY + 1
    ) * HOURS_PER_DAY  # first outpatient session from tomorrow
    appointments.book_op_week(clinic, c, tomorrow, week_end)
    yield env.timeout(c.op_weeks * HOURS_PER_WEEK)
    del clinic.in_op[c.id]
    c.op_end = env.now
    clinic.op_waitlist.release(c)
    leave(clinic, c, "discharged")


def leave_iop(clinic, c: Client) -> None:
    """Give up the IOP seat and the primary therapist's caseload place."""
    clinic.in_iop.pop(c.id, None)
    c.iop_end = clinic.env.now
    clinic.iop_waitlist.release(c)


def leave(clinic, c: Client, status: str) -> None:
    """Leave the clinic's books: discharged, lost, turned away or referred on (a discharged
    client may be referred again later: see ``readmission``)."""
    c.left = clinic.env.now
    if clinic.router is not None:
        clinic.router.started_or_left(c)
    clinic.recorder.move(c, status, clinic.env.now)
    if status == "discharged" and clinic.readmitting:
        clinic.refer_again(c)
