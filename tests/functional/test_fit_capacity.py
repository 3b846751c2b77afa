"""The fit learns the clinic's capacity from its records: seats from the most clients in care
at once, tracks' days from the sessions, intake clinicians from the assessments a week at
peak, caseload places enough to fill the seats; the template's values stay only where the
records are silent, and the fit says so. A forecast from the fitted state then holds the
clinic's census instead of collapsing to the template's."""

from __future__ import annotations

import pandas as pd
import pytest

from simulation import scenario as scenarios
from simulation.data.extract import read_episodes
from simulation.data.synth import synthesize_records
from simulation.experiment import run_experiment
from simulation.fit import clinic as fitting
from tests.conftest import baseline

BIGGER = [  # the test clinic grown: 2 x 16 seats, more therapists' places, two intake clinicians
    "tracks.morning.seats=16",
    "tracks.evening.seats=16",
    'tracks.morning.days=["mon", "tue", "wed", "thu"]',
    'rooms=[{name = "Group Room A", seats = 16}, {name = "Group Room B", seats = 16}]',
    "staff.therapists.iop_caseload_cap=8",
    'staff."evening therapists".iop_caseload_cap=8',
    "staff.intake.count=2",
    "referrals.per_week=13",
]


@pytest.fixture(scope="module")
def bigger(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bigger")
    sc = scenarios.apply_overrides(baseline(), BIGGER)
    table, _, sessions = synthesize_records(sc, 2.0, 5)
    path, attendance = folder / "x.csv", folder / "a.csv"
    table.to_csv(path, index=False)
    sessions.to_csv(attendance, index=False)
    return sc, path, attendance


def test_seats_days_intake_and_caseloads_come_from_the_records(bigger):
    truth, path, attendance = bigger
    episodes = read_episodes(path, attendance=attendance)
    fitted, result, _ = fitting.fitted_scenario(
        read_episodes(path, attendance=attendance, as_of=None), baseline(), with_state=False
    )
    tracks = {t.name: t for t in fitted.tracks}
    # the most in care at once: at or just under the true seats (they were full)
    assert 13 <= tracks["morning"].seats <= 16 and 13 <= tracks["evening"].seats <= 16
    assert tracks["morning"].days == ["mon", "tue", "wed", "thu"]
    assert fitted.staff["intake"].size == 2
    places = sum(
        p.size * p.iop_caseload_cap
        for n, p in fitted.staff.items()
        if n in fitted.iop.therapist_pools
    )
    assert places >= tracks["morning"].seats + tracks["evening"].seats
    keys = {e.key for e in result.evidence}
    assert {"tracks.morning.seats", "tracks.morning.days", "staff.intake.count"} <= keys
    assert len(episodes.table) > 500


def test_a_forecast_from_the_fitted_state_holds_the_clinics_census(bigger):
    _, path, attendance = bigger
    episodes = read_episodes(path, attendance=attendance)
    as_of = episodes.as_of - pd.Timedelta(days=90)
    from simulation.data.extract import as_seen_on

    seen = as_seen_on(episodes, as_of)
    fitted, _, _ = fitting.fitted_scenario(seen, baseline(), with_state=True, horizon_weeks=8)
    in_care = sum(1 for c in fitted.state.clients if c.stage == "iop")
    weekly = run_experiment(fitted, replications=4, light=True).tables["weekly"]
    first_weeks = weekly[weekly["week"] < 4]["iop_census"].mean()
    # (the template's 20 seats would take it down by a third: the fitted seats hold it)
    assert in_care > 20 and first_weeks >= 0.85 * in_care


def test_without_a_track_column_the_seats_grow_in_proportion_and_the_fit_says_so(bigger, tmp_path):
    _, path, _ = bigger
    table = pd.read_csv(path, dtype=str, keep_default_na=False).drop(columns=["track"])
    bare = tmp_path / "bare.csv"
    table.to_csv(bare, index=False)
    fitted, result, _ = fitting.fitted_scenario(read_episodes(bare), baseline(), with_state=False)
    assert sum(t.seats for t in fitted.tracks) > 20
    assert any("raised in proportion" in n for n in result.notes)


def test_a_state_whose_census_exceeds_the_seats_is_an_error_naming_both(bigger, monkeypatch):
    _, path, _ = bigger
    monkeypatch.setattr(fitting, "fit_capacity", lambda *args: None)  # the template's seats
    episodes = read_episodes(path)
    with pytest.raises(
        scenarios.ScenarioError, match=r"has \d+ clients in the IOP but .* 20 seats"
    ):
        fitting.fitted_scenario(episodes, baseline(), with_state=True)
