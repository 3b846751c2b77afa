"""Queues that never settle: each queue's growth per week over the measured period, with a yearly cycle fitted when a year or more is measured."""

from __future__ import annotations

import math
from dataclasses import dataclass

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

SITE_QUEUE = "iop_waitlist[site="
"""The weekly column of one site's IOP waitlist in a network (judged, with no KPI of its own)."""

LEVEL_QUEUE = "level_waitlist["
"""The weekly column of a level of care's waitlist: ``level_waitlist[<level>]``."""


def queues_in(report: pd.DataFrame) -> dict[str, str]:
    """Every queue a referral can stand in that ``report`` (a weekly table) has, by column,
    with its name in words: the IOP's pathway's, each level of care's waitlist, then (a
    network) each site's IOP waitlist."""
    out = {q: name for q, name in QUEUES.items() if q in report}
    for column in report.columns:
        if column.startswith(LEVEL_QUEUE) and column.endswith("]"):
            out[column] = f"waitlist for level {column[len(LEVEL_QUEUE) : -1]}"
    for column in report.columns:  # (a network: where the IOP waitlist grows)
        if column.startswith(SITE_QUEUE) and column.endswith("]"):
            out[column] = f"IOP waitlist at site {column[len(SITE_QUEUE) : -1]}"
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
    levels = [q for q in queues_in(report) if q.startswith(LEVEL_QUEUE)]
    for queues in (pathway, levels):  # (apart: one more column moves the others' last digit)
        if queues:
            slopes = queue_growth(weeks, report[queues].to_numpy())
            out.update({growth_kpi(q): float(g) for q, g in zip(queues, slopes, strict=True)})
    return out


OVERLOAD_T = 3.0
"""A queue's trend across replications must be above zero by more than 3 standard errors..."""
OVERLOAD_CLIENTS = 5.0
"""...and add at least 5 clients over the measured period to be said to grow..."""
STILL_CLIMBING_T = 2.0
"""...and still climb in the second half of the period, its trend there above zero by more
than 2 standard errors (a queue filling from an empty start after a short warm-up levels off:
it grows, but is not overloaded)."""


@dataclass
class QueueVerdict:
    """Whether one queue settles over the measured period: ``verdict`` "overloaded", "growing"
    (it climbs, but it may be the season, or the queue still filling: ``why``) or None; its
    trend (clients a week, mean and 95% CI across replications) and its mean length over the
    first and the last four weeks."""

    name: str
    verdict: str | None
    why: str
    mean: float
    low: float
    high: float
    first: float
    last: float


def queue_verdicts(scenario: Scenario, weekly: pd.DataFrame) -> dict[str, QueueVerdict]:
    """Every queue of a stacked weekly table (``queues_in``: the IOP's pathway's, each level of
    care's waitlist and each site's IOP waitlist), judged over the measured period: the rule
    of a run's OVERLOADED warning, which plans, sweeps, comparisons and robust plans apply to
    what they run."""
    report = weekly[~weekly["warmup"]] if "warmup" in weekly else weekly
    named = queues_in(report)
    if not named or report.empty:
        return {}
    queues = list(named)
    whole, later = [], []
    runs = report.groupby("replication") if "replication" in report else [(0, report)]
    for _, rows in runs:
        t, y = rows["week"].to_numpy(), rows[queues].to_numpy()
        half = len(t) // 2
        whole.append(queue_growth(t, y))
        later.append(queue_growth(t[half:], y[half:]))
    whole = np.array(whole).reshape(-1, len(queues))
    later = np.array(later).reshape(-1, len(queues))
    means = report.groupby("week")[queues].mean()
    out = {}
    for i, queue in enumerate(queues):
        verdict, why, interval = queue_verdict(
            scenario, whole[:, i], later[:, i], float(report[queue].mean())
        )
        mean, _, low, high, _ = interval
        out[queue] = QueueVerdict(
            named[queue],
            verdict,
            why,
            mean,
            low,
            high,
            float(means[queue].iloc[:4].mean()),
            float(means[queue].iloc[-4:].mean()),
        )
    return out


def queue_verdict(
    scenario: Scenario, slopes, later_slopes, mean_length: float
) -> tuple[str | None, str, tuple[float, float, float, float, int]]:
    """Whether a queue settles, from its replications' trends (clients a week) over the
    measured period (``slopes``) and over its second half (``later_slopes``) and its mean
    length: "overloaded" (it climbs beyond doubt, by at least 5 clients over the period, and
    still climbs in the second half), "growing" with why ("season": under a year of a scenario
    whose referrals vary by season is measured and it grew by less than its mean length;
    "filling": it levels off in the second half, as a queue filling after a short warm-up
    does) or None; with the slopes' ``t_interval``."""
    interval = t_interval(slopes)
    mean, std, _, _, n = interval
    if n < 2:
        return None, "", interval
    growth = mean * scenario.horizon_weeks
    if not (_t(mean, std, n) > OVERLOAD_T and growth >= OVERLOAD_CLIENTS):
        return None, "", interval
    if _seasonal(scenario) and not seasonal_fit(scenario.horizon_weeks) and growth < mean_length:
        return "growing", "season", interval
    later, later_std, _, _, m = t_interval(later_slopes)
    if m >= 2 and not _t(later, later_std, m) > STILL_CLIMBING_T:
        return "growing", "filling", interval
    return "overloaded", "", interval


def _t(mean: float, std: float, n: int) -> float:
    """The t statistic of a mean above zero (infinite when every value is the same and above)."""
    return mean / (std / math.sqrt(n)) if std > 0 else (math.inf if mean > 0 else 0.0)


def overloaded_queues(scenario: Scenario, weekly: pd.DataFrame) -> dict[str, str]:
    """The queues that climb without end in a stacked weekly table, by column, with their
    names in words (``queue_verdicts``), so a plan, a sweep or a comparison judges what it ran
    as the run's own OVERLOADED warning would."""
    return {
        q: v.name for q, v in queue_verdicts(scenario, weekly).items() if v.verdict == "overloaded"
    }


def _seasonal(scenario: Scenario) -> bool:
    """Whether the scenario's referrals vary by season (months, school terms or a source's own)."""
    r = scenario.referrals
    return (
        len(set(r.seasonality)) > 1
        or r.school_holiday_multiplier is not None
        or any(s.seasonality is not None and len(set(s.seasonality)) > 1 for s in r.sources)
    )
