"""Queues that never settle: each queue's growth per week over the measured period, with a yearly cycle fitted when a year or more is measured."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.config import Scenario
from simulation.results.summary import t_interval

QUEUES = {
    "intake_waitlist": "intake waitlist",
    "iop_waitlist": "IOP waitlist",
    "op_waitlist": "outpatient step-down waitlist",
}
"""The queues of the IOP's pathway, by their weekly column; each gets a growth KPI
``<queue>_growth_per_week`` and is checked for overload (``queues_in``)."""

LEVEL_QUEUE = "level_waitlist["
"""The weekly column of a level of care's waitlist: ``level_waitlist[<level>]``."""


def queues_in(report: pd.DataFrame) -> dict[str, str]:
    """Every queue a referral can stand in that ``report`` (a weekly table) has, by column,
    with its name in words: the IOP's pathway's, then each level of care's waitlist."""
    out = {q: name for q, name in QUEUES.items() if q in report}
    for column in report.columns:
        if column.startswith(LEVEL_QUEUE) and column.endswith("]"):
            out[column] = f"waitlist for level {column[len(LEVEL_QUEUE) : -1]}"
    return out


def growth_kpi(queue: str) -> str:
    """The name of a queue's growth KPI: ``iop_waitlist_growth_per_week``, or
    ``level_waitlist_growth_per_week[level=php]`` for a level's waitlist."""
    if queue.startswith(LEVEL_QUEUE):
        return f"level_waitlist_growth_per_week[level={queue[len(LEVEL_QUEUE) : -1]}]"
    return f"{queue}_growth_per_week"


WEEKS_PER_YEAR = 365.25 / 7


LOSSES_ABSORB = 0.2
"""A share of the IOP waitlist giving up from which losses, not the waitlist, absorb demand."""


def queue_growth(weeks: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """The trend (clients a week) of each column of ``levels`` over ``weeks``: the slope of a
    least-squares line, fitted together with a yearly cycle when the series spans a year or
    more, so that a waitlist that swings with the seasons shows no growth while one that
    climbs does, whatever level it reached during the warm-up. NaN for under 4 weeks."""
    t = np.asarray(weeks, dtype=float)
    y = np.asarray(levels, dtype=float)
    if len(t) < 4:
        return np.full(y.shape[1], math.nan)
    columns = [np.ones_like(t), t - t.mean()]
    if seasonal_fit(len(t)):
        angle = 2 * math.pi * t / WEEKS_PER_YEAR
        columns += [np.sin(angle), np.cos(angle)]
    coefficients = np.linalg.lstsq(np.column_stack(columns), y, rcond=None)[0]
    return coefficients[1]


def seasonal_fit(weeks: int) -> bool:
    """Whether a trend over so many weeks is fitted with a yearly cycle (a year or more)."""
    return weeks >= WEEKS_PER_YEAR - 1


def growth_kpis(report: pd.DataFrame) -> dict[str, float]:
    """Each queue's growth KPI (``growth_kpi``) of one replication over the reporting period."""
    weeks, out = report["week"].to_numpy(), {}
    pathway = [q for q in queues_in(report) if q in QUEUES]
    levels = [q for q in queues_in(report) if q not in QUEUES]
    for queues in (pathway, levels):  # (apart: one more column moves the others' last digit)
        if queues:
            slopes = queue_growth(weeks, report[queues].to_numpy())
            out.update({growth_kpi(q): float(g) for q, g in zip(queues, slopes, strict=True)})
    return out


OVERLOAD_T = 3.0
"""A queue's trend across replications must be above zero by more than 3 standard errors..."""
OVERLOAD_CLIENTS = 5.0
"""...and add at least 5 clients over the measured period to be said to grow."""


def queue_verdict(
    scenario: Scenario, slopes, mean_length: float
) -> tuple[str | None, tuple[float, float, float, float, int]]:
    """Whether a queue settles, from its replications' trends (``slopes``, clients a week) over
    the measured period and its mean length: "overloaded" (it climbs beyond doubt, by at least
    5 clients over the period), "growing" (the same, but under a year of a scenario whose
    referrals vary by season is measured and it grew by less than its mean length: it may be
    the season) or None; with the slopes' ``t_interval``."""
    interval = t_interval(slopes)
    mean, std, _, _, n = interval
    if n < 2:
        return None, interval
    t_stat = mean / (std / math.sqrt(n)) if std > 0 else (math.inf if mean > 0 else 0)
    growth = mean * scenario.horizon_weeks
    if not (t_stat > OVERLOAD_T and growth >= OVERLOAD_CLIENTS):
        return None, interval
    if _seasonal(scenario) and not seasonal_fit(scenario.horizon_weeks) and growth < mean_length:
        return "growing", interval
    return "overloaded", interval


def mean_kpi(queue: str) -> str:
    """The KPI of a queue's mean length: ``iop_waitlist_mean``, ``level_waitlist_mean[level=php]``."""
    if queue.startswith(LEVEL_QUEUE):
        return f"level_waitlist_mean[level={queue[len(LEVEL_QUEUE) : -1]}]"
    return f"{queue}_mean"


def overloaded_queues(scenario: Scenario, kpis: pd.DataFrame) -> dict[str, str]:
    """The queues that climb without end in a table of replications' KPIs (one row each), by
    column, with their names in words: the rule of the OVERLOADED warning (``queue_verdict``)
    on each queue's growth KPI, so a plan or a sweep judges a combination as a run would."""
    queues = dict(QUEUES)
    for level in scenario.levels:
        queues[f"{LEVEL_QUEUE}{level.name}]"] = f"waitlist for level {level.name}"
    out = {}
    for queue, name in queues.items():
        if growth_kpi(queue) not in kpis:
            continue
        length = kpis[mean_kpi(queue)].mean() if mean_kpi(queue) in kpis else math.inf
        verdict, _ = queue_verdict(scenario, kpis[growth_kpi(queue)], float(length))
        if verdict == "overloaded":
            out[queue] = name
    return out


def _seasonal(scenario: Scenario) -> bool:
    """Whether the scenario's referrals vary by season (months, school terms or a source's own)."""
    r = scenario.referrals
    return (
        len(set(r.seasonality)) > 1
        or r.school_holiday_multiplier is not None
        or any(s.seasonality is not None and len(set(s.seasonality)) > 1 for s in r.sources)
    )
