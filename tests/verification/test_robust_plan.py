"""A robust plan where theory knows the answer.

The IOP waitlist of ``mmc.toml`` (mean stay 2 days) with an uncertain arrival rate, uniform on
3 to 4 a day, and the target of a mean wait of at most half a day. Erlang C says in which share
of futures each number of seats c meets it: 9 seats in 62% (the wait is under half a day while
lambda < 3.62), 8 seats in 15%, 10 seats in all. So a plan that must hold in half the futures
chooses 9 seats, and one that must hold in 90% chooses 10.
"""

from __future__ import annotations

import numpy as np
import pytest

from simulation import config as scenarios
from simulation import planning
from simulation.robust import Futures
from simulation.uncertainty import uncertain_inputs
from tests.verification.theory import mmc

MMC = scenarios.apply_overrides(
    scenarios.load("scenarios/verification/mmc.toml"),
    ["horizon_weeks=80", "uncertainty.referrals.per_week=[21, 28]"],
)
TARGET = ("wait_to_iop_days_mean", "<=", 0.5)


def erlang_c_share(seats: int) -> float:
    """Share of lambda in [3, 4] a day whose M/M/c mean wait meets the target."""
    rates = np.linspace(3, 4, 2001)
    with np.errstate(divide="ignore"):  # 8 seats at 4 a day: load 1, an infinite wait
        return float(np.mean([mmc(lam, 0.5, seats)["wq"] <= TARGET[2] for lam in rates]))


@pytest.mark.parametrize(("required", "seats"), [(0.5, 9), (0.9, 10)])
def test_a_robust_plan_chooses_the_seats_erlang_c_says_hold_in_that_share(required, seats):
    assert erlang_c_share(seats) >= required > erlang_c_share(seats - 1)  # the premise
    futures = Futures.draw(uncertain_inputs(MMC, None), 20, required, MMC.seed)
    factor = planning.parse_factor("tracks.iop.seats=8..11", "--vary")
    result = planning.plan(MMC, [factor], [TARGET], 2, MMC.seed, workers=2, futures=futures)
    assert result.recommendation is not None
    assert result.recommendation.values == (seats,)
    # the estimated shares agree with Erlang C's within the sampling error of 20 futures
    for c in result.candidates:
        if c.verdict is not None:
            theory = erlang_c_share(c.values[0])
            assert c.verdict.low - 0.1 <= theory <= c.verdict.high + 0.1, (c.values, c.verdict)
    table = result.table()
    assert {"futures_met_share", "futures_met_ci_low", "futures_met_ci_high"} <= set(table)
