"""Capacity planning: plan finds the answer theory gives, sweeps resume, pairing pays."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from simulation import config as scenarios
from simulation import planning
from simulation.experiment import run_experiment
from tests.conftest import short
from tests.verification.theory import mmc, seats_needed

MMC = scenarios.load("scenarios/verification/mmc.toml")


def test_plan_finds_the_seats_erlang_c_gives():
    # Referrals 4 a day, stays of 2 days: offered load a = 8. Erlang C: 10 seats give a mean
    # wait of 0.41 days, 11 give 0.16. A target of 0.26 (their geometric mean) sits far from
    # both, so with 10 replications the CIs separate them: the answer is 11 seats.
    lam, mu = 4.0, 0.5
    target = math.sqrt(mmc(lam, mu, 10)["wq"] * mmc(lam, mu, 11)["wq"])
    expected = seats_needed(lam, mu, target)
    assert expected == 11
    base = scenarios.apply_overrides(MMC, [f"referrals.per_week={lam * 7}", "horizon_weeks=200"])
    factor = planning.parse_factor("tracks.iop.seats=4..24", "--vary")
    result = planning.plan(
        base,
        [factor],
        [("wait_to_iop_days_mean", "<=", target)],
        replications=10,
        seed=3,
        runners_up=1,
        workers=2,
    )
    assert result.recommendation is not None
    assert result.recommendation.values == (expected,)
    assert result.evaluated <= 8 < len(result.candidates)  # bisection, not the full grid of 21
    assert result.runners_up and result.runners_up[0].values == (expected + 1,)


def test_plan_reports_when_nothing_meets_the_targets():
    base = short("referrals.per_week=14")
    factor = planning.parse_factor("staff.therapists.count=1..2", "--vary")
    result = planning.plan(
        base, [factor], [("wait_to_iop_days_mean", "<=", 0.01)], replications=2, seed=1
    )
    assert result.recommendation is None
    assert result.evaluated == 1  # the most capacity failed, so everything below fails
    assert any("No combination" in n for n in result.notes)


def test_pruning_is_off_when_a_target_rewards_less_capacity():
    assert planning.capacity_monotone(
        [("wait_to_iop_days_p90", "<=", 14), ("therapist_utilisation", "<=", 0.85)]
    )
    assert not planning.capacity_monotone([("therapist_utilisation", ">=", 0.6)])


def test_a_levels_capacity_prunes_only_for_that_levels_own_targets():
    """More PHP places can lengthen IOP waits (pressure moves downstream): a failure at the
    most PHP places says nothing of fewer when a target is the IOP's; for the PHP's own wait
    it does. The same holds for the staff who run the PHP's programme."""
    sc = scenarios.load(scenarios.bundled("continuum"))
    places = planning.parse_factor("levels.php.places=4..16", "--vary")
    team = planning.parse_factor('staff."php counsellors".count=1..3', "--vary")
    therapists = planning.parse_factor("staff.therapists.count=1..3", "--vary")
    own = [("level_wait_days_mean[level=php]", "<=", 1.0)]
    iop = [("wait_to_iop_days_mean", "<=", 14.0)]
    assert planning.capacity_monotone(own, [places], sc)
    assert not planning.capacity_monotone(iop, [places], sc)
    assert not planning.capacity_monotone(own + iop, [places], sc)
    assert not planning.capacity_monotone(iop, [team], sc)
    assert planning.capacity_monotone(iop, [therapists], sc)


def test_a_plan_over_a_levels_places_costs_them_and_meets_the_levels_target():
    """The plan's cost of a combination counts the level's places at their weekly cost, so
    the cheapest combination meeting the PHP's wait target is the fewest places that meet
    it: fewer places fail it, and more cost more."""
    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("continuum")), ["warmup_weeks=8", "horizon_weeks=26"]
    )
    factor = planning.parse_factor("levels.php.places=6..12", "--vary")
    target = [("level_wait_days_mean[level=php]", "<=", 7.0)]
    result = planning.plan(sc, [factor], target, replications=4, seed=1, workers=2)
    table = result.table().set_index("levels.php.places")
    per_place = sc.levels[0].cost_per_place_per_week
    assert table.loc[12, "cost_per_week"] - table.loc[6, "cost_per_week"] == pytest.approx(
        6 * per_place
    )
    assert result.recommendation is not None
    chosen = result.recommendation.values[0]
    assert 6 < chosen <= 12  # (with 6 places the PHP's wait is ~5 weeks: the search worked)
    below = table.loc[chosen - 1]
    assert below["status"] in ("not met", "pruned")


def test_paired_differences_are_tighter_than_independent_seeds():
    base, more = short(), short("staff.intake.count=2")
    a = run_experiment(base, replications=8).kpis
    b_same = run_experiment(more, replications=8).kpis
    b_other = run_experiment(more, replications=8, seed=base.seed + 99).kpis
    paired = planning.comparison_table(["a", "b"], [a, b_same], [1, 1])
    unpaired = planning.comparison_table(["a", "b"], [a, b_other], [1, 2])

    def width(table, kpi):
        row = table[(table["kpi"] == kpi) & (table["scenario"] == "b")].iloc[0]
        return row["difference_ci_high"] - row["difference_ci_low"], row["paired"]

    for kpi in ("wait_to_intake_days_mean", "iop_census_mean", "intake_utilisation"):
        w_paired, is_paired = width(paired, kpi)
        w_unpaired, not_paired = width(unpaired, kpi)
        assert is_paired and not not_paired
        assert w_paired < w_unpaired, kpi


def test_grid_parsing():
    assert planning.parse_factor("staff.therapists.count=2..6:2").values == (2, 4, 6)
    assert planning.parse_factor("tracks.evening.seats=8,10,12").values == (8, 10, 12)
    assert planning.parse_factor("tracks.morning.admission=rolling,cohort").values == (
        "rolling",
        "cohort",
    )
    for bad in ("staff.therapists.count", "x=5..2", "x=1.5..3", "x=1,1"):
        with pytest.raises(scenarios.ScenarioError):
            planning.parse_factor(bad)


SWEEP_ARGS = [
    "--grid",
    "tracks.evening.seats=6..10:2",
    "--grid",
    "staff.intake.count=1..2",
    "--replications",
    "2",
    "--weeks",
    "8",
    "--warmup-weeks",
    "2",
    "--workers",
    "1",
    "--quiet",
]


def test_a_killed_sweep_resumes_and_gives_the_same_table(tmp_path):
    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", "sweep", *SWEEP_ARGS, "--out", str(killed)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120

    def finished_cells() -> set[str]:  # (not the cells' weekly waitlists)
        return {p.stem for p in (killed / "cells").glob("*.parquet") if "." not in p.stem}

    while time.monotonic() < deadline and len(finished_cells()) < 2:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    finished = finished_cells()
    assert 2 <= len(finished) < 6, "the sweep should be killed part-way"
    base = scenarios.apply_overrides(  # (the bundled baseline: what the command ran)
        scenarios.load(scenarios.bundled("baseline")), ["horizon_weeks=8", "warmup_weeks=2"]
    )
    factors = [
        planning.parse_factor("tracks.evening.seats=6..10:2"),
        planning.parse_factor("staff.intake.count=1..2"),
    ]
    table, ran = planning.run_sweep(base, factors, killed, replications=2, seed=base.seed)
    assert ran == 6 - len(finished)  # finished cells are not run again
    fresh, _ = planning.run_sweep(base, factors, tmp_path / "fresh", replications=2, seed=base.seed)
    pd.testing.assert_frame_equal(table, fresh)
    assert len(table) == 6 * table["kpi"].nunique()


def test_a_different_sweep_in_the_same_folder_is_refused(tmp_path):
    base = short("horizon_weeks=4", "warmup_weeks=1")
    one = [planning.parse_factor("staff.intake.count=1..2")]
    planning.run_sweep(base, one, tmp_path / "s", replications=1, seed=1)
    other = [planning.parse_factor("staff.intake.count=1..3")]
    with pytest.raises(planning.SweepError, match="another sweep"):
        planning.run_sweep(base, other, tmp_path / "s", replications=1, seed=1)


def test_a_budget_runs_only_the_combinations_it_affords_and_says_which_comes_closest():
    """Which site gets the next therapist, within a budget: combinations dearer than the
    budget are never simulated; within a budget that holds the cheapest combination meeting
    the targets, the plan is the one without a budget; below it, the plan says none meets the
    targets and names the closest it ran; a budget below everything is refused."""
    from simulation import results

    base = short()
    factor = planning.parse_factor("staff.therapists.count=1..3", "--vary")
    target = [("wait_to_iop_days_mean", "<=", 8.0)]  # (two therapists meet it, one not)
    free = planning.plan(base, [factor], target, replications=4, seed=1)
    assert free.recommendation is not None
    chosen = free.recommendation.cost
    within = planning.plan(base, [factor], target, replications=4, seed=1, budget=chosen)
    assert within.recommendation.values == free.recommendation.values
    over = [c for c in within.candidates if c.status == "over budget"]
    assert over and all(c.summary is None and c.cost > chosen for c in over)
    cheapest = min(c.cost for c in free.candidates if c.scenario is not None)
    assert chosen > cheapest  # (the premise: one therapist does not meet it)
    tight = planning.plan(base, [factor], target, replications=4, seed=1, budget=chosen - 1)
    assert tight.recommendation is None
    assert any("the closest of those run: staff.therapists.count=1" in n for n in tight.notes)
    (said,) = [n for n in tight.notes if "the closest of those run" in n]
    assert "still missing: wait_to_iop_days_mean" in said and "against <= 8.0 d" in said
    # without a budget, a range that cannot meet the target says what it still misses too
    short_range = planning.parse_factor("staff.therapists.count=1..1", "--vary")
    none = planning.plan(base, [short_range], target, replications=4, seed=1)
    (said,) = [n for n in none.notes if n.startswith("No combination in the ranges")]
    assert "still missing: wait_to_iop_days_mean" in said
    with pytest.raises(scenarios.ScenarioError, match="--budget .* every combination costs more"):
        planning.plan(base, [factor], target, replications=4, seed=1, budget=cheapest / 2)
    one = scenarios.apply_overrides(base, ["staff.therapists.count=1"])
    assert cheapest == pytest.approx(results.plan_cost(one))  # (the cost the plan ranks by)


# Level b of the Jackson network with a target every combination meets (b admits clients,
# whatever its places): only whether b's waitlist settles tells its places apart. Its offered
# load is 7.7 places (1.53 a day x 5 days), so 6 places (load 1.25) let it climb by about 2
# clients a week, 9 (0.85) and 12 (0.64) do not.
ADMITS = ("level_admissions_per_week[level=b]", ">=", 0.1)


def _jackson(*changes: str):
    from tests.verification.test_levels import JACKSON

    return scenarios.apply_overrides(JACKSON, ["horizon_weeks=40", *changes])


def test_a_plan_never_recommends_capacity_at_which_a_queue_climbs_without_end():
    factor = planning.Factor("levels.b.places", (6, 9, 12))
    sc = _jackson()
    result = planning.plan(sc, [factor], [ADMITS], 4, sc.seed, workers=2)
    by_places = {c.values[0]: c for c in result.candidates}
    assert by_places[6].status == "overloaded"
    assert by_places[6].overloaded == ["waitlist for level b"]
    assert result.recommendation is by_places[9]  # the least that met the target and settles
    assert any("climbed without end" in note for note in result.notes)
    table = result.table().set_index("levels.b.places")
    assert table.loc[6, "queues_without_end"] == "waitlist for level b"
    assert table.loc[9, "queues_without_end"] == ""


def test_a_robust_plan_counts_a_future_whose_queue_climbs_without_end_as_failed():
    """Four futures of b's mean stay at 9 places: 3 and 4 days (load 0.51, 0.68) settle, 7.5 and
    8 days (load 1.25, 1.33 with b's discharges capped) climb; the target holds in all four."""
    from simulation.robust import Futures
    from simulation.uncertainty import UncertainInput

    stay = UncertainInput("levels.b.stay_days.mean", 5.0, 3.0, 8.0, "test")
    futures = Futures([stay], np.array([[3.0], [4.0], [7.5], [8.0]]), 0.5)
    sc = _jackson("levels.b.places=9")
    verdict = futures.judge(sc, [ADMITS], 4, sc.seed, workers=2)
    assert verdict.by_target[ADMITS[0]] == 1.0
    assert verdict.overloaded == 2
    assert verdict.share == 0.5


def test_a_sweep_names_the_queues_that_climb_without_end_in_each_cell(tmp_path):
    sc = _jackson()
    factor = planning.Factor("levels.b.places", (6, 12))
    table, _ = planning.run_sweep(sc, [factor], tmp_path / "sweep", 4, sc.seed, workers=2)
    cells = table.drop_duplicates("cell").set_index("levels.b.places")
    assert cells.loc[6, "queues_without_end"] == "waitlist for level b"
    assert cells.loc[12, "queues_without_end"] == ""


def test_a_plan_says_when_a_pool_it_varies_costs_nothing():
    """A pool without annual_cost makes its people free: the plan says so rather than call
    a combination with more of them as cheap as one with fewer."""
    unpaid = short("staff.intake.annual_cost=0")
    factors = [planning.parse_factor("staff.intake.count=1..2", "--vary")]
    said = planning.search.unpaid_factors(factors, unpaid)
    assert len(said) == 1 and said[0].startswith("staff.intake.annual_cost is not set (0)")
    assert planning.search.unpaid_factors(factors, short()) == []
    seats = [planning.parse_factor("tracks.morning.seats=8..12", "--vary")]
    assert planning.search.unpaid_factors(seats, unpaid) == []
