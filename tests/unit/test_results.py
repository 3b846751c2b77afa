import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from simulation import config as scenarios
from simulation import results
from simulation.results.kpis import quantile
from tests.conftest import short


def test_t_interval_matches_scipy():
    x = np.array([3.1, 2.7, 3.9, 3.3, 2.8, 3.6])
    mean, std, low, high, n = results.t_interval(x)
    ref_low, ref_high = stats.t.interval(0.95, len(x) - 1, loc=x.mean(), scale=stats.sem(x))
    assert (mean, n) == (pytest.approx(x.mean()), 6)
    assert std == pytest.approx(x.std(ddof=1))
    assert (low, high) == (pytest.approx(ref_low), pytest.approx(ref_high))


def test_t_interval_ignores_missing_and_handles_tiny_samples():
    assert results.t_interval([np.nan, 2.0])[:1] == (2.0,) and math.isnan(
        results.t_interval([2.0])[2]
    )
    assert results.t_interval([])[4] == 0


def test_a_kpi_the_same_in_every_replication_has_no_spread():
    """Three replications costing 22032.007692307692 each: numpy's mean of them is
    22032.00769230769 and their sd 4e-12, and the brief showed "95% CI $22,032/wk to
    $22,032/wk" where a run with another cost said "no spread"; the value itself, with none."""
    from simulation.kpis import fmt_with_ci

    x = [22032.007692307692] * 3
    assert np.mean(x) != x[0]  # (the case: the float sum of equal values)
    mean, std, low, high, n = results.t_interval(x)
    assert (mean, std, low, high, n) == (x[0], 0.0, x[0], x[0], 3)
    assert fmt_with_ci(mean, low, high, "money_per_week").endswith(
        "(no spread: the same in every replication)"
    )


def test_summary_rows_have_the_contract_columns():
    kpis = pd.DataFrame({"replication": [0, 1, 2], "wait_to_iop_days_mean": [1.0, 2.0, 3.0]})
    summary = results.summarise(kpis)
    assert list(summary.columns) == ["kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"]
    row = summary.iloc[0]
    assert (row["kpi"], row["unit"], row["mean"], row["n"]) == (
        "wait_to_iop_days_mean",
        "days",
        2.0,
        3,
    )


def test_relative_half_width_and_replications_needed():
    rng = np.random.default_rng(5)
    values = rng.normal(10, 1, 200)
    kpis = pd.DataFrame({"k": values})
    n = results.replications_needed(kpis, ["k"], 0.05, 5)
    # half-width ~ 2 * 1 / sqrt(n) <= 0.5 needs n around 16: check the rule, not a number
    assert (
        results.relative_half_width(values[:n])
        <= 0.05
        < results.relative_half_width(values[: n - 1])
    )
    assert results.replications_needed(kpis.iloc[:6], ["k"], 0.001, 5) is None
    assert results.relative_half_width([4.0, 4.0, 4.0]) == 0.0


@pytest.mark.parametrize("seed", range(5))
def test_mser5_cuts_off_a_known_transient(seed):
    rng = np.random.default_rng(seed)
    weeks = 200
    ramp = np.minimum(np.arange(weeks) / 30, 1.0) * 20  # fills up over 30 weeks
    d = results.mser5(ramp + rng.normal(0, 0.5, weeks))
    # MSER-5 may cut a little extra noise but never keeps most of the ramp, and never more
    # than half the run (its limit)
    assert 25 <= d <= 100
    assert results.mser5(rng.normal(0, 1, weeks)) <= 100
    assert results.mser5([1.0] * 10) == 0  # too short to judge


def test_a_levels_series_that_settles_last_sets_the_warm_up():
    """In a continuum the warm-up is judged on each level's places and waiting list too: a PHP
    queue that fills over 40 weeks while the IOP's series are level from the start sets it
    (judged on the IOP's alone, the suggestion was none)."""
    rng = np.random.default_rng(3)
    weeks = 200
    weekly = pd.DataFrame(
        {
            "week": np.arange(weeks),
            "iop_census": 24 + rng.normal(0, 0.3, weeks),
            "iop_waitlist": 3 + rng.normal(0, 0.3, weeks),
            "level_census[php]": 12 + rng.normal(0, 0.3, weeks),
            "level_waitlist[php]": np.minimum(np.arange(weeks) / 40, 1.0) * 15
            + rng.normal(0, 0.3, weeks),
        }
    )
    suggested = results.suggest_warmup(weekly)
    assert set(suggested) == {
        "iop_census",
        "iop_waitlist",
        "level_census[php]",
        "level_waitlist[php]",
    }
    assert max(suggested, key=suggested.get) == "level_waitlist[php]"
    assert (
        suggested["level_waitlist[php]"]
        >= 35
        > max(suggested["iop_census"], suggested["iop_waitlist"])
    )


def test_moving_average_is_centred():
    y = np.arange(10, dtype=float)
    assert np.allclose(results.moving_average(y, 2), y)  # linear series: centred mean is itself


def _weekly(slope, replications=5, weeks=30, level=2.0, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(replications):
        w = np.arange(weeks)
        rows.append(
            pd.DataFrame(
                {
                    "replication": r,
                    "week": w,
                    "warmup": w < 5,
                    "iop_waitlist": level + slope * w + rng.normal(0, 0.5, weeks),
                    "intake_waitlist": level + rng.normal(0, 0.5, weeks),
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def test_overload_is_detected_only_for_a_growing_waitlist():
    sc = short("horizon_weeks=25", "warmup_weeks=5")
    kpis = pd.DataFrame({"turned_away_share": [0.0, 0.0]})
    growing = results.overload_notes(sc, _weekly(1.0), kpis)
    assert len(growing) == 1 and "OVERLOADED: the IOP waitlist grows by about 1.0" in growing[0]
    assert results.overload_notes(sc, _weekly(0.0), kpis) == []
    # a slow drift that stays small against the waitlist level is not overload
    assert results.overload_notes(sc, _weekly(0.05, level=10), kpis) == []


def test_a_queue_that_levels_off_after_a_short_warmup_is_growing_not_overloaded():
    """A queue filling from an empty start rises by 8 over the first weeks measured and levels
    off (a short warm-up): its trend over the period is positive beyond doubt, but in the
    period's second half it barely moves. The run says GROWING with that caveat, and a plan
    does not count it overloaded; the same rise kept up to the end is OVERLOADED."""
    sc = short(
        "horizon_weeks=25", "warmup_weeks=5", "referrals.seasonality=[1,1,1,1,1,1,1,1,1,1,1,1]"
    )
    rng = np.random.default_rng(3)
    w = np.arange(30)
    rows = [
        pd.DataFrame(
            {
                "replication": r,
                "week": w,
                "warmup": w < 5,
                "iop_waitlist": 8 * (1 - np.exp(-(w - 5).clip(0) / 4)) + rng.normal(0, 0.5, 30),
            }
        )
        for r in range(5)
    ]
    filling = pd.concat(rows, ignore_index=True)
    kpis = pd.DataFrame({"turned_away_share": [0.0] * 5})
    notes = results.overload_notes(sc, filling, kpis)
    assert len(notes) == 1 and notes[0].startswith("GROWING: the IOP waitlist")
    assert "still be filling after too short a warm-up" in notes[0]
    assert results.overloaded_queues(sc, filling) == {}
    assert results.overloaded_queues(sc, _weekly(1.0)) == {"iop_waitlist": "IOP waitlist"}
    # the same rise after referrals step up inside the measured period is the clinic meeting
    # the new demand, not a short warm-up: said so, and an OVERLOADED queue names the change
    stepped = scenarios.apply_overrides(
        sc, ["referrals.step_changes=[{from_week=8, multiplier=1.5}]"]
    )
    notes = results.overload_notes(stepped, filling, kpis)
    assert "referrals change x1.5 from week 8, inside the measured period" in notes[0]
    assert "too short a warm-up" not in notes[0]
    (over,) = results.overload_notes(stepped, _weekly(1.0), kpis)
    assert over.startswith("OVERLOADED") and "(referrals change x1.5 from week 8" in over
    before = scenarios.apply_overrides(
        sc, ["referrals.step_changes=[{from_week=3, multiplier=1.5}]"]
    )
    assert results.step_in_period(before) == ""  # (in the warm-up: settled before measuring)


def test_targets_use_the_pessimistic_ci_bound():
    sc = short('targets.wait_to_iop_days_p90="<= 14"', 'targets.completion_share=">= 0.3"')
    summary = pd.DataFrame(
        [
            {"kpi": "wait_to_iop_days_p90", "mean": 12.0, "ci_low": 10.0, "ci_high": 15.0, "n": 5},
            {"kpi": "completion_share", "mean": 0.4, "ci_low": 0.35, "ci_high": 0.45, "n": 5},
        ]
    )
    status = results.target_status(sc, summary).set_index("kpi")
    assert not status.loc["wait_to_iop_days_p90", "met"]  # mean meets it, the CI does not
    assert status.loc["completion_share", "met"]


def test_a_target_only_a_few_replications_produce_is_not_judged():
    """A share of clients who started within 14 days that only 2 of 12 replications had
    anyone for (both 100%, an interval of no width) is too few to judge, and says how many;
    half of them is enough; one replication alone is judged on its mean."""
    kpi = "share_started_within_14_days"
    row = {"kpi": kpi, "mean": 1.0, "ci_low": 1.0, "ci_high": 1.0}
    every = {"kpi": "referrals_per_week", "mean": 1.0, "ci_low": 0.9, "ci_high": 1.1, "n": 12}

    def judged(n: int, total: int):
        summary = pd.DataFrame([{**row, "n": n}, {**every, "n": total}])
        return next(results.evaluate_targets(summary, [(kpi, ">=", 0.6)]).itertuples())

    few = judged(2, 12)
    assert few.met is None and (few.n, few.replications) == (2, 12)
    assert results.too_few(few).startswith("only 2 of 12 replications had anyone")
    assert judged(6, 12).met is True and results.too_few(judged(6, 12)) == ""
    assert judged(1, 1).met is True


def test_a_queue_that_filled_during_the_warmup_and_keeps_growing_is_overloaded():
    """Growth below the queue's own mean level (it built up in the warm-up) is still growth;
    over under a year of seasonal referrals it is said with the caveat that it may be the
    season."""
    flat = "referrals.seasonality=[1,1,1,1,1,1,1,1,1,1,1,1]"
    sc = short("horizon_weeks=25", "warmup_weeks=5", flat)
    kpis = pd.DataFrame({"turned_away_share": [0.0, 0.0]})
    notes = results.overload_notes(sc, _weekly(0.8, level=100.0), kpis)
    assert len(notes) == 1 and notes[0].startswith(
        "OVERLOADED: the IOP waitlist grows by about 0.8"
    )
    seasonal = short("horizon_weeks=25", "warmup_weeks=5")
    notes = results.overload_notes(seasonal, _weekly(0.8, level=100.0), kpis)
    assert len(notes) == 1 and notes[0].startswith("GROWING: the IOP waitlist")


def test_a_waitlist_that_swings_with_the_seasons_is_not_overloaded():
    """Over two years, a yearly swing of +-15 around 30 shows no growth; a climb on top of the
    same swing does."""
    weeks = np.arange(110)
    swing = 30 + 15 * np.sin(2 * np.pi * (weeks + 9) / results.WEEKS_PER_YEAR)
    rng = np.random.default_rng(1)
    levels = np.column_stack([swing + rng.normal(0, 1, len(weeks)), swing + 0.3 * weeks])
    flat, climbing = results.queue_growth(weeks, levels)
    assert abs(flat) < 0.05  # (noise sd 1 over 110 weeks: a slope's se is ~0.003)
    assert climbing == pytest.approx(0.3, abs=0.02)


def test_shares_of_referrals_count_only_those_whose_fate_is_known():
    """Two lost, two started, six still waiting: 50% gave up (not 20%), 60% still waiting."""
    clients = pd.DataFrame(
        {
            "id": range(10),
            "referred": [1.0] * 10,
            "intake_start": [np.nan, np.nan, 2, 2] + [np.nan] * 6,
            "assessed": [np.nan, np.nan, 3, 3] + [np.nan] * 6,
            "iop_start": [np.nan, np.nan, 5, 5] + [np.nan] * 6,
            "iop_waitlisted": [np.nan, np.nan, 4, 4] + [np.nan] * 6,
            "status": ["lost", "lost", "iop", "iop"] + ["intake_waitlist"] * 6,
            "outcome": ["iop"] * 10,
        }
    )
    weeks = pd.DataFrame({"client_id": [], "week": [], "meets_rule": []})
    k = results.client_kpis(clients, weeks, start=0.0, end=1000.0, weeks=1)
    assert k["lost_from_waitlist_share"] == pytest.approx(0.5)
    assert k["lost_before_assessment_share"] == pytest.approx(0.5)
    assert k["referrals_waiting_at_end_share"] == pytest.approx(0.6)
    assert k["referrals_never_assessed_share"] == pytest.approx(0.6)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-1e6, max_value=1e6, allow_nan=False), min_size=0, max_size=300
    ),
    q=st.sampled_from([0.0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1.0]),
)
def test_quantile_is_numpys_number_for_number(values, q):
    """The replication KPIs' quick quantile must give exactly what np.quantile gives (the
    numbers of every run depend on it): order statistics by partition, numpy's interpolation."""
    mine = quantile(values, q)
    if not values:
        assert math.isnan(mine)
    else:
        assert mine == float(np.quantile(np.asarray(values, dtype=float), q))


def test_quantile_of_values_with_a_missing_one_is_missing():
    assert math.isnan(quantile([1.0, np.nan, 3.0], 0.9))


def test_a_forecast_gives_bands_for_each_level_of_care_and_each_site():
    from simulation import config as scenarios
    from simulation.experiment import run_experiment

    for name, wanted in (
        ("continuum", {"level_census[php]", "level_waitlist[php]"}),
        ("network", {f"iop_waitlist[site={s}]" for s in ("rural", "suburban", "urban")}),
    ):
        sc = scenarios.apply_overrides(
            scenarios.load(scenarios.bundled(name)), ["warmup_weeks=2", "horizon_weeks=4"]
        )
        weekly = run_experiment(sc, replications=2, detail="forecast").tables["weekly"]
        bands = results.forecast_bands(weekly)
        series = set(bands["series"])
        assert wanted <= series and set(results.FORECAST_SERIES) <= series
        for s in wanted:
            rows = bands[bands["series"] == s]
            assert len(rows) == sc.total_weeks and (rows["p5"] <= rows["p95"]).all()
            assert results.series_name(s) != s  # named in words on the page


def test_what_limits_admissions_says_no_one_was_assessed_rather_than_nan():
    """A clinic with no referrals (its cost alone) has no wait for an assessment nor for a
    level's place, and one whose clients need no medication no medication visit due: the
    lines say so, never "nan days" or "nan%"."""
    summary = pd.DataFrame(
        {
            "kpi": [
                "intake_utilisation",
                "wait_to_intake_days_mean",
                "intake_queue_days_mean",
                "admission_blocked_share",
            ],
            "mean": [0.0, math.nan, math.nan, 0.0],
        }
    )
    level = pd.DataFrame(
        {
            "kpi": ["level_census_mean[level=php]", "level_waitlist_mean[level=php]"]
            + ["level_wait_days_mean[level=php]", "level_places[level=php]"],
            "mean": [0.0, 0.0, math.nan, 12.0],
        }
    )
    prescribers = pd.DataFrame(  # evaluations for a payer, with no medication visit due
        {
            "kpi": ["medication_visits_unbooked_share", "evaluated_in_time_share"]
            + ["wait_for_evaluation_days_mean", "evaluation_waitlist_mean"],
            "mean": [math.nan, 1.0, 3.8, 0.0],
        }
    )
    lines = results.limiting_factors(pd.concat([summary, level, prescribers], ignore_index=True))
    (line,) = [line for line in lines if line.startswith("Prescribers")]
    assert line.startswith("Prescribers: 100% of those needing an evaluation had it within")
    (php,) = [line for line in lines if line.startswith("Level php")]
    assert php.endswith("0.0 waiting for one (no one placed in the period).")
    (intake,) = [line for line in lines if line.startswith("Intake")]
    assert intake == "Intake clinicians are 0% busy; no one was assessed in the period."
    assert not any("nan" in line for line in lines)
