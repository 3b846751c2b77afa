"""The Python API (``import iopsim``): its documented examples run as written (as Ciw's docs
do), and each call returns the tables the command line writes."""

from __future__ import annotations

import doctest

import iopsim
import pandas as pd
import pytest


def test_the_documented_examples_run_as_written():
    failures, tried = doctest.testmod(
        iopsim, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE, verbose=False
    )
    assert tried >= 6 and failures == 0


@pytest.fixture(scope="module")
def clinic():
    return iopsim.change(iopsim.load("baseline"), ["horizon_weeks=8", "warmup_weeks=4"])


def test_a_run_returns_the_run_folders_tables(clinic):
    result = iopsim.run(clinic, replications=2)
    assert list(result.summary.columns[:3]) == ["kpi", "unit", "mean"]
    assert {"weekly", "clients", "sessions"} <= set(result.tables)
    assert len(result.kpis) == 2


def test_a_sweep_and_a_plan_from_python(clinic, tmp_path):
    table = iopsim.sweep(clinic, ["staff.therapists.count=1..2"], tmp_path / "s", replications=2)
    assert set(table["staff.therapists.count"]) == {1, 2}
    result = iopsim.plan(
        clinic, ["staff.intake.count=1..2"], ["wait_to_intake_days_mean<=30"], replications=2
    )
    assert isinstance(result.table(), pd.DataFrame)
    assert result.recommendation is None or result.recommendation.values[0] in (1, 2)


def test_a_fit_from_python(tmp_path):
    from simulation.data.synth import synthesize

    table, _ = synthesize(iopsim.load("baseline"), 1.0, 3)
    table.to_csv(tmp_path / "extract.csv", index=False)
    scenario, result, text = iopsim.fit(tmp_path / "extract.csv")
    assert scenario.state is not None and "referrals.per_week" in {e.key for e in result.evidence}
    assert text.startswith("#")
    bands = iopsim.forecast(scenario, weeks=4, replications=3)
    assert {"iop_census", "iop_waitlist", "admissions"} <= set(bands["series"])
    assert bands["week"].nunique() == 4
    ordered = bands[["p5", "p25", "p50", "p75", "p95"]].to_numpy()
    assert (ordered[:, :-1] <= ordered[:, 1:] + 1e-9).all()  # the bands nest
    with pytest.raises(iopsim.ScenarioError, match="no \\[state\\]"):
        iopsim.forecast(iopsim.load("baseline"))


def test_bad_input_raises_a_scenario_error_naming_the_field(clinic):
    with pytest.raises(iopsim.ScenarioError, match="staff.therapists.count"):
        iopsim.change(clinic, ["staff.therapists.count=-1"])
    with pytest.raises(iopsim.ScenarioError, match="no bundled scenario 'nowhere'"):
        iopsim.load("nowhere")
