"""Comparisons: paired differences between scenarios run on common random numbers."""

from __future__ import annotations

import math

import pandas as pd

from simulation import results
from simulation.kpis import describe


def paired_differences(
    first: pd.DataFrame, other: pd.DataFrame, kpi: str
) -> tuple[float, float, float, int, bool]:
    """(mean, ci_low, ci_high, n, paired) of other - first for one KPI.

    Paired by replication when both have the same replications (common random numbers);
    otherwise a Welch interval for independent samples.
    """
    a = first.set_index("replication")[kpi] if kpi in first else pd.Series(dtype=float)
    b = other.set_index("replication")[kpi] if kpi in other else pd.Series(dtype=float)
    common = a.index.intersection(b.index)
    if len(common) >= 2 and len(common) == len(a) == len(b):
        mean, _, low, high, n = results.t_interval((b.loc[common] - a.loc[common]).to_numpy())
        return mean, low, high, n, True
    x, y = a.dropna().to_numpy(float), b.dropna().to_numpy(float)
    if len(x) < 2 or len(y) < 2:
        return (math.nan, math.nan, math.nan, 0, False)
    vx, vy = x.var(ddof=1) / len(x), y.var(ddof=1) / len(y)
    se = math.sqrt(vx + vy)
    if se == 0:
        d = y.mean() - x.mean()
        return (d, d, d, min(len(x), len(y)), False)
    dof = (vx + vy) ** 2 / (vx**2 / (len(x) - 1) + vy**2 / (len(y) - 1))
    half = results.t_quantile(0.975, dof) * se
    d = y.mean() - x.mean()
    return (d, d - half, d + half, min(len(x), len(y)), False)


def comparison_table(
    labels: list[str], kpis: list[pd.DataFrame], seeds: list | None = None
) -> pd.DataFrame:
    """Long table: each KPI of each scenario with its CI and the difference to the first
    (paired by replication when both were run with the same seed)."""
    seeds = seeds or [0] * len(kpis)
    rows = []
    names = [c for c in kpis[0].columns if c != "replication"]
    for other in kpis[1:]:
        names += [c for c in other.columns if c != "replication" and c not in names]
    for name in names:
        for label, table, seed in zip(labels, kpis, seeds, strict=True):
            values = table[name] if name in table else pd.Series(dtype=float)
            mean, _, low, high, n = results.t_interval(values)
            if table is kpis[0]:
                diff = (0.0, 0.0, 0.0, n, True)
            else:
                # different seeds share no random numbers: compare as independent samples
                other = (
                    table
                    if seed == seeds[0]
                    else table.assign(replication=-1 - table["replication"])
                )
                diff = paired_differences(kpis[0], other, name)
            rows.append(
                {
                    "kpi": name,
                    "unit": describe(name).unit,
                    "scenario": label,
                    "mean": mean,
                    "ci_low": low,
                    "ci_high": high,
                    "n": n,
                    "difference": diff[0],
                    "difference_ci_low": diff[1],
                    "difference_ci_high": diff[2],
                    "paired": diff[4],
                }
            )
    return pd.DataFrame(rows)
