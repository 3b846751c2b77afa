"""When losses before assessment grow with the wait, intake capacity pays."""

from __future__ import annotations

from simulation.experiment import run_experiment
from tests.conftest import plain_baseline, variant


def _admissions(*overrides: str, base=None) -> float:
    sc = variant(*overrides, base=base)
    return float(run_experiment(sc, replications=6).kpis["admissions_per_week"].mean())


def test_a_second_intake_clinician_admits_more_only_when_loss_follows_the_wait():
    """A fixed 40% lost whatever the wait (the plain baseline): a second intake clinician
    admits no more (measured 2.76 -> 2.74 a week). The baseline (25% lost whatever the wait
    plus an exponential patience of 15 days): it admits about 4% more (2.61 -> 2.71). Same
    draws; margins are half the effect."""
    plain = plain_baseline()
    fixed_gain = _admissions("staff.intake.count=2", base=plain) / _admissions(base=plain) - 1
    waiting_gain = _admissions("staff.intake.count=2") / _admissions() - 1
    assert fixed_gain < 0.01
    assert waiting_gain > 0.02


def _still_waiting(status: str, since: str, *overrides: str):
    """How long each client still in ``status`` at the end of one replication of the plain
    baseline, run short, had waited (days since their ``since`` column), with the run's end."""
    from simulation.clock import HOURS_PER_DAY, HOURS_PER_WEEK
    from tests.conftest import plain_short, run

    sc = plain_short(*overrides)
    clients = run(sc).clients
    end = (sc.warmup_weeks + sc.horizon_weeks) * HOURS_PER_WEEK
    waiting = clients[clients["status"] == status]
    return (end - waiting[since]) / HOURS_PER_DAY


def test_referrals_whose_intake_falls_after_the_end_still_give_up_when_patience_runs_out():
    """One 3-hour intake clinic a week for 7 referrals (an intake long overloaded) and a
    patience of exactly 10 days: at the end nobody still waiting for an assessment has waited
    longer than 10 days. (Booked only within the run, those whose slot fell after its end
    waited to the end whatever their patience: most of the intake waitlist.)"""
    waited = _still_waiting(
        "intake_waitlist",
        "referred",
        'staff.intake.roster=[{days=["mon"], start="09:00", end="12:00"}]',
        'intake.patience_days={dist="fixed", value=10}',
        "intake.lost_share=0",
    )
    assert len(waited) > 0
    assert waited.max() <= 10 + 1e-6


def test_clients_no_prescriber_can_evaluate_before_the_end_still_give_up():
    """Every client needs medication and is evaluated before the IOP by a prescriber with one
    hour a week, and gives up after exactly 10 days: at the end nobody still waiting for the
    evaluation has waited longer (before, those for whom no slot was left in the run waited
    to its end: 14.9 days)."""
    waited = _still_waiting(
        "evaluation",
        "evaluation_requested",
        "iop.evaluation_before_start=true",
        "iop.medication_share=1",
        'staff.prescribers.roster=[{days=["tue"], start="09:00", end="10:00"}]',
        'waitlist.iop_patience_days={dist="fixed", value=10}',
    )
    assert len(waited) > 0
    assert waited.max() <= 10 + 1e-6
