"""Issue 13 item 4 (part): virtual tracks."""

from __future__ import annotations

import pytest

from simulation import scenario as scenarios
from simulation.experiment import run_experiment
from tests.conftest import run, short

VIRTUAL = 'tracks.evening.modality="virtual"'


def test_a_virtual_track_uses_no_room():
    res = run(short(VIRTUAL, "horizon_weeks=20"))
    evening = res.sessions[res.sessions["track"] == "evening"]
    assert evening["held"].any() and (evening["room"] == "").all()
    rooms = res.activity[res.activity["pool"].isin(["Group Room A", "Group Room B"])]
    in_person = run(short("horizon_weeks=20")).activity
    in_person = in_person[in_person["pool"].isin(["Group Room A", "Group Room B"])]
    # only the morning track's hours are left in the rooms
    assert rooms["busy_hours"].sum() < 0.7 * in_person["busy_hours"].sum()


def test_virtual_attendance_and_stays_follow_their_multipliers():
    plain = run_experiment(short("horizon_weeks=30"), replications=3).summary.set_index("kpi")
    video = run_experiment(
        short(VIRTUAL, "tracks.evening.virtual_stay_multiplier=1.5", "horizon_weeks=30"),
        replications=3,
    ).summary.set_index("kpi")
    assert (
        video.loc["iop_length_of_stay_days_mean", "mean"]
        > plain.loc["iop_length_of_stay_days_mean", "mean"]
    )
    assert (
        video.loc["client_weeks_meeting_hours_share", "mean"]
        > plain.loc["client_weeks_meeting_hours_share", "mean"]
    )


def test_a_virtual_track_names_no_room():
    with pytest.raises(scenarios.ScenarioError, match="takes no room"):
        short(VIRTUAL, 'tracks.evening.room="Group Room A"')


def test_virtual_groups_with_a_minimum_merge_only_with_virtual_groups():
    twins = (
        'tracks=[{name = "video a", days = ["mon", "wed", "fri"], start = "09:00", '
        'session_hours = 3.0, seats = 10, facilitator_pools = ["therapists"], '
        'modality = "virtual", min_attendance = 6}, '
        '{name = "video b", days = ["mon", "wed", "fri"], start = "09:00", session_hours = 3.0, '
        'seats = 10, facilitator_pools = ["therapists"], modality = "virtual", min_attendance = 6}, '
        '{name = "evening", days = ["mon", "tue", "thu"], start = "17:30", session_hours = 3.0, '
        'seats = 10, facilitator_pools = ["evening therapists"], min_attendance = 6}]'
    )
    res = run(short(twins, "horizon_weeks=20"))
    merged = res.sessions[res.sessions["outcome"] == "merged"]
    assert len(merged) > 0 and merged["track"].isin(["video a", "video b"]).all()
