"""School terms. A track may meet by another timetable in school holidays,
and referrals may follow the terms instead of the months."""

from __future__ import annotations

import numpy as np
import pytest

from simulation import config as scenarios
from simulation.closures import school_holiday_weeks
from simulation.compiled import compile_scenario, daily_rates
from simulation.model.clinic import ClinicModel
from simulation.streams import Streams
from tests.conftest import baseline, run


@pytest.fixture(scope="module")
def terms():
    sc = scenarios.load(scenarios.bundled("adolescent_terms"))
    return scenarios.apply_overrides(sc, ["warmup_weeks=20", "horizon_weeks=40"])


def test_a_track_meets_by_its_holiday_timetable_in_school_holidays(terms):
    holidays = school_holiday_weeks(terms)
    assert 0 < len(holidays) < terms.total_weeks
    sessions = run(terms).sessions
    teen = sessions[sessions["track"] == "adolescent"].copy()
    teen["weekday"] = (teen["time"] // 24 % 7).astype(int)
    teen["hour"] = teen["time"] % 24
    holiday = teen["week"].isin(holidays)
    assert set(teen.loc[holiday, "weekday"]) == {0, 1, 2}  # Mon, Tue, Wed
    assert set(teen.loc[~holiday, "weekday"]) == {0, 1, 3}  # Mon, Tue, Thu
    assert (teen.loc[holiday, "hour"] >= 13).all() and (teen.loc[holiday, "hour"] < 14).all()
    assert (teen.loc[~holiday, "hour"] >= 14.75).all() and (teen.loc[~holiday, "hour"] < 15).all()
    assert teen.loc[holiday, "held"].any() and teen.loc[~holiday, "held"].any()


def test_nobody_is_in_two_places_at_once_across_both_timetables(terms):
    """A facilitator's diary follows the week's timetable: in holiday weeks their holiday
    groups are blocked (no appointment then), in term weeks their term groups."""
    busy = ClinicModel(compile_scenario(terms), Streams(terms.seed, 0)).run().busy_table()
    people = {n for p, pool in terms.staff.items() for n in pool.names(p)}
    for _, rows in busy[busy["resource"].isin(people)].groupby("resource"):
        rows = rows.sort_values("start")
        assert (rows["start"].to_numpy()[1:] >= rows["end"].to_numpy()[:-1] - 1e-9).all()


def test_referrals_follow_the_terms_instead_of_the_months(terms):
    rates = daily_rates(terms)
    weekly = rates.reshape(-1, 7).sum(axis=1)
    holidays = sorted(school_holiday_weeks(terms))
    term = [w for w in range(terms.total_weeks) if w not in holidays]
    np.testing.assert_allclose(weekly[holidays], 0.8 * terms.referrals.per_week)
    np.testing.assert_allclose(weekly[term], terms.referrals.per_week)


def test_a_holiday_timetable_needs_school_holidays():
    base = baseline()
    with pytest.raises(scenarios.ScenarioError, match="needs calendar.school_holidays"):
        scenarios.apply_overrides(base, ['tracks.morning.holiday_days=["tue"]'])
    with pytest.raises(scenarios.ScenarioError, match="school_holiday_multiplier"):
        scenarios.apply_overrides(base, ["referrals.school_holiday_multiplier=0.5"])


def test_a_source_may_have_its_own_seasons():
    """Schools go quiet in summer: a source with its own monthly multipliers has its share of
    the rate by its months; the other source keeps the referrals' months; and in a run the
    school referrals in July and August fall to about a fifth of spring's."""
    base = baseline()
    quiet = [1.0, 1.0, 1.0, 1.0, 1.0, 0.5, 0.2, 0.2, 1.0, 1.0, 1.0, 1.0]
    sc = scenarios.apply_overrides(
        base,
        [
            "referrals.seasonality=[1,1,1,1,1,1,1,1,1,1,1,1]",
            'referrals.sources=[{name = "community", share = 0.5, priority = 2}, '
            '{name = "schools", share = 0.5, priority = 2, seasonality = '
            f"[{', '.join(str(x) for x in quiet)}]}}]",
            "horizon_weeks=104",
        ],
    )
    schools, community = sc.referrals.sources[1], sc.referrals.sources[0]
    week = 7 * 30  # Monday of week 30: 2 August of the first year
    day_rate = daily_rates(sc, schools)[week]
    assert day_rate == pytest.approx(0.5 * 0.2 * sc.referrals.per_week * 0.22)  # Monday share
    assert daily_rates(sc, community)[week] == pytest.approx(0.5 * sc.referrals.per_week * 0.22)
    clients = run(sc).clients
    month = ((clients["referred"] // 24).astype(int) // 30.44 % 12).astype(int)  # approx.
    school = clients["source"] == "schools"
    summer = school & month.isin([6, 7])
    spring = school & month.isin([2, 3])
    assert summer.sum() < 0.45 * spring.sum()
