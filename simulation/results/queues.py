"""Queues that never settle: each queue's growth per week over the measured period, with a yearly cycle fitted when a year or more is measured."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from simulation.config import Scenario

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


def _seasonal(scenario: Scenario) -> bool:
    """Whether the scenario's referrals vary by season (months, school terms or a source's own)."""
    r = scenario.referrals
    return (
        len(set(r.seasonality)) > 1
        or r.school_holiday_multiplier is not None
        or any(s.seasonality is not None and len(set(s.seasonality)) > 1 for s in r.sources)
    )
