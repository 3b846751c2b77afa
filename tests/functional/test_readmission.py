"""Discharged clients referred again."""

from __future__ import annotations

import math

import pytest

from simulation import config as scenarios
from simulation.dashboard import figures
from simulation.experiment import run_experiment
from tests.conftest import baseline, run, short

HALF = (
    "readmission.share={completed = 0.5, dropped_out = 0.5, escalated = 0.5, other = 0.5}",
    'readmission.delay_days={dist = "exponential", mean = 60.0}',
)


def test_discharged_clients_come_back_as_new_episodes():
    res = run(short(*HALF, "horizon_weeks=60"))
    c = res.clients.set_index("id")
    again = c[c["readmission_of"] >= 0]
    assert len(again) > 20
    first = c.loc[again["readmission_of"]]
    assert (first["status"] == "discharged").all()
    assert (again["referred"].to_numpy() > first["left"].to_numpy()).all()
    flow = figures.flow(res.clients, 4 * 168.0, 60 / 52, 1)
    assert "Referred again" in flow.data[0].node.label


def test_readmission_shares_follow_the_share_and_the_delay():
    """Half of discharges referred again after an exponential delay of mean 60 days: within
    30 days 0.5 (1 - e^-0.5) = 0.197, within 90 days 0.388. Tolerance 0.06: about 300
    discharges over 4 replications give a standard error near 0.025."""
    sc = short(*HALF, "warmup_weeks=20", "horizon_weeks=80")
    k = run_experiment(sc, replications=4).kpis.mean(numeric_only=True)
    assert k["readmitted_within_30_days_share"] == pytest.approx(0.197, abs=0.06)
    assert k["readmitted_within_90_days_share"] == pytest.approx(0.388, abs=0.06)
    assert math.isfinite(k["readmitted_within_365_days_share"])
    off = run(short()).kpis
    assert "readmitted_within_30_days_share" not in off  # off: no KPI, no draws


def test_a_readmission_source_must_exist():
    base = baseline()
    with pytest.raises(scenarios.ScenarioError, match="readmission.source"):
        scenarios.apply_overrides(base, ['readmission.source="comunity"'])
