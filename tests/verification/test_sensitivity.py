"""Sensitivity on a queue whose answer theory knows (M/M/c, Erlang C).

The IOP waitlist of ``mmc.toml`` at load 0.7: the mean wait depends on the arrival rate and the
mean stay, never on the per diem. One at a time with common random numbers, each change must
agree with the Erlang C difference, and the tornado must rank the two queue inputs first.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from simulation import config as scenarios
from simulation.sensitivity import sensitivity
from simulation.uncertainty import uncertain_inputs
from tests.verification.theory import mmc

MMC = scenarios.apply_overrides(
    scenarios.load("scenarios/verification/mmc.toml"),
    ["referrals.per_week=24.5", "horizon_weeks=200"],  # lambda 3.5 a day, c 10, mu 0.5: 0.7
)
VARY = [
    "referrals.per_week=21..28",  # load 0.6 .. 0.8
    "iop.length_of_stay_days.completed.mean=1.8..2.2",
    "finance.iop_per_diem=200..400",
]
KPI = "wait_to_iop_days_mean"


def _wait(per_week: float, stay: float) -> float:
    return mmc(per_week / 7, 1 / stay, 10)["wq"]


def test_one_at_a_time_agrees_with_erlang_c_and_ranks_the_queue_inputs_first():
    inputs = uncertain_inputs(MMC, None, VARY)
    result = sensitivity(MMC, inputs, [KPI], replications=10, points=0, workers=2)
    oat = result.one_at_a_time.set_index(["input", "level"])
    base = _wait(24.5, 2.0)
    expected = {
        ("referrals.per_week", "low"): _wait(21, 2.0) - base,
        ("referrals.per_week", "high"): _wait(28, 2.0) - base,
        ("iop.length_of_stay_days.completed.mean", "low"): _wait(24.5, 1.8) - base,
        ("iop.length_of_stay_days.completed.mean", "high"): _wait(24.5, 2.2) - base,
    }
    # the 95% interval widened to 99.9% (10 paired replications: t quantiles' ratio), plus 2%
    # of the waits compared for the warm-up's and the finite run's small bias
    widen = stats.t.ppf(0.9995, 9) / stats.t.ppf(0.975, 9)
    for key, theory in expected.items():
        row = oat.loc[key]
        half = widen * (row["ci_high"] - row["ci_low"]) / 2
        slack = 0.02 * (abs(base) + abs(base + theory))
        assert abs(row["delta"] - theory) <= half + slack, (key, row["delta"], theory, half)
    per_diem = oat.loc["finance.iop_per_diem"]
    assert (per_diem["delta"] == 0).all()  # same draws, nothing in the queue changed
    ranking = result.ranking(KPI)["input"].tolist()
    assert ranking[-1] == "finance.iop_per_diem" and set(ranking[:2]) == {
        "referrals.per_week",
        "iop.length_of_stay_days.completed.mean",
    }


def test_all_at_once_gives_the_queue_inputs_weight_and_the_per_diem_none():
    quick = scenarios.apply_overrides(MMC, ["horizon_weeks=80"])
    inputs = uncertain_inputs(quick, None, VARY)
    result = sensitivity(quick, inputs, [KPI], replications=2, points=40, workers=2)
    src = result.global_src.set_index("input")
    # both queue inputs raise the wait clearly; the per diem's interval holds 0
    for key in ("referrals.per_week", "iop.length_of_stay_days.completed.mean"):
        assert src.loc[key, "ci_low"] > 0.2, src
    assert (
        src.loc["finance.iop_per_diem", "ci_low"] < 0 < src.loc["finance.iop_per_diem", "ci_high"]
    )
    assert src["r2"].iloc[0] > 0.7  # a smooth response over these ranges: mostly linear
    # each point's inputs are inside their ranges, and the sample covers them
    points = result.global_points
    for item in inputs:
        assert points[item.key].between(item.low, item.high).all()
        assert np.ptp(points[item.key]) > 0.8 * (item.high - item.low)
