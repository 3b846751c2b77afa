"""Little's law on every waitlist and census of the baseline.

Two checks. (1) Exact bookkeeping: the time-weighted monitor of each stage equals the time the
clients' own milestones say they spent there (L x T = sum of sojourns, within the run). (2)
Little's law over the reporting period, L = lambda W, with lambda the entries per day and W
their mean sojourn, censored at the end of the run; the boundary effect (clients already there
when measuring starts, or still there at the end) is of order W / T, under 5% for a 4-year
horizon, which is the tolerance.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from simulation import config as scenarios
from simulation.model.recorder import STATUSES
from tests import invariants
from tests.conftest import variant


def stage_intervals(clients: pd.DataFrame, end: float) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(entry, exit) times of every client for each stage, from the milestones alone."""
    c = clients

    def first(*columns):
        out = pd.Series(np.nan, index=c.index)
        for column in columns:
            out = out.fillna(c[column])
        return out.fillna(end)  # still there when the run ends

    turned_away_at_intake = (c["status"] == "turned_away") & c["assessed"].isna()
    spans = {
        "intake_waitlist": (c["referred"], first("intake_start", "left"), ~turned_away_at_intake),
        "in_assessment": (c["intake_start"], first("assessed"), c["intake_start"].notna()),
        "authorisation": (
            c["assessed"],
            first("evaluation_requested", "iop_waitlisted", "left"),
            (c["authorisation_days"] > 0) & c["assessed"].notna() & (c["outcome"] == "iop"),
        ),
        "evaluation": (
            c["evaluation_requested"],
            first("iop_waitlisted", "left"),
            c["evaluation_requested"].notna(),
        ),
        "iop_waitlist": (
            c["iop_waitlisted"],
            first("iop_start", "left"),
            c["iop_waitlisted"].notna(),
        ),
        "iop": (c["iop_start"], first("blocked_from", "iop_end"), c["iop_start"].notna()),
        "blocked": (c["blocked_from"], first("iop_end"), c["blocked_from"].notna()),
        "op_waitlist": (
            c["op_waitlisted"],
            first("op_start"),
            c["op_waitlisted"].notna() & c["blocked_from"].isna(),
        ),
        "op": (c["op_start"], first("op_end"), c["op_start"].notna()),
        # at a level of care: the stays are in the levels' visit table, not in the client's
        # milestones (test_levels.py checks those monitors); these models have no levels
        "level": (c["referred"], c["referred"], pd.Series(False, index=c.index)),
    }
    return {k: (e[m].to_numpy(float), x[m].to_numpy(float)) for k, (e, x, m) in spans.items()}


@pytest.fixture(scope="module")
def model():
    sc = variant("warmup_weeks=13", "horizon_weeks=208", "step_down.blocking=false")
    return invariants.simulate(sc)


@pytest.fixture(scope="module")
def blocking_model():
    # blocking step-down, and full waitlists turning clients away at both stages
    return invariants.simulate(
        variant(
            "warmup_weeks=13",
            "horizon_weeks=52",
            "referrals.per_week=12",
            "waitlist.iop_max_length=2",
            "waitlist.intake_max_length=4",
        )
    )


@pytest.fixture(scope="module")
def payer_model():
    # payers: some wait for authorisation between assessment and the IOP waitlist
    sc = scenarios.load(scenarios.bundled("utilisation_review"))
    return invariants.simulate(
        scenarios.apply_overrides(sc, ["warmup_weeks=8", "horizon_weeks=40"])
    )


@pytest.mark.parametrize("fixture", ["model", "blocking_model", "payer_model"])
def test_monitors_agree_with_client_milestones(fixture, request):
    m = request.getfixturevalue(fixture)
    end = m.end
    clients = m.recorder.client_table()
    spans = stage_intervals(clients, end)
    for stage in STATUSES:
        entry, exit_ = spans[stage]
        from_clients = float(np.sum(np.clip(exit_, 0, end) - np.clip(entry, 0, end))) / end
        monitor = float(m.recorder.monitors[stage].bin_means(np.array([0.0, end]))[0])
        assert from_clients == pytest.approx(monitor, rel=1e-9, abs=1e-9), stage


def test_littles_law_over_the_reporting_period(model):
    start = model.scenario.warmup_weeks * 168.0
    end = model.end
    clients = model.recorder.client_table()
    spans = stage_intervals(clients, end)
    checked = 0
    for stage in ("intake_waitlist", "iop_waitlist", "iop", "op_waitlist", "op"):
        entry, exit_ = spans[stage]
        inside = entry >= start
        if inside.sum() < 50:
            continue  # too few clients passed through this stage to judge
        lam = inside.sum() / (end - start)
        w = float(np.mean(np.minimum(exit_[inside], end) - entry[inside]))
        big_l = float(model.recorder.monitors[stage].bin_means(np.array([start, end]))[0])
        assert lam * w == pytest.approx(big_l, rel=0.05), stage
        checked += 1
    assert checked >= 4
