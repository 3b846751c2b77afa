"""Checks that must hold for every run of every valid scenario (used by functional and
property tests)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from simulation import results
from simulation.compiled import compile_scenario
from simulation.config import Scenario
from simulation.model.clinic import ClinicModel
from simulation.model.recorder import FINAL_STATUSES, STATUSES
from simulation.streams import Streams

MILESTONES = [
    "referred",
    "intake_start",
    "assessed",
    "iop_waitlisted",
    "placed",
    "iop_start",
    "blocked_from",
    "iop_end",
    "op_start",
    "op_end",
    "left",
]


def simulate(scenario: Scenario, replication: int = 0, seed: int | None = None) -> ClinicModel:
    model = ClinicModel(
        compile_scenario(scenario), Streams(scenario.seed if seed is None else seed, replication)
    )
    model.run()
    return model


def no_overlaps(intervals: pd.DataFrame, key: str, start: str, end: str) -> list[str]:
    """Rows of ``intervals`` whose [start, end) overlaps the next one for the same key."""
    bad = []
    for name, rows in intervals.sort_values([key, start]).groupby(key):
        s = rows[start].to_numpy()
        e = rows[end].to_numpy()
        clash = np.flatnonzero(s[1:] < e[:-1] - 1e-9)
        bad += [f"{name} at {s[i + 1]:.2f}" for i in clash]
    return bad


def check(model: ClinicModel) -> None:
    """Assert every invariant on a finished model."""
    scenario = model.scenario
    rec = model.recorder
    clients = rec.client_table()
    # every referral is in exactly one known state, consistent with its milestones
    assert set(clients["status"]) <= set(STATUSES) | set(FINAL_STATUSES), set(clients["status"])
    final = clients["status"].isin(FINAL_STATUSES)
    assert clients.loc[final, "left"].notna().all()
    assert clients.loc[~final, "left"].isna().all()
    st = clients["status"]
    assert clients.loc[st == "intake_waitlist", "intake_start"].isna().all()
    assert clients.loc[st == "in_assessment", "intake_start"].notna().all()
    assert clients.loc[st == "in_assessment", "assessed"].isna().all()
    # (a client coming on from a level of care is authorised without an intake assessment)
    from_level = {v["client_id"] for v in rec.level_visits}
    from_level |= set(clients.loc[clients["readmission_of"].isin(from_level), "id"])
    unassessed = clients[(st == "authorisation") & clients["assessed"].isna()]
    assert unassessed["id"].isin(from_level).all()
    assert clients.loc[st == "authorisation", "iop_waitlisted"].isna().all()
    assert clients.loc[st == "iop_waitlist", "iop_start"].isna().all()
    assert clients.loc[st == "iop_waitlist", "iop_waitlisted"].notna().all()
    assert clients.loc[st == "iop", "iop_start"].notna().all()
    assert clients.loc[st == "iop", "iop_end"].isna().all()
    assert clients.loc[st == "blocked", "blocked_from"].notna().all()
    assert clients.loc[st == "op", "op_start"].notna().all()
    assert clients.loc[st == "op", "op_end"].isna().all()
    # monitors agree with the statuses at the end
    for status in STATUSES:
        assert rec.monitors[status].value == int((st == status).sum()), status
    # milestones in time order
    times = clients[MILESTONES].to_numpy(dtype=float)
    for row in times:
        seen = row[~np.isnan(row)]
        assert np.all(np.diff(seen) >= -1e-9), row
    # no person or room in two places at once
    busy = rec.busy_table()
    assert not no_overlaps(busy, "resource", "start", "end")
    # no client in two sessions at once
    attendance = rec.attendance_table()
    attendance = attendance.assign(end=attendance["time"] + attendance["hours"])
    assert not no_overlaps(attendance, "client_id", "time", "end")
    # groups never above seats
    sessions = rec.session_table()
    seats = {t.name: t.seats for t in scenario.tracks}
    assert (sessions["attendees"] <= sessions["enrolled"]).all()
    assert (sessions["enrolled"] <= sessions["track"].map(seats)).all()
    assert not (sessions["held"] & sessions["cancelled"]).any()
    held = rec.monitors["seats_held"]
    assert min(held.values) >= 0 and max(held.values) <= sum(seats.values())
    # utilisation within [0, 1]
    resources = results.resource_weeks(scenario, rec, model.staff)
    ok = resources["available_hours"] > 0
    ratio = resources.loc[ok, "busy_hours"] / resources.loc[ok, "available_hours"]
    assert (ratio >= 0).all() and (ratio <= 1 + 1e-9).all(), ratio.max()
    assert (resources.loc[~ok, "busy_hours"] == 0).all()
