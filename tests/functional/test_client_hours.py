"""Appointments fit the clients' own hours."""

from __future__ import annotations

from simulation.compiled import compile_scenario
from simulation.experiment import run_experiment
from simulation.model.clinic import ClinicModel
from simulation.streams import Streams
from tests.conftest import plain_short

AROUND = 'tracks.evening.client_hours="around_groups"'


def test_evening_clients_are_seen_only_around_their_groups():
    """Evening clients work days: with their hours 'around_groups' every appointment they
    attend falls on a group day (Mon, Tue, Thu) between 15:30 and 22:30; without, most do
    not."""

    def appointments(*overrides):
        sc = plain_short(*overrides, "horizon_weeks=30")
        recorder = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0)).run()
        att = recorder.attendance_table()
        clients = recorder.client_table().set_index("id")
        # (groups, and the evaluation before the first IOP day: their track is not known yet)
        att = att[~att["kind"].isin(["group", "evaluation"])]
        att = att[clients.loc[att["client_id"], "track"].to_numpy() == "evening"]
        day = (att["time"] // 24 % 7).astype(int)
        hour = att["time"] % 24
        return att, day.isin([0, 1, 3]) & (hour >= 15.5) & (hour < 22.5)

    att, inside = appointments(AROUND)
    assert len(att) > 50 and inside.all()
    att, inside = appointments()
    assert inside.mean() < 0.5


def test_fitting_clients_hours_leaves_more_appointments_unbooked():
    plain = run_experiment(plain_short("horizon_weeks=30"), replications=3).kpis.mean(
        numeric_only=True
    )
    fitted = run_experiment(plain_short(AROUND, "horizon_weeks=30"), replications=3).kpis.mean(
        numeric_only=True
    )
    unbooked = "individual_sessions_unbooked_share"
    assert fitted[unbooked] > plain[unbooked] + 0.02
