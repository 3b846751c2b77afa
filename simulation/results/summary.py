"""Across replications: intervals (t, and on the logit or log scale where a t interval would leave the range), summaries, targets met and the replications a precision needs."""

from __future__ import annotations

import functools
import math

import numpy as np
import pandas as pd

from simulation.config import Scenario
from simulation.kpis import (
    describe,
)


def t_interval(values, confidence: float = 0.95) -> tuple[float, float, float, float, int]:
    """(mean, std, ci_low, ci_high, n) of the non-missing values, Student t interval."""
    x = np.asarray(values, dtype=float)
    x = x[np.isfinite(x)]
    n = len(x)
    if n == 0:
        return (math.nan, math.nan, math.nan, math.nan, 0)
    if n > 1 and x.min() == x.max():  # the same in every replication (the float sum of n
        value = float(x[0])  # equal values is not always n times the value: a spread of 1e-12)
        return (value, 0.0, value, value, n)
    mean = float(x.mean())
    if n == 1:
        return (mean, math.nan, math.nan, math.nan, 1)
    std = float(x.std(ddof=1))
    half = t_quantile(0.5 + confidence / 2, n - 1) * std / math.sqrt(n)
    return (mean, std, mean - half, mean + half, n)


@functools.lru_cache(maxsize=256)
def t_quantile(p: float, dof: float) -> float:
    """Student t quantile (scipy.special, which loads in a fraction of scipy.stats' time;
    remembered: a summary asks for the same few quantiles once per KPI)."""
    from scipy.special import stdtrit

    return float(stdtrit(dof, p))


def bounded_interval(
    values, unit: str, signed: bool = False, confidence: float = 0.95
) -> tuple[float, float, float, float, int]:
    """(mean, std, ci_low, ci_high, n) of a KPI's replication values, an interval that cannot
    leave the range the measure lives in. The Student t interval where it stays in range;
    where it would not (few replications, a mean near a bound), the same t interval built on a
    scale that respects the bound and transformed back (the delta method): the logit of a
    share, so it stays in (0, 1); the log of a non-negative measure, so it stays above 0.
    Signed measures (a margin, a trend) keep the t interval. Zero spread gives a zero-width
    interval at the mean."""
    mean, std, low, high, n = t_interval(values, confidence)
    if n < 2 or not math.isfinite(low) or std == 0 or signed:
        return mean, std, low, high, n
    top = 1.0 if unit == "share" else math.inf
    if low >= 0 and high <= top:
        return mean, std, low, high, n
    q = t_quantile(0.5 + confidence / 2, n - 1)
    se = std / math.sqrt(n)
    if unit == "share" and 0 < mean < 1:
        centre, half = math.log(mean / (1 - mean)), q * se / (mean * (1 - mean))
        low, high = (1 / (1 + math.exp(-(centre + d))) for d in (-half, half))
    elif mean > 0:
        half = q * se / mean
        low, high = mean * math.exp(-half), min(mean * math.exp(half), top)
    return mean, std, low, high, n


def summarise(kpis: pd.DataFrame, confidence: float = 0.95) -> pd.DataFrame:
    """summary.csv: one row per KPI with unit, mean, std, a 95% CI that stays in the measure's
    range (``bounded_interval``) and n."""
    rows = []
    for name in kpis.columns:
        if name == "replication":
            continue
        kpi = describe(name)
        mean, std, low, high, n = bounded_interval(kpis[name], kpi.unit, kpi.signed, confidence)
        rows.append(
            {
                "kpi": name,
                "unit": kpi.unit,
                "mean": mean,
                "std": std,
                "ci_low": low,
                "ci_high": high,
                "n": n,
            }
        )
    return pd.DataFrame(rows, columns=["kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"])


def enough_to_judge(n: int, replications: int) -> bool:
    """Whether a KPI that ``n`` of ``replications`` produced (the others had no client it is
    about: nobody assessed, nobody started) can be judged against a target: by at least half
    of them, and two when there are two or more. (Two replications of one client each, both
    within 14 days, gave an interval of no width and a target MET on 2 of 12.)"""
    if replications <= 1:
        return n >= 1
    return n >= max(2, math.ceil(replications / 2))


def evaluate_targets(summary: pd.DataFrame, targets: list[tuple[str, str, float]]) -> pd.DataFrame:
    """Each (kpi, '<=' or '>=', bound) met or not: met only when the pessimistic end of the
    95% CI meets it (the mean itself when there is one replication); None without data, or
    with too few replications that produced the KPI (``enough_to_judge``; ``n`` of
    ``replications`` say how many)."""
    rows = []
    by_kpi = summary.set_index("kpi")
    counted = "n" in by_kpi
    total = int(by_kpi["n"].max()) if counted and len(by_kpi) else 0
    for kpi, op, bound in targets:
        row = by_kpi.loc[kpi] if kpi in by_kpi.index else None
        mean = math.nan if row is None else row["mean"]
        worst = math.nan if row is None else (row["ci_high"] if op == "<=" else row["ci_low"])
        n = int(row["n"]) if counted and row is not None else total
        if not np.isfinite(worst):
            worst = mean
        met = None
        if np.isfinite(worst) and (not counted or enough_to_judge(n, total)):
            met = bool(worst <= bound) if op == "<=" else bool(worst >= bound)
        rows.append(
            {
                "kpi": kpi,
                "target": f"{op} {bound:g}",
                "value": mean,
                "worst_case": worst,
                "met": met,
                "n": n,
                "replications": total,
            }
        )
    return pd.DataFrame(rows, columns=[*TARGET_COLUMNS])


def too_few(row) -> str:
    """Why a target with data was not judged (a row of ``evaluate_targets``): '' if it was, or
    if it has no data at all."""
    n, of = getattr(row, "n", None), getattr(row, "replications", None)
    if row.met is not None or not n or of is None or n >= of:
        return ""
    return (
        f"only {n} of {of} replications had anyone this KPI is about; run more replications "
        "or a longer period"
    )


TARGET_COLUMNS = ("kpi", "target", "value", "worst_case", "met", "n", "replications")
"""targets.csv: each target, its KPI's mean and the worst end of its interval, whether met
(empty: no data, or too few replications produced the KPI), and from how many replications."""


def target_status(scenario: Scenario, summary: pd.DataFrame) -> pd.DataFrame:
    """The scenario's targets, met or not (see ``evaluate_targets``)."""
    return evaluate_targets(summary, scenario.target_list())


PRECISION_KPIS = (
    "wait_to_intake_days_mean",
    "wait_to_iop_days_mean",
    "therapist_utilisation",
    "prescriber_utilisation",
    "intake_utilisation",
    "room_utilisation",
)
"""KPIs whose precision ``--replications auto`` controls by default: waits and utilisations."""


def relative_half_width(values, confidence: float = 0.95) -> float:
    """Half-width of the t interval divided by |mean| (0 when every value is the same)."""
    mean, _, low, high, n = t_interval(values, confidence)
    if n < 2:
        return math.inf
    half = (high - low) / 2
    if half == 0:
        return 0.0
    return half / abs(mean) if mean != 0 else math.inf


def replications_needed(
    kpis: pd.DataFrame, names: list[str], precision: float, minimum: int
) -> int | None:
    """The smallest n >= minimum for which the first n replications give every KPI in
    ``names`` a relative CI half-width within ``precision``; None if no prefix does."""
    usable = [n for n in names if n in kpis and kpis[n].notna().any()]
    for n in range(minimum, len(kpis) + 1):
        head = kpis.iloc[:n]
        if all(relative_half_width(head[name]) <= precision for name in usable):
            return n
    return None
