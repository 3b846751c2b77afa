"""The clinic: builds staff, rooms, tracks and waitlists from a scenario, starts the processes
and runs the simulation.

Processes: one that releases referrals at their arrival times, one per client journey, one per
track holding its group sessions, and one that books each week's appointments.
"""

from __future__ import annotations

import math

import numpy as np
import simpy

from simulation.clock import HOURS_PER_WEEK
from simulation.distributions import sampler
from simulation.model import referrals
from simulation.model.appointments import weekly_booking
from simulation.model.groups import TrackState, plan_timetable, run_track
from simulation.model.pathway import Client, client_journey
from simulation.model.recorder import Recorder
from simulation.model.staff import Staff
from simulation.model.waitlists import IopWaitlist, OpWaitlist
from simulation.scenario import EXIT_REASONS, Scenario
from simulation.streams import Streams


class ClinicModel:
    """One replication of a clinic.

    Parameters
    ----------
    scenario: the validated scenario.
    streams: the replication's named random streams.
    """

    def __init__(self, scenario: Scenario, streams: Streams) -> None:
        self.scenario = scenario
        self.streams = streams
        self.env = simpy.Environment()
        self.end = scenario.total_weeks * HOURS_PER_WEEK
        self.recorder = Recorder()
        self.staff = Staff(scenario, streams)
        self.appointment_rng = streams.get("appointment_attendance")
        timetable = plan_timetable(scenario)
        # tracks in name order, each with its own attendance stream: listing them in another
        # order changes nothing
        self.tracks = {
            t.name: TrackState(t, timetable[t.name], streams.get(f"attendance:{t.name}"))
            for t in sorted(scenario.tracks, key=lambda t: t.name)
        }
        for slots in timetable.values():
            for slot in slots:
                for name in slot.facilitators:
                    self.staff.people[name].fixed.append((slot.start, slot.end))
        self.intake_people = self.staff.members(scenario.intake.pools)
        self.iop_therapists = [
            p for p in self.staff.members(scenario.iop.therapist_pools) if p.iop_cap > 0
        ]
        self.prescribers = self.staff.members(scenario.iop.prescriber_pools)
        self.in_iop: dict[int, Client] = {}
        self.in_op: dict[int, Client] = {}
        self.iop_waitlist = IopWaitlist(self)
        self.op_waitlist = OpWaitlist(self)
        self.clients = self._draw_clients()
        self.recorder.clients = self.clients

    def _draw_clients(self) -> list[Client]:
        """Every referral of the run, with all of its random attributes drawn in batches."""
        s = self.scenario
        get = self.streams.get
        times = referrals.arrival_times(s, get("referrals"))
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
        medication = get("medication").random(n) < s.iop.medication_share
        step = get("step_down").random(n) < s.step_down.share
        op_weeks = sampler(s.step_down.duration_weeks)(get("op_duration"), n)
        src = s.referrals.sources
        clients = []
        for i in range(n):
            source = src[source_index[i]]
            c = Client(
                id=i,
                source=source.name,
                priority=source.priority,
                age_group=source.age_group,
                referred=float(times[i]),
                lost_before_assessment=bool(loss[0, i] < s.intake.lost_share),
                assessment_hours=float(assessment[i]),
                outcome=str(outcomes[i]),
                exit_reason=EXIT_REASONS[reason_index[i]],
                los_days=float(los[i]),
                patience_days=float(patience[i]),
                needs_medication=bool(medication[i]),
                steps_down=bool(step[i]),
                op_weeks=float(op_weeks[i]),
            )
            c._loss_fraction = float(loss[1, i])
            c._intake_patience_days = float(intake_patience[i])
            clients.append(c)
        return clients

    def _referral_arrivals(self):
        env = self.env
        for c in self.clients:
            yield env.timeout(c.referred - env.now)
            c._process = env.process(client_journey(env, self, c))

    def run(self) -> Recorder:
        """Run to the end of the horizon (warm-up included) and return the recorder."""
        self.env.process(self._referral_arrivals())
        for state in self.tracks.values():
            self.env.process(run_track(self.env, self, state))
        self.env.process(weekly_booking(self.env, self))
        self.env.run(until=self.end)
        return self.recorder
