"""Staff who join and leave."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import config as scenarios
from simulation.experiment import run_experiment
from tests.conftest import short

LEAVE_THEN_HIRE = [
    'staff_changes=[{pool = "therapists", week = 12, change = "leave"}, '
    '{pool = "therapists", week = 20, change = "join"}]'
]


def test_a_departure_raises_the_waitlist_after_its_week_and_a_hire_brings_it_down():
    plain = run_experiment(short("horizon_weeks=30"), replications=6).tables["weekly"]
    changed = run_experiment(short("horizon_weeks=30", *LEAVE_THEN_HIRE), replications=6)
    weekly = changed.tables["weekly"]

    def mean(table, weeks):
        return table[table["week"].isin(weeks)]["iop_waitlist"].mean()

    before, vacant, after = range(4, 12), range(14, 20), range(28, 34)
    # common random numbers: the same clinic until week 12
    assert mean(weekly, before) == pytest.approx(mean(plain, before))
    assert mean(weekly, vacant) > mean(plain, vacant) + 0.5
    assert mean(weekly, after) < mean(weekly, vacant)
    k = changed.summary.set_index("kpi")["mean"]
    assert k["staff_vacancy_weeks_per_year"] == pytest.approx(8 * 52 / 30)
    assert k["clients_reassigned_per_year"] + k["clients_left_without_clinician_per_year"] > 0


def test_nobody_works_before_joining_or_after_leaving():
    from simulation.compiled import compile_scenario
    from simulation.model.clinic import ClinicModel
    from simulation.streams import Streams

    sc = short("horizon_weeks=30", *LEAVE_THEN_HIRE)
    people = {name: (first, gone) for name, _, first, gone in sc.people()}
    assert people["therapists 2"] == (0, 12)  # the pool's last member by name leaves
    assert people["therapists joiner 1"] == (20, None)
    model = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0))
    busy = model.run().busy_table()
    week = np.floor(busy["start"] / 168).astype(int)
    assert not ((busy["resource"] == "therapists 2") & (week >= 12)).any()
    assert not ((busy["resource"] == "therapists joiner 1") & (week < 20)).any()
    assert ((busy["resource"] == "therapists joiner 1") & (week >= 20)).any()


def test_caseload_places_count_only_the_weeks_a_therapist_is_in_post():
    """A day therapist leaves at week 12 and is replaced at week 20 (30 weeks measured from
    week 4): each has their cap for their own weeks, so the pool's caseload places held are
    not read as half empty for the weeks no one was in the post (they were 0.25 of the
    summer vacancy's baseline before)."""
    from tests.conftest import run

    sc = short("horizon_weeks=30", *LEAVE_THEN_HIRE)
    table = run(sc).caseloads.set_index("therapist")
    span = sc.horizon_weeks
    assert table.loc["therapists 2", "in_post_share"] == pytest.approx((12 - 4) / span)
    assert table.loc["therapists joiner 1", "in_post_share"] == pytest.approx((34 - 20) / span)
    assert table.loc["therapists 1", "in_post_share"] == 1.0
    offered = (table["cap"] * table["in_post_share"]).sum()
    kpis = run(sc).kpis
    assert kpis["caseload_occupancy"] == pytest.approx(table["mean_caseload"].sum() / offered)
    assert kpis["caseload_occupancy"] <= 1.0 + 1e-9


def test_more_cannot_leave_than_are_in_post():
    with pytest.raises(scenarios.ScenarioError, match="cannot leave therapists"):
        short('staff_changes=[{pool = "therapists", week = 5, change = "leave", count = 3}]')
    with pytest.raises(scenarios.ScenarioError, match="did you mean 'therapists'"):
        short('staff_changes=[{pool = "therapist", week = 5, change = "join"}]')


def test_a_sweep_can_ask_hire_by_week_20_or_by_week_26():
    from simulation import planning

    base = short("horizon_weeks=30", *LEAVE_THEN_HIRE)
    grid = planning.cells(base, [planning.parse_factor("staff_changes.1.week=20,26")])
    assert [c.scenario.staff_changes[1].week for c in grid] == [20, 26]
    later = run_experiment(grid[1].scenario, replications=4).summary.set_index("kpi")["mean"]
    sooner = run_experiment(grid[0].scenario, replications=4).summary.set_index("kpi")["mean"]
    assert later["staff_vacancy_weeks_per_year"] > sooner["staff_vacancy_weeks_per_year"]
    assert later["iop_waitlist_mean"] >= sooner["iop_waitlist_mean"]


TURNOVER = [
    "staff.therapists.annual_turnover=0.3",
    "staff.evening therapists.annual_turnover=0.3",
]


def test_random_turnover_leaves_posts_empty_for_the_time_to_fill():
    sc = short(
        "horizon_weeks=52",
        *TURNOVER,
        "staff.therapists.time_to_fill_weeks=12.0",
        "staff.evening therapists.time_to_fill_weeks=12.0",
    )
    result = run_experiment(sc, replications=10)
    k = result.summary.set_index("kpi")
    # expected: 4 posts x 0.3 leavers a year x 12 weeks empty, about 14 post-weeks a year
    # (less where a vacancy runs past the end); 10 replications: a wide tolerance
    assert 6 < k.loc["staff_vacancy_weeks_per_year", "mean"] < 22
    plain = run_experiment(short("horizon_weeks=52"), replications=10).summary.set_index("kpi")
    assert k.loc["cost_per_week", "mean"] < plain.loc["cost_per_week", "mean"]  # no salary
    assert k.loc["iop_waitlist_mean", "mean"] > plain.loc["iop_waitlist_mean", "mean"]


def test_agency_cover_keeps_capacity_at_a_higher_cost():
    with_cover = short(
        "horizon_weeks=52",
        *TURNOVER,
        "staff.therapists.agency_cover=true",
        "staff.evening therapists.agency_cover=true",
    )
    k = run_experiment(with_cover, replications=6).summary.set_index("kpi")["mean"]
    plain = run_experiment(short("horizon_weeks=52"), replications=6).summary.set_index("kpi")[
        "mean"
    ]
    assert k["staff_vacancy_weeks_per_year"] == 0 and k["agency_weeks_per_year"] > 0
    assert k["cost_per_week"] > plain["cost_per_week"]
    assert k["clients_left_without_clinician_per_year"] == 0  # the locum takes the caseload


def test_turnover_draws_are_the_posts_own():
    from simulation.compiled import compile_scenario
    from simulation.model.staff import _with_turnover
    from simulation.streams import Streams

    one = _with_turnover(compile_scenario(short(*TURNOVER)), Streams(3, 0))
    more = _with_turnover(compile_scenario(short(*TURNOVER, "staff.intake.count=2")), Streams(3, 0))
    therapists = [row for row in one if row[1] != "intake"]
    assert therapists == [row for row in more if row[1] != "intake"]
