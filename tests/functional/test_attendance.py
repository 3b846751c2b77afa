"""Each client's own attendance, and dropout that follows missed days."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import config as scenarios
from tests.conftest import baseline, plain_short, run

SPREAD = "iop.attendance_sd=0.2"
HAZARD = "iop.dropout_per_missed_session=0.1"


def test_clients_attend_by_their_own_chance():
    """With an sd of 0.2 between clients, drawn chances average the set attendance (0.82;
    the mean of 300+ draws is within 0.03 of it) and spread out; clients who were drawn a
    higher chance attend more of their groups (correlation well above 0)."""
    res = run(plain_short(SPREAD, "horizon_weeks=40"))
    clients = res.clients[res.clients["iop_start"].notna()]
    chances = clients["attendance"]
    assert abs(chances.mean() - 0.82) < 0.03 and 0.15 < chances.std() < 0.25
    ended = clients[clients["iop_end"].notna()]
    stay_days = ((ended["iop_end"] - ended["iop_start"]) / 24).clip(lower=7)
    rate = ended["iop_hours_attended"] / stay_days  # hours a day in care
    assert np.corrcoef(ended["attendance"], rate)[0, 1] > 0.3
    plain = run(plain_short("horizon_weeks=40")).clients
    assert plain["attendance"].isna().all()  # off: one chance for all, no draws


def test_poorer_attendance_means_more_dropout():
    """With a 10% chance of dropping out after each missed session: lower attendance raises
    the dropout share of exits (same draws), and among clients with their own chances those
    drawn low drop out more often than those drawn high."""

    def dropout_share(*overrides):
        clients = run(plain_short(HAZARD, "horizon_weeks=40", *overrides)).clients
        ended = clients[clients["iop_end"].notna()]
        return (ended["exit_reason"] == "dropped_out").mean(), ended

    good, _ = dropout_share()
    poor, _ = dropout_share("iop.attendance=0.6")
    assert poor > good + 0.05
    _, ended = dropout_share(SPREAD)
    low = ended["attendance"] < ended["attendance"].median()
    assert (ended.loc[low, "exit_reason"] == "dropped_out").mean() > (
        ended.loc[~low, "exit_reason"] == "dropped_out"
    ).mean()


def test_an_impossible_spread_is_refused():
    base = baseline()
    with pytest.raises(scenarios.ScenarioError, match="iop.attendance_sd = 0.45"):
        scenarios.apply_overrides(base, ["iop.attendance_sd=0.45"])


def test_a_dropout_keeps_no_appointment_after_leaving():
    """A client who drops out after missed sessions leaves mid-week: the appointments they
    were booked for later that week are cancelled (slots back in the diaries, nothing
    recorded as attended); only those made before they left remain."""
    from simulation.compiled import compile_scenario
    from simulation.model.clinic import ClinicModel
    from simulation.streams import Streams

    sc = plain_short("iop.dropout_per_missed_session=0.5", "horizon_weeks=30")
    recorder = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0)).run()
    clients = recorder.client_table().set_index("id")
    att = recorder.attendance_table()
    att = att[att["kind"].isin(["individual", "family", "medication"])]
    left = clients.loc[att["client_id"], "iop_end"].to_numpy()
    dropped = clients.loc[att["client_id"], "exit_reason"].to_numpy() == "dropped_out"
    assert dropped.any()
    assert not ((att["time"].to_numpy() >= left) & dropped).any()
    busy = recorder.busy_table()
    assert (busy["end"] > busy["start"]).all()  # (cancelled entries are gone, not broken)
