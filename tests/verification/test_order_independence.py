"""Common random numbers keyed by name, never by position.

The same clinic with its staff pools, members, tracks, rooms and referral sources listed in
another order must give identical numbers with the same seed: paired comparisons rely on an
edit unrelated to an activity leaving its draws alone."""

from __future__ import annotations

import pandas as pd

from simulation import config as scenarios
from simulation.experiment import run_experiment
from tests.conftest import short


def reordered(sc: scenarios.Scenario) -> scenarios.Scenario:
    data = scenarios.to_data(sc)
    data["staff"] = dict(reversed(list(data["staff"].items())))
    for pool in data["staff"].values():
        if "members" in pool:
            pool["members"] = list(reversed(pool["members"]))
    data["tracks"] = list(reversed(data["tracks"]))
    data["rooms"] = list(reversed(data["rooms"]))
    data["referrals"]["sources"] = list(reversed(data["referrals"]["sources"]))
    data["iop"]["therapist_pools"] = list(reversed(data["iop"]["therapist_pools"]))
    data["step_down"]["pools"] = list(reversed(data["step_down"]["pools"]))
    return scenarios.validate(data)


def kpis(sc: scenarios.Scenario) -> pd.DataFrame:
    table = run_experiment(sc, replications=2).kpis
    return table[sorted(table.columns)]


def test_listing_order_changes_no_number():
    sc = short('staff.prescribers.members=["Dr Okafor", "NP Reyes"]')
    flipped = reordered(sc)
    assert [t.name for t in flipped.tracks] != [t.name for t in sc.tracks]  # really reordered
    assert list(flipped.staff) != list(sc.staff)
    pd.testing.assert_frame_equal(kpis(sc), kpis(flipped))


def test_another_person_leaves_everyone_elses_leave_alone():
    from simulation.compiled import compile_scenario
    from simulation.model.staff import Staff
    from simulation.streams import Streams

    two = Staff(compile_scenario(short()), Streams(7, 0)).people
    three = Staff(
        compile_scenario(short('staff."evening therapists".count=3')), Streams(7, 0)
    ).people
    for name, person in two.items():
        assert three[name].leave_days == person.leave_days, name
    assert "evening therapists 3" in three
