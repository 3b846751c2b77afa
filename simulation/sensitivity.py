"""Which assumptions move the answer: one-at-a-time and global sensitivity of KPIs to the
scenario's uncertain inputs.

One at a time: each input at its low and at its high value, every other input at the
scenario's value, with the same seed as the scenario itself (common random numbers: the same
referrals arrive, so a difference is the input's, not chance's). Each KPI's change is the
mean paired difference over replications with its 95% t interval. A tornado sorts inputs by
swing (|high - low|).

Global: all inputs at once on a Latin hypercube over their ranges (scipy's quasi-Monte Carlo
module), one point per row; each KPI's standardised regression coefficients (SRC: the change
in the KPI, in its standard deviations, for one standard deviation of the input) with
bootstrap intervals, and the R^2 of the linear fit. SRC^2 sums to R^2 for independent inputs;
an R^2 well below 1 means interactions or curvature that one-at-a-time bars cannot show.
SALib's Sobol indices would need N x (2k + 2) runs for k inputs; the SRC needs N and says what a
director needs (which inputs matter, in which direction), so no new dependency.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from simulation.config import Scenario, ScenarioError
from simulation.experiment import run_jobs
from simulation.kpis import DECISION
from simulation.results import t_interval
from simulation.uncertainty import UncertainInput, latin_hypercube, with_values

DEFAULT_KPIS = DECISION
BOOTSTRAP = 400


@dataclass
class SensitivityResult:
    inputs: list[UncertainInput]
    kpis: list[str]
    base: pd.DataFrame  # the scenario's KPIs by replication
    one_at_a_time: pd.DataFrame  # input, level, value, kpi, mean, delta, ci_low, ci_high
    global_points: pd.DataFrame  # point, input values..., kpi means...
    global_src: pd.DataFrame  # kpi, input, src, ci_low, ci_high, r2
    skipped: list[str]  # inputs or points that were not a valid clinic, and why

    def ranking(self, kpi: str) -> pd.DataFrame:
        """Inputs by swing for one KPI, largest first."""
        oat = self.one_at_a_time[self.one_at_a_time["kpi"] == kpi]
        wide = oat.pivot_table(index="input", columns="level", values="delta", aggfunc="first")
        for level in ("low", "high"):
            if level not in wide:
                wide[level] = np.nan
        wide["swing"] = (
            (wide["high"] - wide["low"]).abs().fillna(wide[["low", "high"]].abs().max(axis=1))
        )
        return wide.sort_values("swing", ascending=False).reset_index()


def _kpi_frame(results: list, kpis: list[str]) -> pd.DataFrame:
    rows = [
        {"replication": r.replication, **{k: r.kpis.get(k, math.nan) for k in kpis}}
        for r in results
    ]
    return pd.DataFrame(rows).sort_values("replication").reset_index(drop=True)


def _run(
    batches: list[tuple[list[Scenario], int]],
    seed: int,
    workers: int,
    scheduler: str | None,
    progress: Callable[[int, int], None] | None,
) -> list[list[list]]:
    """Every batch's scenarios (each with its number of replications) in one pool, so no
    worker waits for another between the one-at-a-time runs and the global points (light
    runs: KPIs only); each scenario's results in order."""
    jobs, where = [], []
    for b, (scenarios, replications) in enumerate(batches):
        for s, sc in enumerate(scenarios):
            for r in range(replications):
                jobs.append((sc, r, seed, False, "forecast"))
                where.append((b, s))
    out: list[list[list]] = [[[] for _ in scenarios] for scenarios, _ in batches]
    for count, (index, result) in enumerate(run_jobs(jobs, workers, scheduler), start=1):
        b, s = where[index]
        out[b][s].append(result)
        if progress is not None:
            progress(count, len(jobs))
    return out


def sensitivity(
    scenario: Scenario,
    inputs: list[UncertainInput],
    kpis: list[str] | tuple[str, ...] = DEFAULT_KPIS,
    replications: int = 5,
    points: int | None = None,
    point_replications: int = 1,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SensitivityResult:
    """One-at-a-time (``replications`` each, common random numbers) and global (``points``
    Latin hypercube points, default 4 per input and at least 20; ``point_replications``
    each) sensitivity of ``kpis`` to ``inputs``."""
    if not inputs:
        raise ScenarioError(
            ["no uncertain inputs: add an [uncertainty] table, --vary, or [E] marks"]
        )
    kpis = list(kpis)
    seed = scenario.seed if seed is None else seed
    skipped: list[str] = []
    variants: list[tuple[UncertainInput, str, float, Scenario]] = []
    for item in inputs:
        for level, value in (("low", item.low), ("high", item.high)):
            values = [value if other is item else other.base for other in inputs]
            try:
                variants.append((item, level, value, with_values(scenario, inputs, values)))
            except ScenarioError as exc:
                skipped.append(f"{item.key} at its {level} ({value:g}): {exc.problems[0]}")
    n_points = points if points is not None else max(20, 4 * len(inputs))
    columns = latin_hypercube(inputs, n_points, [seed, 4243], spread=True)
    cloud: list[tuple[int, Scenario]] = []
    for p, values in enumerate(columns):
        try:
            cloud.append((p, with_values(scenario, inputs, values)))
        except ScenarioError as exc:
            skipped.append(f"global point {p}: {exc.problems[0]}")
    first, second = _run(
        [
            ([scenario] + [v[3] for v in variants], replications),
            ([sc for _, sc in cloud], point_replications),
        ],
        seed,
        workers,
        scheduler,
        progress,
    )
    base = _kpi_frame(first[0], kpis)
    rows = []
    for (item, level, value, _), results in zip(variants, first[1:], strict=True):
        other = _kpi_frame(results, kpis)
        for kpi in kpis:
            diff = other[kpi].to_numpy(float) - base[kpi].to_numpy(float)
            delta, _, low, high, n = t_interval(diff)
            if n >= 2 and np.allclose(diff, diff[0]):  # identical draws: no noise at all
                low = high = delta
            rows.append(
                {
                    "input": item.key,
                    "level": level,
                    "value": value,
                    "base_value": item.base,
                    "kpi": kpi,
                    "mean": float(other[kpi].mean()),
                    "delta": delta,
                    "ci_low": low,
                    "ci_high": high,
                }
            )
    oat = pd.DataFrame(
        rows,
        columns=[
            "input",
            "level",
            "value",
            "base_value",
            "kpi",
            "mean",
            "delta",
            "ci_low",
            "ci_high",
        ],
    )
    point_rows = []
    for (p, _), results in zip(cloud, second, strict=True):
        means = _kpi_frame(results, kpis)[kpis].mean()
        point_rows.append(
            {
                "point": p,
                **{i.key: float(columns[p, j]) for j, i in enumerate(inputs)},
                **means.to_dict(),
            }
        )
    cloud_table = pd.DataFrame(point_rows)
    src = global_src(cloud_table, [i.key for i in inputs], kpis, seed)
    return SensitivityResult(inputs, kpis, base, oat, cloud_table, src, skipped)


def global_src(table: pd.DataFrame, inputs: list[str], kpis: list[str], seed: int) -> pd.DataFrame:
    """Standardised regression coefficients of each KPI on the inputs, with 95% bootstrap
    intervals (points resampled) and the R^2 of the linear fit."""
    rows = []
    if len(table) < len(inputs) + 2:
        return pd.DataFrame(columns=["kpi", "input", "src", "ci_low", "ci_high", "r2"])
    x = table[inputs].to_numpy(float)
    rng = np.random.default_rng([seed, 977])
    for kpi in kpis:
        y = table[kpi].to_numpy(float)
        keep = np.isfinite(y)
        coef, r2 = _src(x[keep], y[keep])
        boots = []
        idx = np.flatnonzero(keep)
        for _ in range(BOOTSTRAP):
            pick = rng.choice(idx, size=len(idx), replace=True)
            boots.append(_src(x[pick], y[pick])[0])
        boots = np.array(boots)
        for j, name in enumerate(inputs):
            low, high = (
                np.nanpercentile(boots[:, j], [2.5, 97.5]) if len(boots) else (math.nan, math.nan)
            )
            rows.append(
                {
                    "kpi": kpi,
                    "input": name,
                    "src": coef[j],
                    "ci_low": float(low),
                    "ci_high": float(high),
                    "r2": r2,
                }
            )
    return pd.DataFrame(rows)


def _src(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    """Standardised coefficients and R^2 of y on x (an input that does not vary: 0)."""
    sx, sy = x.std(axis=0), y.std()
    if len(y) < 3 or sy == 0:
        return np.zeros(x.shape[1]), math.nan
    varies = sx > 0
    z = (x[:, varies] - x[:, varies].mean(axis=0)) / sx[varies]
    design = np.column_stack([np.ones(len(y)), z])
    beta, *_ = np.linalg.lstsq(design, (y - y.mean()) / sy, rcond=None)
    fitted = design @ beta
    r2 = 1.0 - float(np.sum(((y - y.mean()) / sy - fitted) ** 2)) / len(y)
    coef = np.zeros(x.shape[1])
    coef[varies] = beta[1:]
    return coef, r2


def findings(result: SensitivityResult, top: int = 3) -> list[str]:
    """The result in sentences: per KPI, the inputs that move it most (low and high, with
    whether the change is clear of chance), and how much the linear all-at-once fit explains."""
    from simulation.kpis import describe, fmt

    lines = []
    for kpi in result.kpis:
        base = float(result.base[kpi].mean())
        unit = describe(kpi).unit
        ranking = result.ranking(kpi)
        oat = result.one_at_a_time[result.one_at_a_time["kpi"] == kpi].set_index(["input", "level"])
        parts = []
        for row in ranking.head(top).itertuples():
            if not row.swing > 0:
                continue
            sides = []
            for level in ("low", "high"):
                if (row.input, level) not in oat.index:
                    continue
                r = oat.loc[(row.input, level)]
                if r["value"] == r["base_value"]:  # this end of the range is the scenario's
                    continue
                clear = r["ci_low"] > 0 or r["ci_high"] < 0
                sides.append(
                    f"{r['value']:.4g} -> {fmt(r['mean'], unit)}"
                    + ("" if clear else " (within chance)")
                )
            parts.append(f"{row.input} ({'; '.join(sides)})")
        what = describe(kpi).description
        if parts:
            lines.append(
                f"{what} ({fmt(base, unit)} as given) hinges most on " + ", then ".join(parts) + "."
            )
        else:
            lines.append(f"{what} ({fmt(base, unit)} as given) moves with none of the inputs.")
        src = result.global_src[result.global_src["kpi"] == kpi]
        if len(src) and np.isfinite(src["r2"].iloc[0]) and src["r2"].iloc[0] < 0.6:
            lines.append(
                f"  All inputs varied together explain only {100 * src['r2'].iloc[0]:.0f}% of the "
                f"spread in {what.lower()} linearly: inputs interact or act non-linearly, so read "
                "the one-at-a-time bars as local."
            )
    deltas = result.one_at_a_time.groupby("input")["delta"].apply(
        lambda d: float(np.nanmax(np.abs(d)))
    )
    idle = [k for k, v in deltas.items() if v == 0]
    if idle:
        lines.append(f"No effect on these KPIs: {', '.join(idle)}.")
    return lines
