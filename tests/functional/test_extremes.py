"""Extreme but valid input finishes in bounded time and memory, or is refused up front."""

from __future__ import annotations

import math

import pytest

from simulation import config as scenarios
from simulation import workload
from simulation.experiment import run_experiment
from tests import invariants
from tests.conftest import baseline, variant


def test_a_ten_year_horizon_runs():
    result = run_experiment(variant("horizon_weeks=520"), replications=1)
    assert len(result.tables["weekly"]) == 52 + 520
    assert math.isfinite(result.kpis["iop_census_mean"].iloc[0])


def test_a_thousand_replications_are_estimated_within_the_limits():
    work = workload.estimate(baseline(), 1000)
    workload.check(work, workers=2)  # allowed: about a quarter of an hour on 2 cores
    assert work.wall_seconds(2) < 3600


def test_impossible_workloads_are_refused_with_a_reason():
    with pytest.raises(workload.WorkloadError, match="--allow-long"):
        workload.check(workload.estimate(variant("horizon_weeks=1040"), 10000), workers=2)
    with pytest.raises(workload.WorkloadError, match="memory"):
        workload.check(
            workload.estimate(variant("referrals.per_week=5000", "horizon_weeks=1040"), 200),
            workers=1000,
        )
    workload.check(
        workload.estimate(variant("horizon_weeks=1040"), 10000), workers=2, allow_long=True
    )


def test_fifty_tracks_run():
    data = scenarios.to_data(baseline())
    data["tracks"] = [
        {**data["tracks"][k % 2], "name": f"track {k}", "facilitator_pools": ["group staff"]}
        for k in range(50)
    ]
    data["rooms"] = [{"name": f"room {k}", "seats": 12} for k in range(50)]
    data["staff"]["group staff"] = {
        "role": "therapist",
        "count": 50,
        "roster": "always",
        "iop_caseload_cap": 10,
    }
    data["iop"]["therapist_pools"] = ["group staff"]
    data["referrals"]["per_week"] = 100.0
    data["warmup_weeks"], data["horizon_weeks"] = 2, 8
    sc = scenarios.validate(data)
    model = invariants.simulate(sc)
    invariants.check(model)
    assert model.recorder.session_table()["held"].sum() > 100


def test_referrals_at_a_hundred_times_capacity_finish_and_say_so():
    """A hundred times the referrals intake can assess, each client giving up after 15 days
    on average: the intake waitlist levels off at hundreds because nearly everyone gives up,
    and the run says that losses, not intake hours, absorb the demand."""
    sc = variant("referrals.per_week=700", "warmup_weeks=2", "horizon_weeks=12")
    result = run_experiment(sc, replications=2)
    assert any(n.startswith("DEMAND ABSORBED BY LOSSES AT INTAKE") for n in result.notes)
    assert result.kpis["lost_before_assessment_share"].mean() > 0.9
    assert result.kpis["referrals_per_week"].mean() > 500
