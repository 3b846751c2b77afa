"""Degenerate configurations reproduce queueing theory (Erlang C, M/M/1, Jackson networks,
Erlang A).

Each check runs 10 replications and asks that the formula lies inside the 99.9% Student-t
interval of the replication means, widened by 2% of the formula's value for the bias of a
finite warm-up. With a fixed seed the outcome is deterministic; the 99.9% level keeps the
chance that an honest model fails any of the ~30 checks by bad luck near 3%.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from simulation import config as scenarios
from simulation.clock import HOURS_PER_DAY
from simulation.experiment import run_experiment
from tests.verification.theory import erlang_a, mm1, mmc

MMC = scenarios.load("scenarios/verification/mmc.toml")
TANDEM = scenarios.load("scenarios/verification/tandem.toml")
ERLANG_A = scenarios.load("scenarios/verification/erlang_a.toml")
REPLICATIONS = 10
LEVEL = 0.999
BIAS = 0.02


def ci(values):
    x = np.asarray(values, dtype=float)
    half = stats.t.ppf(0.5 + LEVEL / 2, len(x) - 1) * x.std(ddof=1) / np.sqrt(len(x))
    return x.mean() - half, x.mean() + half


def assert_agrees(name, simulated, expected):
    low, high = ci(simulated)
    slack = BIAS * abs(expected)
    assert low - slack <= expected <= high + slack, (
        f"{name}: theory {expected:.4f} outside the {LEVEL:.1%} interval [{low:.4f}, {high:.4f}] "
        f"(+/- {slack:.4f}) of the simulation"
    )


def per_replication(result, start_column, end_column):
    """(mean wait in days, share who waited) per replication, for clients starting after warm-up."""
    clients = result.tables["clients"]
    warm = result.scenario.warmup_weeks * 168.0
    waits, shares = [], []
    for _, c in clients.groupby("replication"):
        c = c[(c[start_column] >= warm) & c[end_column].notna()]
        wait = (c[end_column] - c[start_column]) / HOURS_PER_DAY
        waits.append(wait.mean())
        shares.append((wait > 1e-9).mean())
    return waits, shares


LOADS = [
    # (seats c, load rho): lambda = rho * c * mu with mu = 0.5 a day (mean stay 2 days)
    (10, 0.3),
    (10, 0.5),
    (10, 0.7),
    (10, 0.9),
    (3, 0.7),
    (1, 0.5),
]


@pytest.mark.parametrize(("seats", "load"), LOADS)
def test_iop_waitlist_is_an_mmc_queue(seats, load):
    mu = 0.5
    lam = load * seats * mu
    sc = scenarios.apply_overrides(
        MMC, [f"referrals.per_week={lam * 7}", f"tracks.iop.seats={seats}"]
    )
    result = run_experiment(sc, replications=REPLICATIONS, workers=2)
    theory = mmc(lam, mu, seats)
    waits, p_wait = per_replication(result, "iop_waitlisted", "iop_start")
    assert_agrees("mean wait (days)", waits, theory["wq"])
    assert_agrees("probability of waiting", p_wait, theory["p_wait"])
    assert_agrees("mean queue length", result.kpis["iop_waitlist_mean"], theory["lq"])
    assert_agrees("mean census", result.kpis["iop_census_mean"], theory["in_service"])


def test_tandem_intake_and_iop_follow_jackson():
    result = run_experiment(TANDEM, replications=REPLICATIONS, workers=2)
    lam = TANDEM.referrals.per_week / 7
    mu1 = HOURS_PER_DAY / TANDEM.intake.assessment_hours.mean
    p = TANDEM.intake.outcomes.iop
    intake = mm1(lam, mu1)
    waits, p_wait = per_replication(result, "referred", "intake_start")
    assert_agrees("intake mean wait (days)", waits, intake["wq"])
    assert_agrees("intake probability of waiting", p_wait, intake["p_wait"])
    assert_agrees("intake mean queue", result.kpis["intake_waitlist_mean"], intake["lq"])
    iop = mmc(lam * p, 0.5, TANDEM.tracks[0].seats)
    waits, p_wait = per_replication(result, "iop_waitlisted", "iop_start")
    assert_agrees("IOP mean wait (days)", waits, iop["wq"])
    assert_agrees("IOP probability of waiting", p_wait, iop["p_wait"])
    assert_agrees("IOP mean census", result.kpis["iop_census_mean"], iop["in_service"])
    assert_agrees("intake utilisation", result.kpis["intake_utilisation"], lam / mu1)


def _lost_shares(result):
    clients = result.tables["clients"]
    warm = result.scenario.warmup_weeks * 168.0
    clients = clients[clients["referred"] >= warm]
    return [(c["status"] == "lost").mean() for _, c in clients.groupby("replication")]


def test_intake_with_a_cancellation_list_is_erlang_a():
    """Exponential patience, no booking lead, one always-rostered intake clinician with
    exponential assessments, and the cancellation list with no notice: M/M/1+M. Without the
    list, those booked behind someone who gives up keep their later slots while the clinician
    idles, so more give up than the queue formula says."""
    intake = ERLANG_A.intake
    lam = ERLANG_A.referrals.per_week / 7
    mu = HOURS_PER_DAY / intake.assessment_hours.mean
    theory = erlang_a(lam, mu, 1 / intake.patience_days.mean)
    result = run_experiment(ERLANG_A, replications=REPLICATIONS)
    assert_agrees("share who give up", _lost_shares(result), theory["p_abandon"])
    assert_agrees("mean number waiting", result.kpis["intake_waitlist_mean"], theory["lq"])
    assert_agrees("intake utilisation", result.kpis["intake_utilisation"], theory["busy"])
    without = scenarios.apply_overrides(ERLANG_A, ["intake.cancellation_list=false"])
    lost = np.mean(_lost_shares(run_experiment(without, replications=4)))
    assert lost > theory["p_abandon"] + 0.01  # measured 0.279 against 0.257
