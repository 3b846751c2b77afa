"""What a prescriber gates: the psychiatric evaluation (before the first IOP day where the
scenario or the payer says so), medication reviews that are late or missed, Medicare's
physician certification."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import config as scenarios
from tests.conftest import run, short

CERTIFIED = "payers.medicare.requires_certification=true"  # (the test clinic's Medicare)
AWAY = (
    'staff_changes=[{pool = "prescribers", week = 6, change = "leave"}, '
    '{pool = "prescribers", week = 19, change = "join"}]'
)


def test_a_prescriber_away_shows_in_missed_visits_and_late_evaluations():
    """13 weeks without the only prescriber: due medication visits find no slot and clients
    are evaluated late, where a run without the absence shows neither to that degree."""
    here, away = run(short(CERTIFIED)).kpis, run(short(CERTIFIED, AWAY)).kpis
    assert away["medication_visits_unbooked_share"] > here["medication_visits_unbooked_share"] + 0.2
    assert away["evaluated_in_time_share"] < here["evaluated_in_time_share"] - 0.2
    assert away["evaluation_waitlist_mean"] > here["evaluation_waitlist_mean"]


def test_medicare_clients_are_certified_by_a_prescriber_before_their_first_iop_day():
    clients = run(short(CERTIFIED)).clients
    started = clients[clients["iop_start"].notna() & (clients["payer"] == "medicare")]
    assert len(started) > 5
    assert (started["evaluated"] < started["iop_start"]).all()
    others = clients[clients["iop_start"].notna() & (clients["payer"] != "medicare")]
    assert others["evaluation_requested"].isna().all()  # (the baseline evaluates after starting)


def test_an_evaluation_before_starting_holds_admissions_while_no_prescriber_works():
    """With every evaluation before the first IOP day, nobody needing medication starts while
    the only prescriber is away, and everyone who started had theirs first."""
    gated = run(short("iop.evaluation_before_start=true", AWAY)).clients
    began = gated[gated["iop_start"].notna()]
    needing = began[began["needs_medication"]]
    assert (needing["evaluated"] < needing["iop_start"]).all()
    week = needing["iop_start"].to_numpy() / 168
    # (started in the absence: evaluated before it, placed later; a few days' grace)
    late = (week >= 7) & (week < 19) & (needing["evaluated"].to_numpy() / 168 >= 6)
    assert not late.any()
    assert np.isfinite(
        run(short("iop.evaluation_before_start=true")).kpis["wait_for_evaluation_days_mean"]
    )


def test_an_evaluation_before_starting_needs_a_prescriber():
    with pytest.raises(scenarios.ScenarioError, match="iop.evaluation_before_start"):
        short("iop.evaluation_before_start=true", "iop.prescriber_pools=[]")


def test_evaluations_a_prescriber_has_no_time_for_are_named_as_what_limits_admissions():
    """Every client needs medication and an evaluation before their first IOP day, from a
    prescriber with two hours a week: clients queue for it for weeks and give up while seats
    stay free, and the run names the evaluations, not the places, as what limits admissions
    (the short baseline, with time for them, does not)."""
    from simulation import results
    from simulation.experiment import run_experiment

    scarce = short(
        "iop.evaluation_before_start=true",
        "iop.medication_share=1",
        'staff.prescribers.roster=[{days=["tue"], start="09:00", end="11:00"}]',
        "staff.prescribers.fte=0.05",
    )
    result = run_experiment(scarce, replications=3)
    kpis = result.kpis.mean()
    assert kpis["wait_for_evaluation_days_mean"] > 7
    assert kpis["lost_waiting_for_evaluation_share"] > 0.1
    lines = results.limiting_factors(result.summary)
    assert lines[0].startswith("Prescribers' evaluations limit admissions")
    assert "gave up before it" in lines[0]
    calm = run_experiment(short(), replications=3)
    assert not any("evaluations limit" in x for x in results.limiting_factors(calm.summary))
