"""Referral arrivals: a non-homogeneous Poisson process.

The rate is piecewise constant: per day it is ``per_week x weekday share x monthly
seasonality (or the school-holiday multiplier in holiday weeks) x step-change multiplier``, and referrals arrive uniformly within the day's
arrival window. For a piecewise-constant rate, drawing a Poisson count per piece and placing
the arrivals uniformly inside it is exact (it is what thinning converges to, without the
rejected candidates), and it draws every arrival of a replication in one batch.
"""

from __future__ import annotations

import numpy as np

from simulation.compiled import Plan
from simulation.config import Scenario


def by_source(plan: Plan, get) -> tuple[np.ndarray, np.ndarray]:
    """When some source has its own seasonality: each source's referrals drawn on their own
    (stream ``referrals:<source>``), merged in time order. Returns (times, source index)."""
    listed = plan.scenario.referrals.sources
    times, index = [], []
    for i in sorted(range(len(listed)), key=lambda i: listed[i].name):
        t = arrival_times(plan, get(f"referrals:{listed[i].name}"), listed[i])
        times.append(t)
        index.append(np.full(len(t), i))
    t, i = np.concatenate(times), np.concatenate(index)
    order = np.argsort(t, kind="stable")
    return t[order], i[order]


def arrival_times(plan: Plan, rng: np.random.Generator, source=None) -> np.ndarray:
    """Sorted referral times (hours) over the whole run (of one source: see by_source), from
    the plan's expected referrals of each day (``compiled.daily_rates``)."""
    rates = plan.referral_rates if source is None else plan.source_rates[source.name]
    counts = rng.poisson(rates)
    window_start, window_end = plan.arrival_window
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
