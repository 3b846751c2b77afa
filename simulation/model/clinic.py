"""The clinic: builds staff, rooms, tracks and waitlists from a scenario, starts the processes
and runs the simulation.

Processes: one that releases referrals at their arrival times, one per client journey, one per
track holding its group sessions, and one that books each week's appointments.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from simulation import clock
from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
from simulation.compiled import Plan
from simulation.config import EXIT_REASONS, attendance_beta, payer_shares
from simulation.distributions import sampler
from simulation.model import referrals
from simulation.model.appointments import weekly_booking
from simulation.model.groups import Gathering, TrackState, run_track, survival_through_absences
from simulation.model.levels import Level, level_stay, run_programme
from simulation.model.network import WAITING as WAITING_STAGES
from simulation.model.network import Router
from simulation.model.offices import Offices
from simulation.model.pathway import Client, client_journey, iop_journey, leave, resume_journey
from simulation.model.recorder import Recorder
from simulation.model.staff import Staff
from simulation.model.waitlists import IopWaitlist, OpWaitlist
from simulation.streams import Streams


class ClinicModel:
    """One replication of a clinic.

    Parameters
    ----------
    plan: the scenario compiled (``compiled.compile_scenario``): its rosters, timetable,
        caseload caps, closed days and referral rates; ``plan.scenario`` holds the rest.
    streams: the replication's named random streams.
    """

    def __init__(self, plan: Plan, streams: Streams) -> None:
        scenario = plan.scenario
        self.plan = plan
        self.scenario = scenario
        self.streams = streams
        self.env = simpy.Environment()
        self.end = plan.end
        self.recorder = Recorder()
        self.closed_days = set(plan.closed_days)
        self.gathering = Gathering()  # the group sessions of the current moment (merges)
        self.merging = any(t.min_attendance for t in scenario.tracks)
        self.staff = Staff(plan, streams, self.closed_days)
        self.offices = Offices(plan, self.closed_days)
        self.recorder.employment = self.staff.employment
        self.appointment_rng = streams.get("appointment_attendance")
        self.dropout_rng = streams.get("missed_session_dropout")
        shares = scenario.readmission.share
        self.readmitting = shares.any()
        self.readmission_rng = streams.get("readmission")
        self.payers = {p.name: p for p in scenario.payers}
        self.review_rngs = {p.name: streams.get(f"review:{p.name}") for p in scenario.payers}
        timetable = plan.timetable
        # school-holiday weeks, when tracks with a holiday timetable meet by it
        holiday_weeks = plan.holiday_weeks
        holidays = plan.holiday_timetable
        # tracks in name order, each with its own attendance stream: listing them in another
        # order changes nothing
        self.tracks = {
            t.name: TrackState(
                t,
                list(timetable[t.name]),
                streams.get(f"attendance:{t.name}"),
                streams.get(f"hybrid:{t.name}") if t.modality == "hybrid" else None,
                streams.get(f"optional:{t.name}") if t.optional_days else None,
                holiday_slots=list(holidays[t.name]) if holidays else None,
                holiday_weeks=holiday_weeks,
            )
            for t in sorted(scenario.tracks, key=lambda t: t.name)
        }
        for slots in timetable.values():
            for slot in slots:
                for name in slot.facilitators:
                    self.staff.people[name].fixed.append((slot.start, slot.end))
        if holidays:  # each person's groups in holiday weeks
            for person in self.staff.people.values():
                person.holiday_fixed, person.holiday_weeks = [], holiday_weeks
            for slots in holidays.values():
                for slot in slots:
                    for name in slot.facilitators:
                        self.staff.people[name].holiday_fixed.append((slot.start, slot.end))
        for level in plan.levels.values():  # those who run a level's day programme
            for name in level.programme_staff:
                self.staff.people[name].fixed += level.programme_hours
                if self.staff.people[name].holiday_fixed is not None:
                    self.staff.people[name].holiday_fixed += level.programme_hours
        for person in self.staff.people.values():
            person.reserve_indirect()  # after the groups: from what is left of each day
        self.intake_people = self.staff.members(scenario.intake.pools)
        self.iop_therapists = [
            p for p in self.staff.members(scenario.iop.therapist_pools) if p.iop_cap > 0
        ]
        self.prescribers = self.staff.members(scenario.iop.prescriber_pools)
        self.in_iop: dict[int, Client] = {}
        self.intake_list: dict[int, Client] = {}  # booked for intake, on the cancellation list
        self._samplers: dict[int, object] = {}  # one sampler per distribution (fresh clients)
        self.appointment_list: dict[str, list] = {}  # individual sessions waiting for a slot
        self.in_op: dict[int, Client] = {}
        # levels of care beside the IOP, by name (none: the IOP alone)
        self.levels = {
            spec.name: Level(spec, plan.levels[spec.name], streams, self.recorder)
            for spec in sorted(scenario.levels, key=lambda level: level.name)
        }
        self.entry_level = {src.name: src.level for src in scenario.referrals.sources}
        # a provider's sites: who routes referrals, and where each pool works (None: anywhere)
        self.router = Router(plan, streams) if scenario.sites else None
        self.site_of_pool = {name: pool.site for name, pool in scenario.staff.items()}
        self.resume_stays: dict[int, float] = {}  # a state's client at a level: stay left (h)
        self.lost_on_the_books: set[int] = set()  # a state's referrals lost before it starts
        self.iop_waitlist = IopWaitlist(self)
        self.op_waitlist = OpWaitlist(self)
        self.start = self._state_offset()
        self.clients = self._draw_clients()
        self.on_the_books = self._clients_on_the_books()
        self.recorder.clients = self.clients

    def _state_offset(self) -> float:
        """Hours from week 0's Monday to the state's date (0 without a state)."""
        state = self.scenario.state
        if state is None:
            return 0.0
        monday = clock.week_zero_monday(self.scenario.start_date)
        return (state.as_of - monday).days * 24.0

    def _clients_on_the_books(self) -> list[tuple[Client, str, object, str | None]]:
        """The state's clients as Clients, their draws from their own streams (so new
        referrals draw as in any run). Those in care get the rest of their stay given the
        time spent: the exit reason with odds share x P(stay > time spent), then a stay longer
        than the time spent; those waiting get the rest of their patience likewise."""
        s = self.scenario
        if s.state is None:
            return []
        get = self.streams.get
        rng = get("state")
        t0 = self.start
        stays = {
            r: np.sort(
                sampler(getattr(s.iop.length_of_stay_days, r))(get(f"state:los_table:{r}"), 4000)
            )
            for r in EXIT_REASONS
        }
        shares = np.array([getattr(s.iop.exit_shares, r) for r in EXIT_REASONS])
        sources = {src.name: src for src in s.referrals.sources}
        survivors = self._stayed_attendance if s.iop.attendance_sd is not None else None
        out = []
        for item in s.state.clients:
            # days in the stage by the start of the state's date, from the middle of the day
            # they entered it (the records say the day, not the hour)
            spent = max((s.state.as_of - item.since).days - 0.5, 0.0)
            source = sources.get(item.source or "", s.referrals.sources[0])
            since = t0 - spent * HOURS_PER_DAY
            # every attribute drawn as for any new client, then what the stage and the time
            # already spent say: outcome known, stays and patience given the time spent
            c = self._fresh_client(rng, source, since)
            c._intake_patience_days = math.inf  # (their patience so far is not known)
            if self.router is not None:  # (a network: where they are seen, where from)
                c.site = item.site or ""
                c.region = item.region or ""  # (neither known: routed as they resume)
                if c.site in self.router.pending and item.stage in WAITING_STAGES:
                    self.router.pending[c.site].add(c.id)
            if item.lost_chance is not None:  # what the records say of those waiting so long
                c.lost_before_assessment = bool(rng.random() < item.lost_chance)
                if c.lost_before_assessment:  # (a loss the records have not caught up
                    # with, mostly already past: gone from the start, taking no appointment
                    # from one who waits)
                    self.lost_on_the_books.add(c.id)
            if item.stage != "intake_waitlist":
                c.outcome = "iop"  # assessed as needing the IOP
            if item.stage == "authorisation":  # assessed; the payer's answer (or an
                c.assessed = since  # evaluation first) still to come: the rest of the delay
                payer = self.payers.get(c.payer)
                c.authorisation_days = (
                    _beyond(payer.authorisation_days, rng, spent) - spent
                    if payer is not None and payer.authorisation_days is not None
                    else 0.0
                )
            if item.stage == "iop_waitlist":
                c.assessed = c.iop_waitlisted = since
                if s.waitlist.iop_patience_days is not None:
                    c.patience_days = _beyond(s.waitlist.iop_patience_days, rng, spent) - spent
            if item.stage == "iop":
                alive = np.array(
                    [
                        1 - np.searchsorted(stays[r], spent, "right") / len(stays[r])
                        for r in EXIT_REASONS
                    ]
                )
                odds = shares * alive
                odds = odds / odds.sum() if odds.sum() > 0 else shares
                c.exit_reason = EXIT_REASONS[rng.choice(len(EXIT_REASONS), p=odds)]
                total = _beyond(getattr(s.iop.length_of_stay_days, c.exit_reason), rng, spent)
                c.los_days = max(total - spent, 0.5)
                c.assessed = c.iop_waitlisted = c.iop_start = since
                if survivors is not None:  # still coming after that long: a better attender
                    c.attendance = survivors(spent, self.tracks.get(item.track or ""))
            waiting_for = item.stage.removesuffix("_waitlist")
            if waiting_for != item.stage and waiting_for in self.levels:
                # waiting for a place at a level since then: placed there by their source, or
                # sent by intake (assessed as needing that care)
                direct = self.entry_level.get(c.source) == waiting_for
                c.outcome = "" if direct else "higher_care"
                c.assessed = math.nan if direct else since
                patience = self.levels[waiting_for].spec.patience_days
                if patience is not None:  # the rest of it, given the days already waited
                    c._level_patience = (_beyond(patience, rng, spent) - spent) * HOURS_PER_DAY
            if item.stage in self.levels:  # holding a place at a level of care since then
                c.assessed = since
                spec = self.levels[item.stage].spec
                self.resume_stays[c.id] = (
                    _beyond(spec.stay_days, rng, spent) - spent
                ) * HOURS_PER_DAY
            if item.stage == "op":
                c.exit_reason = "completed"
                c.assessed = c.iop_waitlisted = c.iop_start = c.iop_end = since
                c.op_start = since
                total = _beyond(s.step_down.duration_weeks, rng, spent / 7.0)
                c.op_weeks = max(total - spent / 7.0, 0.1)
            self.clients.append(c)
            track = self.tracks.get(item.track or "")
            out.append((c, item.stage, track, item.therapist))
        return out

    def _stayed_attendance(self, spent_days: float, track: TrackState | None) -> float:
        """The own chance of coming of a state's client who is still in the IOP after
        ``spent_days`` (on ``track``, if known): clients who miss sessions drop out sooner
        (``dropout_per_missed_session``, ``dropout_after_missed_sessions``), so those still
        in care after weeks attend better than a new client. Drawn from the clients' spread
        weighted by the chance of coming through that many group sessions without dropping
        out (sampling-importance-resampling over 256 candidates, from the stream
        ``state:attendance``); a new client's draw where no absence ends a stay."""
        iop = self.scenario.iop
        rng = self.streams.get("state:attendance")
        candidates = rng.beta(*attendance_beta(iop.attendance, iop.attendance_sd), size=256)
        states = [track] if track is not None else list(self.tracks.values())
        per_week = sum(len(t.slots) for t in states) / max(len(states), 1)
        sessions = int(round(spent_days / 7.0 * per_week))
        through = survival_through_absences(
            candidates,
            iop.dropout_per_missed_session or 0.0,
            iop.dropout_after_missed_sessions,
            sessions,
        )
        if not through.sum() > 0:
            return float(candidates.max())
        return float(candidates[rng.choice(len(candidates), p=through / through.sum())])

    def _draw_clients(self) -> list[Client]:
        """Every referral of the run, with all of its random attributes drawn in batches."""
        s = self.scenario
        get = self.streams.get
        if any(src.seasonality is not None for src in s.referrals.sources):
            times, source_index = referrals.by_source(self.plan, get)
            keep = times >= self.start  # before a state's date, referrals are in the state
            times, source_index = times[keep], source_index[keep]
            n = len(times)
        else:
            times = referrals.arrival_times(self.plan, get("referrals"))
            times = times[times >= self.start]  # before a state's date, they are in the state
            n = len(times)
            source_index = referrals.sources(s, get("referral_source"), n)
        loss = get("intake_loss").random((2, n))
        assessment = sampler(s.intake.assessment_hours)(get("intake_duration"), n)
        o = s.intake.outcomes
        outcome_u = get("intake_outcome").random(n)
        if not s.intake.enabled:
            outcome_u = np.zeros(n)  # no assessment: everyone referred is for the IOP
        outcomes = np.where(
            outcome_u < o.iop,
            "iop",
            np.where(outcome_u < o.iop + o.higher_care, "higher_care", "outpatient"),
        )
        shares = s.iop.exit_shares
        reason_index = get("exit_reason").choice(
            len(EXIT_REASONS), size=n, p=[getattr(shares, r) for r in EXIT_REASONS]
        )
        los_rng = get("los")
        los = np.empty(n)
        for k, reason in enumerate(EXIT_REASONS):
            draws = sampler(getattr(s.iop.length_of_stay_days, reason))(los_rng, n)
            los[reason_index == k] = draws[
                reason_index == k
            ]  # same draw per client whatever the mix
        intake_patience = (
            sampler(s.intake.patience_days)(get("intake_patience"), n)
            if s.intake.patience_days is not None
            else np.full(n, math.inf)
        )
        patience = (
            sampler(s.waitlist.iop_patience_days)(get("iop_patience"), n)
            if s.waitlist.iop_patience_days is not None
            else np.full(n, math.inf)
        )
        own_attendance = (
            get("attendance_propensity").beta(
                *attendance_beta(s.iop.attendance, s.iop.attendance_sd), n
            )
            if s.iop.attendance_sd is not None
            else np.full(n, math.nan)
        )
        payer_of, authorisation = self._payers_of(source_index)
        medication = get("medication").random(n) < s.iop.medication_share
        step = get("step_down").random(n) < s.step_down.share
        op_weeks = sampler(s.step_down.duration_weeks)(get("op_duration"), n)
        src = s.referrals.sources
        # Python values once (tolist), not a numpy scalar converted per client: the same values
        lost_before = (loss[0] < s.intake.lost_share).tolist()
        columns = zip(
            source_index.tolist(),
            np.asarray(times, dtype=float).tolist(),
            lost_before,
            np.asarray(assessment, dtype=float).tolist(),
            outcomes.tolist(),
            reason_index.tolist(),
            np.asarray(los, dtype=float).tolist(),
            np.asarray(patience, dtype=float).tolist(),
            np.asarray(medication, dtype=bool).tolist(),
            np.asarray(step, dtype=bool).tolist(),
            np.asarray(op_weeks, dtype=float).tolist(),
            np.asarray(loss[1], dtype=float).tolist(),
            np.asarray(intake_patience, dtype=float).tolist(),
            np.asarray(own_attendance, dtype=float).tolist(),
            payer_of,
            np.asarray(authorisation, dtype=float).tolist(),
            strict=True,
        )
        clients = []
        for i, row in enumerate(columns):
            (
                k,
                referred,
                lost,
                hours,
                outcome,
                reason,
                stay,
                wait,
                meds,
                steps,
                op,
                u,
                ip,
                own,
                payer,
                days,
            ) = row
            source = src[k]
            c = Client(
                id=i,
                source=source.name,
                priority=source.priority,
                age_group=source.age_group,
                referred=referred,
                lost_before_assessment=lost,
                assessment_hours=hours,
                outcome=outcome,
                exit_reason=EXIT_REASONS[reason],
                los_days=stay,
                patience_days=wait,
                needs_medication=meds,
                steps_down=steps,
                op_weeks=op,
            )
            c._loss_fraction = u
            c._intake_patience_days = ip
            c.attendance = own
            c.payer, c.authorisation_days = payer, days
            clients.append(c)
        return clients

    def discharge(self, c: Client) -> None:
        """A client leaves care from a level (and may be referred again)."""
        leave(self, c, "discharged")

    def lose(self, c: Client) -> None:
        """A client waiting for a place at a level out of care gives up (its patience)."""
        leave(self, c, "lost")

    def intake_people_for(self, c: Client) -> list:
        """The intake clinicians who may assess ``c``: those of their site (or working for
        every site) unless intake is pooled across the network."""
        if self.router is None or not c.site or self.scenario.network.intake == "pooled":
            return self.intake_people
        return [p for p in self.intake_people if self.site_of_pool[p.pool] in (None, c.site)]

    def to_level(
        self, c: Client, name: str, came_from: str, stay_hours: float | None = None, holding=None
    ):
        """Process part: a stay at level ``name`` (and on by its routes); ``stay_hours``: the
        rest of a stay begun before the run (a state's client), else drawn; ``holding``: what
        frees the care the client keeps while they wait (see ``level_stay``)."""
        if self.router is not None:
            self.router.started_or_left(c)
        yield from level_stay(
            self.env, self, c, name, came_from, holding=holding, stay_hours=stay_hours
        )

    def into_iop(self, c: Client, came_from: str, holding=None, relapse=None):
        """Process part: a client of a level goes on to the IOP. One who was in the IOP before
        (stepped up from it) comes back as a new episode, as a re-referral does; while they
        hold their level's place (blocked) they are in care and do not give up; ``relapse``:
        (when, the level visit they left) for one waiting out of care who may deteriorate."""
        env = self.env
        if not math.isnan(c.iop_start):
            source = next(s for s in self.scenario.referrals.sources if s.name == c.source)
            again = self._fresh_client(self.levels[came_from].route_rng, source, env.now)
            again.readmission_of, again.outcome = c.id, "iop"
            again.region, again.site = c.region, c.site  # (the same site's IOP)
            if self.router is not None and again.site:
                self.router.pending[again.site].add(again.id)
            self.clients.append(again)
            leave(self, c, "transferred")
            c = again
            c._process = env.active_process
        if holding is not None:
            c.patience_days = math.inf
        c.priority = min(c.priority, 0)  # a transfer from another level of care
        c._relapse = relapse
        yield from iop_journey(env, self, c, holding)

    def refer_again(self, c: Client) -> None:
        """A discharged client is referred again with the chance for their exit reason,
        after a delay, as a new episode with fresh draws from the readmission stream."""
        s = self.scenario
        rng = self.readmission_rng
        if rng.random() >= s.readmission.share.share_for(c.exit_reason, c.planned_exit):
            return
        when = self.env.now + float(sampler(s.readmission.delay_days)(rng, 1)[0]) * HOURS_PER_DAY
        if when >= self.end:
            return
        sources = {src.name: src for src in s.referrals.sources}
        source = sources.get(s.readmission.source or c.source, s.referrals.sources[0])
        again = self._fresh_client(rng, source, when)
        again.readmission_of = c.id
        self.clients.append(again)
        self.env.process(self._arrive_later(again))

    def _arrive_later(self, c: Client):
        yield self.env.timeout(c.referred - self.env.now)
        c._process = self.env.process(client_journey(self.env, self, c))

    def _fresh_client(self, rng, source, referred: float) -> Client:
        """A client with every random attribute drawn from ``rng`` (one at a time)."""
        s = self.scenario
        o = s.intake.outcomes
        u = rng.random()
        outcome = (
            "iop" if u < o.iop else ("higher_care" if u < o.iop + o.higher_care else "outpatient")
        )
        if not s.intake.enabled:
            outcome = "iop"
        shares = np.array([getattr(s.iop.exit_shares, r) for r in EXIT_REASONS])
        reason = EXIT_REASONS[rng.choice(len(EXIT_REASONS), p=shares / shares.sum())]

        def draw(spec) -> float:
            if spec is None:
                return math.inf
            key = id(spec)  # (the scenario's specs live as long as the model)
            if key not in self._samplers:
                self._samplers[key] = sampler(spec)
            return float(self._samplers[key](rng, 1)[0])

        c = Client(
            id=len(self.clients),
            source=source.name,
            priority=source.priority,
            age_group=source.age_group,
            referred=referred,
            lost_before_assessment=bool(rng.random() < s.intake.lost_share),
            assessment_hours=draw(s.intake.assessment_hours),
            outcome=outcome,
            exit_reason=reason,
            los_days=draw(getattr(s.iop.length_of_stay_days, reason)),
            patience_days=draw(s.waitlist.iop_patience_days),
            needs_medication=bool(rng.random() < s.iop.medication_share),
            steps_down=bool(rng.random() < s.step_down.share),
            op_weeks=draw(s.step_down.duration_weeks),
        )
        c._loss_fraction = float(rng.random())
        c._intake_patience_days = draw(s.intake.patience_days)
        if s.iop.attendance_sd is not None:
            c.attendance = float(rng.beta(*attendance_beta(s.iop.attendance, s.iop.attendance_sd)))
        if s.payers:
            payers = sorted(s.payers, key=lambda p: p.name)
            weights = np.array(payer_shares(payers, source))
            payer = payers[rng.choice(len(payers), p=weights / weights.sum())]
            c.payer = payer.name
            c.authorisation_days = (
                draw(payer.authorisation_days) if payer.authorisation_days is not None else 0.0
            )
        return c

    def _payers_of(self, source_index: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Each referral's payer (by share, payers in name order) and that payer's
        authorisation delay in days (each payer's delays from its own stream)."""
        payers = sorted(self.scenario.payers, key=lambda p: p.name)
        n = len(source_index)
        if not payers:
            return [""] * n, np.zeros(n)
        get = self.streams.get
        # one uniform per referral, read against the payers' shares for the referral's source
        # (Generator.choice with p does the same for one set of shares: same draws)
        u = get("payer").random(n)
        index = np.empty(n, dtype=np.int64)
        for k, source in enumerate(self.scenario.referrals.sources):
            mine = source_index == k
            cdf = np.cumsum(payer_shares(payers, source))
            cdf /= cdf[-1]
            index[mine] = cdf.searchsorted(u[mine], side="right")
        delay = np.zeros(n)
        for k, p in enumerate(payers):
            if p.authorisation_days is not None:
                draws = sampler(p.authorisation_days)(get(f"authorisation:{p.name}"), n)
                delay[index == k] = draws[index == k]
        return [payers[k].name for k in index], delay

    def _referral_arrivals(self):
        env = self.env
        if self.on_the_books:
            yield env.timeout(self.start)
            # those in care take their seats and caseloads before anyone waiting is placed
            # (clients at a level of care take their places first, as those in the IOP do)
            order = {"iop": 0, "op": 1, "iop_waitlist": 2, "authorisation": 3, "intake_waitlist": 4}
            # (those waiting for a level's place join its queue after those holding one)
            order |= {f"{name}_waitlist": 2 for name in self.levels}
            for c, stage, track, therapist in sorted(
                self.on_the_books,
                key=lambda item: (order.get(item[1], 0), item[0].referred, item[0].id),
            ):
                c._process = env.process(resume_journey(env, self, c, stage, track, therapist))
        for c in self.clients[: len(self.clients) - len(self.on_the_books)]:
            yield env.timeout(c.referred - env.now)
            c._process = env.process(client_journey(env, self, c))

    def _joins(self, person):
        """A new member of staff: their caseload places open on their first day."""
        yield self.env.timeout(person.first_week * HOURS_PER_WEEK - self.env.now)
        person.iop_cap, person.op_cap = self.plan.caseload_caps[person.pool]
        if person.iop_cap and person.pool in self.scenario.iop.therapist_pools:
            self.iop_therapists.append(person)  # the waitlist's list of primary therapists
            self.iop_therapists.sort(key=lambda p: p.name)
        self.iop_waitlist.place_clients()
        self.op_waitlist.place_clients()

    def _leaves(self, person):
        """A member of staff leaves: no new clients; their IOP and outpatient clients go to a
        colleague with room (or wait without a primary clinician), their medication clients
        to the next prescriber; their groups find stand-ins or are cancelled, as for leave."""
        yield self.env.timeout(person.gone_week * HOURS_PER_WEEK - self.env.now)
        person.iop_cap = person.op_cap = 0
        for c in self.in_iop.values():
            if c.prescriber == person.name:
                c.prescriber = ""  # a first visit with the next prescriber
        self._reassign(person, self.in_iop, "therapist", "iop", self.iop_therapists)
        self._reassign(person, self.in_op, "op_therapist", "op", self.op_waitlist.clinicians)

    def _reassign(self, person, clients: dict, attribute: str, kind: str, staff: list) -> None:
        """Move a leaver's clients (``attribute``: their clinician) to the least-loaded
        colleague with room, or leave them without one; each move is recorded."""
        now = self.env.now
        colleagues = [p for p in staff if p is not person]
        for c in list(clients.values()):
            if getattr(c, attribute) != person.name:
                continue
            new = Staff.least_loaded(colleagues, kind)
            setattr(c, attribute, new.name if new is not None else "")
            if kind == "iop":
                person.iop_clients -= 1
                if new is not None:
                    new.iop_clients += 1
                else:
                    self.recorder.monitors["caseload_held"].add(now, -1)
            else:
                person.op_clients -= 1
                if new is not None:
                    new.op_clients += 1
            self.recorder.reassigned.append((now, new is not None))

    def run(self) -> Recorder:
        """Run to the end of the horizon (warm-up included) and return the recorder."""
        self.env.process(self._referral_arrivals())
        for state in self.tracks.values():
            self.env.process(run_track(self.env, self, state))
        self.env.process(weekly_booking(self.env, self))
        for level in self.levels.values():
            if level.spec.programme is not None:
                self.env.process(run_programme(self.env, self, level))
        # joiners first: a locum starting the week a colleague leaves can take their clients
        for person in self.staff.people.values():
            if person.first_week > 0:
                self.env.process(self._joins(person))
        for person in self.staff.people.values():
            if person.gone_week is not None:
                self.env.process(self._leaves(person))
        self.env.run(until=self.end)
        return self.recorder

    def close(self) -> None:
        """Let go of a finished run (the model cannot be used after). Its processes, the
        clinic and the clients refer to one another (a process waits on the clinic's lists, a
        client knows its process), so without this a replication's records were freed only by
        Python's cycle collector, which walked every one of them first (7% of a replication).
        The recorder stays usable by whoever holds it."""
        for c in self.recorder.clients:
            c._process = None
        self.env._queue.clear()  # the events still due hold the processes waiting on them
        self.__dict__.clear()


def _beyond(spec, rng, spent: float, rounds: int = 20) -> float:
    """A draw from ``spec`` given that it exceeds ``spent`` (rejection; far in the tail, a
    little past ``spent``)."""
    draw = sampler(spec)
    for _ in range(rounds):
        values = draw(rng, 64)
        longer = values[values > spent]
        if len(longer):
            return float(longer[0])
    return spent + 1.0
