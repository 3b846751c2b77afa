"""The clinic calendar. Closed days: nobody works, no group runs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from simulation import clock, closures
from simulation import config as scenarios
from simulation.experiment import run_experiment
from tests.conftest import run, short


def test_the_us_holiday_set_is_the_eleven_observed_federal_holidays():
    days = closures.us_federal_holidays(2027)
    assert len(days) == 11
    assert dt.date(2027, 11, 25) in days  # Thanksgiving: the 4th Thursday
    assert dt.date(2027, 5, 31) in days  # Memorial Day: the last Monday of May
    assert dt.date(2027, 7, 5) in days  # July 4th on a Sunday is observed on Monday
    assert dt.date(2027, 12, 24) in days  # Christmas on a Saturday: the Friday before
    assert all(d.weekday() < 5 for d in days)


def test_on_a_closed_day_nobody_works_and_no_group_runs():
    sc = short('calendar.holidays="us"', "horizon_weeks=40")
    res = run(sc)
    closed = closures.closed_days(sc)
    assert len(closed) >= 6  # 11 a year; the run covers January to November
    busy = res.activity  # per person totals; check the raw intervals through the sessions
    held = res.sessions[res.sessions["held"]]
    assert not (held["time"] // 24).astype(int).isin(closed).any()
    del busy
    from simulation.compiled import compile_scenario
    from simulation.model.clinic import ClinicModel
    from simulation.streams import Streams

    model = ClinicModel(compile_scenario(sc), Streams(sc.seed, 0))
    recorder = model.run()
    table = recorder.busy_table()
    days = np.floor(table["start"].to_numpy() / 24).astype(int)
    assert not np.isin(days, list(closed)).any()  # no intake, session or appointment then


def test_closures_lengthen_waits_and_hold_fewer_sessions():
    # common random numbers: the same referrals and clients, only the calendar differs
    open_all_year = run_experiment(short("horizon_weeks=40"), replications=3).summary
    closing = run_experiment(
        short(
            'calendar.holidays="us"',
            "calendar.closure_weeks=[{from_date = 2027-03-01, to_date = 2027-03-12}]",
            "horizon_weeks=40",
        ),
        replications=3,
    ).summary
    a, b = open_all_year.set_index("kpi")["mean"], closing.set_index("kpi")["mean"]
    assert b["wait_to_intake_days_mean"] > a["wait_to_intake_days_mean"]
    assert b["client_weeks_meeting_hours_share"] < a["client_weeks_meeting_hours_share"]


def test_a_closure_period_must_end_after_it_starts():
    with pytest.raises(scenarios.ScenarioError, match="to_date .* is before from_date"):
        short("calendar.closure_weeks=[{from_date = 2027-03-12, to_date = 2027-03-01}]")


def test_closed_days_fall_inside_the_run_only():
    sc = short("calendar.closed_dates=[2020-01-01, 2027-02-03]")
    monday = clock.week_zero_monday(sc.start_date)
    assert closures.closed_days(sc) == {(dt.date(2027, 2, 3) - monday).days}
