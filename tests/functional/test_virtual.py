"""Virtual tracks."""

from __future__ import annotations

import pytest

from simulation import config as scenarios
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
    """'video a' meets with the in-person morning group only: its small sessions are
    cancelled, never merged into a room; 'video c' meets with the virtual 'video b' (which
    always runs): its small sessions merge into it."""
    tracks = (
        'tracks=[{name = "video a", days = ["mon", "wed", "fri"], start = "09:00", '
        'session_hours = 3.0, seats = 10, facilitator_pools = ["therapists"], '
        'modality = "virtual", min_attendance = 6}, '
        '{name = "morning", days = ["mon", "wed", "fri"], start = "09:00", session_hours = 3.0, '
        'seats = 10, facilitator_pools = ["therapists"]}, '
        '{name = "video b", days = ["mon", "tue", "thu"], start = "17:30", session_hours = 3.0, '
        'seats = 10, facilitator_pools = ["evening therapists"], modality = "virtual"}, '
        '{name = "video c", days = ["mon", "tue", "thu"], start = "17:30", session_hours = 3.0, '
        'seats = 10, facilitator_pools = ["evening therapists"], modality = "virtual", '
        "min_attendance = 6}]"
    )
    sessions = run(short(tracks, "horizon_weeks=30")).sessions
    merged = sessions[sessions["outcome"] == "merged"]
    assert len(merged) > 0 and (merged["track"] == "video c").all()
    video_a = sessions.loc[sessions["track"] == "video a", "outcome"]
    assert (video_a == "cancelled_low_attendance").any()


HYBRID = 'tracks.evening.modality="hybrid"'


def test_a_hybrid_track_seats_only_those_in_person_and_its_video_clients_come_as_virtual():
    """A hybrid evening track of 16 places with half by video fits the 10-seat room (8 in
    person), which an in-person track of 16 cannot; its clients by video are about half
    (binomial: 0.5 +- 0.2 over 40+ clients), and with a high video attendance multiplier
    it meets the hours rule more often than in person (common random numbers)."""
    from simulation.config import ScenarioError, apply_overrides

    with pytest.raises(ScenarioError, match="no room has 16 seats|16 seats do not fit"):
        apply_overrides(short("tracks.evening.seats=16", 'tracks.evening.room="Group Room B"'), [])
    sc = short(
        HYBRID, "tracks.evening.seats=16", 'tracks.evening.room="Group Room B"', "horizon_weeks=40"
    )
    assert sc.tracks[1].room_seats_needed == 8
    res = run(sc)
    evening = res.clients[res.clients["track"] == "evening"]
    assert len(evening) >= 40
    assert 0.3 <= evening["by_video"].mean() <= 0.7
    assert not res.clients.loc[res.clients["track"] == "morning", "by_video"].any()
    plain = run_experiment(short("horizon_weeks=30"), replications=3).summary.set_index("kpi")
    mixed = run_experiment(
        short(HYBRID, "tracks.evening.virtual_attendance_multiplier=1.2", "horizon_weeks=30"),
        replications=3,
    ).summary.set_index("kpi")
    share = "client_weeks_meeting_hours_share"
    assert mixed.loc[share, "mean"] > plain.loc[share, "mean"]
