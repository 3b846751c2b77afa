"""The decision brief of a run: where each sentence goes."""

from __future__ import annotations

from simulation.experiment import run_experiment
from tests.conftest import short


def test_the_brief_puts_a_cost_left_out_beside_the_margin():
    """Warnings about money go under Money, next to the margin they qualify; others stay in
    the flow."""
    from simulation.brief import run_brief

    summary = run_experiment(short(), replications=2, workers=1).summary
    cost = "staff.intake.annual_cost: not set (0), so the cost leaves out the pay of 1 person"
    timetable = "tracks.morning: its week offers 9.83 h against the 9-hour rule for adults"
    sections = dict(run_brief(summary, [], notes=[cost, timetable]))
    assert sections["Money"][0].startswith("Revenue") and sections["Money"][1] == cost
    assert timetable in sections["Flow"] and cost not in sections["Flow"]
