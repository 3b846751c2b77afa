"""Invariants on the bundled scenarios and on stressed variants of the baseline."""

import pytest

from simulation import config as scenarios
from tests import invariants
from tests.conftest import short

VARIANTS = {
    "baseline": [],
    "overloaded": ["referrals.per_week=20"],
    "no blocking": ["step_down.blocking=false"],
    "tight outpatient": [
        "staff.therapists.op_caseload_cap=1",
        "staff.evening therapists.op_caseload_cap=0",
    ],
    "sick staff": [
        "staff.therapists.absence_share=0.4",
        "staff.evening therapists.absence_share=0.4",
    ],
    "waitlist cap": ["waitlist.iop_max_length=2", "waitlist.intake_max_length=3"],
    "cohorts": ["tracks.morning.admission=cohort", "tracks.evening.admission=immediate"],
    "cancellation list": ["intake.cancellation_list=true", "intake.cancellation_notice_hours=4"],
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_invariants_hold(name):
    invariants.check(invariants.simulate(short(*VARIANTS[name])))


@pytest.mark.parametrize(
    "name", sorted(p.stem for p in scenarios.bundled_dir().glob("*.toml") if p.stem != "baseline")
)
def test_invariants_hold_on_bundled_what_ifs(name):
    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled(name)), ["warmup_weeks=4", "horizon_weeks=20"]
    )
    invariants.check(invariants.simulate(sc))
