"""What the intake clinicians' shifts hold: a clinic whose intake clinics are short for its
assessments is full while its clinicians look far from busy, and says so."""

from __future__ import annotations

import pytest

from simulation import config as scenarios
from simulation.experiment import run_experiment
from simulation.results import limiting_factors
from tests.conftest import short

FOUR_HOUR_CLINICS = [
    'staff.intake.roster=[{days = ["tue", "thu"], start = "09:00", end = "13:00"}]',
    "intake.assessment_hours=1.5",
    "intake.lost_share=0",
    "intake.patience_days=10000",
    "staff.intake.absence_share=0",
]


def test_a_full_intake_is_as_busy_as_its_shifts_allow_not_as_its_hours():
    """Two 4-hour clinics a week of 1.5-hour assessments hold four (75% of the hours): with
    three times the referrals they can assess, the clinician is measured 75% busy, the
    estimate says 75% is the most, and what limits admissions says the shifts are full
    rather than leaving "75% busy" to read as room to spare."""
    sc = short(*FOUR_HOUR_CLINICS, "referrals.per_week=12")
    result = run_experiment(sc, replications=2, workers=1)
    by = result.summary.set_index("kpi")["mean"]
    assert by["intake_fillable_share"] == pytest.approx(0.75)
    # (days on leave leave available hours and assessments alike; what remains of the
    # difference is a slot whose client gave up, not refilled)
    assert by["intake_utilisation"] == pytest.approx(0.75, abs=0.02)
    (line,) = [x for x in limiting_factors(result.summary) if x.startswith("Intake")]
    assert "as busy as their shifts allow: assessments can fill about 75%" in line


def test_a_scenario_whose_referrals_fill_the_intake_shifts_is_warned_of():
    """Four referrals a week needing an assessment against the four slots two 4-hour clinics
    hold is warned of, naming the key and both figures; three a week (75%) is not, nor is an
    intake shared with therapists (their time depends on their other work)."""
    full = short(*FOUR_HOUR_CLINICS, "referrals.per_week=4")
    (line,) = [w for w in scenarios.warnings(full) if w.startswith("intake.pools")]
    assert "hold about 4.0 assessments a week" in line
    away = short(*FOUR_HOUR_CLINICS, "referrals.per_week=4", "staff.intake.absence_share=0.1")
    assert scenarios.intake_holds(away).per_week == pytest.approx(3.6)  # days away hold none
    assert "a 4-hour shift about 2.0 assessments" in line
    assert "about 4.0 referrals a week who need one" in line
    room = short(*FOUR_HOUR_CLINICS, "referrals.per_week=3")
    assert not [w for w in scenarios.warnings(room) if w.startswith("intake.pools")]
    shared = short(
        *FOUR_HOUR_CLINICS, "referrals.per_week=4", 'intake.pools=["intake", "therapists"]'
    )
    assert scenarios.intake_holds(shared) is None
    assert not [w for w in scenarios.warnings(shared) if w.startswith("intake.pools")]
