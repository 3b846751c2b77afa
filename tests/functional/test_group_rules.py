"""Minimum attendance (merge or cancel) and facilitator ratios."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from simulation.experiment import run_experiment
from tests.conftest import run, short

TWIN = (
    'tracks=[{name = "morning", days = ["mon", "wed", "fri"], start = "09:00", '
    'session_hours = 3.0, seats = 10, facilitator_pools = ["therapists"], min_attendance = 6}, '
    '{name = "morning 2", days = ["mon", "wed", "fri"], start = "09:00", session_hours = 3.0, '
    'seats = 10, facilitator_pools = ["therapists"], min_attendance = 6}, '
    '{name = "evening", days = ["mon", "tue", "thu"], start = "17:30", session_hours = 3.0, '
    'seats = 10, facilitator_pools = ["evening therapists"], min_attendance = 6}]'
)


def test_a_session_below_its_minimum_merges_or_is_cancelled_and_counted():
    res = run(short(TWIN, "horizon_weeks=30"))
    outcomes = res.sessions["outcome"].value_counts()
    assert outcomes.get("merged", 0) > 0  # morning and morning 2 meet at the same time
    assert outcomes.get("cancelled_low_attendance", 0) > 0  # the evening has no partner
    low = res.sessions[res.sessions["outcome"].isin(["merged", "cancelled_low_attendance"])]
    assert (low["attendees"] < 6).all() and (low["attendees"] > 0).all()
    assert res.kpis["sessions_low_attendance_share"] > 0
    evening = res.sessions[(res.sessions["track"] == "evening") & res.sessions["held"]]
    assert ((evening["attendees"] >= 6) | (evening["attendees"] == 0)).all()  # 0: nobody came


def test_cancelling_small_groups_costs_clients_hours():
    plain = run_experiment(short("horizon_weeks=30"), replications=3).summary.set_index("kpi")
    strict = run_experiment(
        short(
            "horizon_weeks=30", "tracks.evening.min_attendance=8", "tracks.morning.min_attendance=8"
        ),
        replications=3,
    ).summary.set_index("kpi")
    assert (
        strict.loc["client_weeks_meeting_hours_share", "mean"]
        < plain.loc["client_weeks_meeting_hours_share", "mean"]
    )
    assert plain.loc["sessions_low_attendance_share", "mean"] == 0


def test_a_facilitator_ratio_brings_more_staff_or_cancels():
    res = run(short("horizon_weeks=30", "tracks.morning.clients_per_facilitator=4"))
    morning = res.sessions[res.sessions["track"] == "morning"]
    held = morning[morning["held"]]
    staff = held["facilitators"].str.split(",").map(len)
    assert (staff >= held["attendees"].map(lambda n: math.ceil(n / 4))).all()
    assert (staff > 1).any()  # bigger groups got a second facilitator
    # two therapists cannot cover a group of 9 or more at 1 to 4: those sessions are cancelled
    assert morning["cancelled"].sum() >= (morning["attendees"] > 8).sum()


def test_a_merged_session_never_exceeds_the_room_it_meets_in():
    """Every merged session's attendees join the partner track's session at the same time:
    together they fit the seats of the partner's room (where the merged group meets), so
    never more than the larger of the two rooms either."""
    sc = short(TWIN, "horizon_weeks=60")
    seats = {r.name: r.seats for r in sc.rooms}
    sessions = run(sc).sessions
    merged = sessions[sessions["outcome"] == "merged"]
    assert len(merged) > 0
    for row in merged.itertuples():
        partner = sessions[
            (sessions["time"] == row.time) & (sessions["track"] != row.track) & sessions["held"]
        ]
        assert len(partner) == 1, row
        together = int(partner["attendees"].iloc[0]) + row.attendees
        assert together <= seats[partner["room"].iloc[0]], (row, together)
        assert together <= max(seats.values())


def test_a_kind_of_group_with_a_smaller_maximum_turns_the_extra_away():
    """The morning track alternates psychoeducation (Mon, Fri: up to 12) with a process group
    on Wednesdays for at most 6: on Wednesdays no more than 6 attend, the others who came
    are turned away and counted, and clients meet the hours rule less often (same draws)."""
    types = (
        'tracks.morning.group_types=[{name = "psychoeducation", days = ["mon", "fri"], '
        'max_size = 12}, {name = "process", days = ["wed"], max_size = 6}]'
    )
    plain, typed = run(short("horizon_weeks=30")), run(short(types, "horizon_weeks=30"))
    sessions = typed.sessions[(typed.sessions["track"] == "morning") & typed.sessions["held"]]
    weekday = (sessions["time"] // 24 % 7).astype(int)
    assert sessions.loc[weekday == 2, "attendees"].max() == 6
    assert sessions.loc[weekday != 2, "attendees"].max() > 6
    assert typed.kpis["group_turned_away_share"] > 0 == plain.kpis["group_turned_away_share"]
    share = "client_weeks_meeting_hours_share"
    assert typed.kpis[share] < plain.kpis[share]


def test_group_types_must_fall_on_the_tracks_days():
    import pytest

    from simulation.config import ScenarioError

    with pytest.raises(ScenarioError, match="when the track does not meet"):
        short('tracks.morning.group_types=[{name = "process", days = ["tue"], max_size = 6}]')
    with pytest.raises(ScenarioError, match="two group types"):
        short(
            'tracks.morning.group_types=[{name = "a", days = ["mon"], max_size = 6}, '
            '{name = "b", days = ["mon"], max_size = 8}]'
        )


def test_sessions_can_be_longer_on_some_days_and_optional_on_others():
    """Mon 3 h, Wed 4 h, Fri optional: Wednesday's groups last 4 hours; only the clients who
    take part in optional sessions come on Fridays, about the share set of them."""
    from simulation.compiled import compile_scenario
    from simulation.model.clinic import ClinicModel
    from simulation.streams import Streams
    from tests.conftest import short

    sc = short(
        'tracks.morning.days=["mon", "wed", "fri"]',
        "tracks.morning.session_hours_by_day={wed = 4.0}",
        'tracks.morning.optional_days=["fri"]',
        "tracks.morning.optional_share=0.3",
    )
    recorder = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0)).run()
    clients = recorder.client_table().set_index("id")
    morning = clients[(clients["track"] == "morning") & clients["iop_start"].notna()]
    attended = recorder.attendance_table()
    group = attended[(attended["kind"] == "group") & attended["client_id"].isin(morning.index)]
    day = (group["time"] // 24).astype(int) % 7
    assert (group.loc[day == 2, "hours"] > 3.7).any()  # Wednesday: 4 h (less a late start)
    assert (group.loc[day == 0, "hours"] <= 3.0 + 1e-9).all()
    fridays = group.loc[day == 4, "client_id"].unique()
    assert len(fridays) > 0 and morning.loc[fridays, "takes_optional"].all()
    takers = [morning["takes_optional"]]
    for r in (1, 2, 3):
        more = ClinicModel(compile_scenario(sc), Streams(sc.seed, r)).run().client_table()
        takers.append(
            more.loc[(more["track"] == "morning") & more["iop_start"].notna(), "takes_optional"]
        )
    together = pd.concat(takers)
    assert len(together) > 60
    assert abs(together.mean() - 0.3) < 0.15  # (0.3 of 60+ clients: sd under 0.06)


def test_session_days_and_optional_days_must_be_days_the_track_meets():
    from simulation.config import ScenarioError
    from tests.conftest import short

    with pytest.raises(ScenarioError, match="session_hours_by_day names tue"):
        short("tracks.morning.session_hours_by_day={tue = 4.0}")
    with pytest.raises(ScenarioError, match="at least one of the track's days"):
        short('tracks.morning.optional_days=["mon", "wed", "fri"]')
