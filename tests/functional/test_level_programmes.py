"""A level of care that runs a day programme (a PHP's five days of six hours): clients holding
a place attend by chance and are counted against the hours rule, the staff who run it are
busy for its hours, a staffing ratio limits the places in use, and payers may pay a level's
days by their own rates and blocked-day rules."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from simulation import config as scenarios
from simulation.experiment import run_experiment
from tests.verification.test_levels import JACKSON

WEEKDAYS = ["mon", "tue", "wed", "thu", "fri"]


def _data(members: int = 2, team_until: str = "16:00", **programme) -> dict:
    """The Jackson network with a team of ``members`` (weekdays 08:00 to ``team_until``) and
    level a running Monday to Friday 09:00-15:00 (30 hours a week), with ``programme``'s
    other keys."""
    data = scenarios.to_data(JACKSON)
    data["staff"]["php team"] = {
        "role": "other",
        "count": members,
        "roster": [{"days": WEEKDAYS, "start": "08:00", "end": team_until}],
    }
    level = next(level for level in data["levels"] if level["name"] == "a")
    level["programme"] = {
        "days": WEEKDAYS,
        "start": "09:00",
        "end": "15:00",
        "attendance": 0.85,
        "min_hours_per_week": 20,
        "staff_pools": ["php team"],
        **programme,
    }
    data["horizon_weeks"] = 40
    return data


def _programme(*overrides: str, members: int = 2, **programme):
    return scenarios.apply_overrides(
        scenarios.validate(_data(members, **programme)), list(overrides)
    )


def test_programme_hours_follow_attendance_and_the_hours_rule():
    """Each of a full week's 5 programme days (6 hours) is attended with chance 0.85, so a
    client-week holds 6 x Binomial(5, 0.85) hours: 25.5 on average, and it meets a 20-hour
    rule when 4 or 5 days are attended (P = 0.835). The Jackson network has no closures; a's
    stays are made 3 weeks long on average, for many full weeks."""
    sc = _programme('levels.a.stay_days={dist = "exponential", mean = 21.0}')
    result = run_experiment(sc, replications=4, workers=2)
    k = result.kpis
    hours = k["level_hours_per_client_week_mean[level=a]"].mean()
    met = k["level_client_weeks_meeting_hours_share[level=a]"].mean()
    # ~1,000 full client-weeks a replication, 4,000 in all: the binomial share's standard
    # error is 0.006, so 2% (0.017) is 3 standard errors; the hours' is smaller still
    assert hours == pytest.approx(6 * 5 * 0.85, rel=0.02)
    assert met == pytest.approx(stats.binom.sf(3, 5, 0.85), rel=0.02)
    assert "level_hours_per_client_week_mean[level=b]" not in k  # (b runs no programme)


def test_the_staff_who_run_a_programme_are_busy_for_its_hours():
    """The team works 40 hours a week and runs the programme for 30 of them (nothing else
    books them): their utilisation is 30 / 40."""
    result = run_experiment(_programme(), replications=1, workers=1)
    assert result.kpis["utilisation_php team"].iloc[0] == pytest.approx(0.75, abs=1e-9)


def test_a_staffing_ratio_limits_the_places_in_use():
    """1 member at 5 clients each: 5 places of the level's 12 are in use, and never more
    than 5 clients hold one; a second member makes it 10."""
    one = _programme("levels.a.places=12", members=1, clients_per_staff=5)
    two = _programme("levels.a.places=12", members=2, clients_per_staff=5)
    k1 = run_experiment(one, replications=2, workers=1).kpis
    k2 = run_experiment(two, replications=2, workers=1).kpis
    assert (k1["level_places[level=a]"] == 5).all() and (k2["level_places[level=a]"] == 10).all()
    assert k1["level_census_mean[level=a]"].max() <= 5
    assert k1["level_waitlist_mean[level=a]"].mean() > k2["level_waitlist_mean[level=a]"].mean()


@pytest.mark.parametrize(
    "changes, message",
    [
        (
            {"staff_pools": ["nobody"]},
            "levels.a.programme.staff_pools: 'nobody' is not a staff pool",
        ),
        (
            {"team_until": "12:00"},
            "levels.a.programme.staff_pools: 'php team' is not rostered for all of the "
            "programme's hours (mon, tue, wed, thu, fri 09:00-15:00)",
        ),
        ({"staff_pools": [], "clients_per_staff": 5}, "clients_per_staff: name the staff_pools"),
        ({"attendance": 1.5}, "attendance"),
    ],
)
def test_a_programme_that_cannot_be_is_refused_with_its_key(changes, message):
    data = _data(**changes)
    if not data["levels"][0]["programme"]["staff_pools"]:
        del data["staff"]["php team"]  # (an unused pool is refused on its own)
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.validate(data)
    assert message in str(caught.value)


def test_a_level_rate_for_a_level_that_is_not_is_refused_with_its_key():
    with pytest.raises(scenarios.ScenarioError) as caught:
        scenarios.apply_overrides(
            JACKSON, ['payers=[{name = "p", share = 1.0, level_per_diems = {nowhere = 100}}]']
        )
    assert "payers.p.level_per_diems: 'nowhere' is not a level (levels: a, b, c)" in str(
        caught.value
    )


def test_a_programme_and_a_group_needing_one_person_at_once_are_refused():
    sc = scenarios.load(scenarios.bundled("continuum"))
    with pytest.raises(scenarios.ScenarioError, match="would run the programme and facilitate"):
        scenarios.apply_overrides(
            sc,
            [
                'levels.php.programme={days = ["mon", "tue", "wed", "thu", "fri"], start = '
                '"09:00", end = "14:00", staff_pools = ["therapists"]}'
            ],
        )


# PHP money: two payers, half each; blocked days are frequent in the continuum
PAYERS = (
    'payers=[{name = "first", share = 0.5%s}, {name = "second", share = 0.5%s}]',
    "finance.iop_per_diem=300",
)


def _php_revenue(first: str = "", second: str = "") -> np.ndarray:
    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("continuum")),
        ["warmup_weeks=8", "horizon_weeks=26", PAYERS[0] % (first, second), PAYERS[1]],
    )
    result = run_experiment(sc, replications=2, workers=1)
    return result.kpis["level_revenue_per_week[level=php]"].to_numpy()


def test_payers_that_pay_a_level_as_the_level_does_change_nothing():
    """Payer rules equal to the level's own (its per diem, blocked days billed) take the
    per-client path and give the revenue of the level's census to rounding."""
    plain = _php_revenue()
    same = _php_revenue(", level_per_diems = {php = 300.0}", ", level_blocked_days_billed = true")
    assert same == pytest.approx(plain, rel=1e-9)
    assert plain.min() > 0


def test_each_payer_pays_a_level_by_its_own_rate_and_blocked_day_rule():
    """A payer paying nothing for PHP days halves the revenue (its clients are half of them,
    to the noise of who came); one that stops paying blocked days takes those days off."""
    plain = _php_revenue()
    half = _php_revenue(", level_per_diems = {php = 0.0}")
    # a fair coin over ~300 PHP stays a year: the first payer's share of days is 0.5 +- 0.1
    assert half / plain == pytest.approx(np.full(len(plain), 0.5), abs=0.1)
    no_blocked = _php_revenue(", level_blocked_days_billed = false")
    assert (no_blocked < plain).all()
    nothing = _php_revenue(", level_per_diems = {php = 0.0}", ", level_per_diems = {php = 0.0}")
    assert np.allclose(nothing, 0.0) and not math.isnan(nothing.sum())
