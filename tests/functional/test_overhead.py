"""Fixed overhead, so the margin is a real margin."""

from __future__ import annotations

import pytest

from simulation import results
from tests.conftest import run, short

OVERHEAD = "finance.overhead_per_month={programme_director = 9100, front_desk = 3900}"


def test_overhead_enters_the_cost_and_margin_and_nothing_else():
    plain, fixed = run(short("finance.overhead_per_month={}")), run(short(OVERHEAD))
    per_week = 13000 * 12 / 52
    assert fixed.kpis["cost_per_week"] == pytest.approx(plain.kpis["cost_per_week"] + per_week)
    assert fixed.kpis["margin_per_week"] == pytest.approx(plain.kpis["margin_per_week"] - per_week)
    assert fixed.kpis["wait_to_iop_days_mean"] == plain.kpis["wait_to_iop_days_mean"]


def test_plans_may_leave_overhead_out_of_their_cost():
    sc = short(OVERHEAD)
    with_it = results.weekly_cost(sc, sc.finance.overhead_in_plans)
    without = short(OVERHEAD, "finance.overhead_in_plans=false")
    assert with_it - results.weekly_cost(
        without, without.finance.overhead_in_plans
    ) == pytest.approx(3000.0)
