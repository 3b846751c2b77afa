"""Referral arrivals: a non-homogeneous Poisson process.

The rate is piecewise constant: per day it is ``per_week x weekday share x monthly
seasonality (or the school-holiday multiplier in holiday weeks) x step-change multiplier``, and referrals arrive uniformly within the day's
arrival window. For a piecewise-constant rate, drawing a Poisson count per piece and placing
the arrivals uniformly inside it is exact (it is what thinning converges to, without the
rejected candidates), and it draws every arrival of a replication in one batch.
"""

from __future__ import annotations

import numpy as np

from simulation import clock
from simulation.closures import school_holiday_weeks
from simulation.config import Referrals, Scenario


def daily_rates(scenario: Scenario, source=None) -> np.ndarray:
    """Expected referrals on each simulated day (length: total weeks x 7); for one
    ``source`` with its own seasonality: its share of them, by its months."""
    ref: Referrals = scenario.referrals
    days = np.arange(scenario.total_weeks * 7)
    weekday_share = np.asarray(ref.weekday_shares)[days % 7]
    if source is not None and source.seasonality is not None:
        months = np.array([clock.month_of(d * 24.0, scenario.start_date) for d in days[::7]])
        season = np.asarray(source.seasonality)[np.repeat(months, 7)[: len(days)] - 1]
    elif ref.school_holiday_multiplier is not None:  # a term pattern instead of the months
        holiday = np.zeros(scenario.total_weeks, dtype=bool)
        holiday[sorted(school_holiday_weeks(scenario))] = True
        season = np.where(holiday[days // 7], ref.school_holiday_multiplier, 1.0)
    else:
        months = np.array([clock.month_of(d * 24.0, scenario.start_date) for d in days[::7]])
        season = np.asarray(ref.seasonality)[np.repeat(months, 7)[: len(days)] - 1]
    if source is not None:
        total = sum(s.share for s in ref.sources)
        season = season * source.share / total
    # The month of each week's Monday stands for the whole week: seasonality is a planning
    # multiplier, not a calendar-exact one, and this keeps it cheap.
    multiplier = np.ones(len(days))
    for change in sorted(ref.step_changes, key=lambda c: c.from_week):
        multiplier[days // 7 >= change.from_week] = change.multiplier
    return ref.per_week * weekday_share * season * multiplier


def by_source(scenario: Scenario, get) -> tuple[np.ndarray, np.ndarray]:
    """When some source has its own seasonality: each source's referrals drawn on their own
    (stream ``referrals:<source>``), merged in time order. Returns (times, source index)."""
    listed = scenario.referrals.sources
    times, index = [], []
    for i in sorted(range(len(listed)), key=lambda i: listed[i].name):
        t = arrival_times(scenario, get(f"referrals:{listed[i].name}"), listed[i])
        times.append(t)
        index.append(np.full(len(t), i))
    t, i = np.concatenate(times), np.concatenate(index)
    order = np.argsort(t, kind="stable")
    return t[order], i[order]


def arrival_times(scenario: Scenario, rng: np.random.Generator, source=None) -> np.ndarray:
    """Sorted referral times (hours) over the whole run (of one source: see by_source)."""
    rates = daily_rates(scenario, source)
    counts = rng.poisson(rates)
    window_start, window_end = scenario.referrals.arrival_window()
    day_of_each = np.repeat(np.arange(len(rates)), counts)
    within = rng.random(len(day_of_each)) * (window_end - window_start) + window_start
    return np.sort(day_of_each * 24.0 + within)


def sources(scenario: Scenario, rng: np.random.Generator, n: int) -> np.ndarray:
    """Index into ``scenario.referrals.sources`` for each of ``n`` referrals.

    Sources are laid out by name, not by their place in the file, so listing them in another
    order gives every client the same source (common random numbers keyed by name)."""
    listed = scenario.referrals.sources
    order = sorted(range(len(listed)), key=lambda i: listed[i].name)
    shares = np.asarray([listed[i].share for i in order])
    edges = np.cumsum(shares / shares.sum())
    position = np.searchsorted(edges, rng.random(n), side="right").clip(max=len(order) - 1)
    return np.asarray(order)[position]
