"""Capacity planning: paired comparisons, parameter sweeps and the least capacity that meets
service targets.

All three run many scenarios with the same seed, so replication r of every scenario sees the
same referrals and client draws (common random numbers) and differences are paired.

- ``compare``: KPIs of several scenarios with the paired difference to the first and its CI.
- ``run_sweep``: the full factorial of a grid; each finished cell is written at once to the
  sweep folder, so a killed sweep loses no finished cell and a rerun skips them.
- ``plan``: the cheapest combination of capacities that meets every target with confidence
  (the pessimistic end of each 95% CI meets it). Candidates are tried in order of cost; when
  more capacity can only help every target, a candidate below one that failed is known to
  fail and is never simulated (and a single capacity is bisected).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tomllib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import product
from pathlib import Path

import pandas as pd

from simulation import results
from simulation.config import Scenario, ScenarioError, apply_overrides, parse_target, to_data
from simulation.experiment import ExperimentResult, assemble, now_iso, run_experiment, run_jobs
from simulation.kpis import UTILISATION_PREFIX, describe
from simulation.outputs import csv_text, remove_leftovers_in, write_file_atomic

# ---------------------------------------------------------------------------------------------
# Grids
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Factor:
    """One varied scenario value: its dotted key and the values it takes."""

    key: str
    values: tuple

    def override(self, value) -> str:
        return f"{self.key}={json.dumps(value) if isinstance(value, str) else value}"


def parse_factor(text: str, option: str = "--grid") -> Factor:
    """'staff.therapists.count=2..5', '...=2..10:2' or 'tracks.evening.seats=8,10,12'."""
    key, sep, spec = text.partition("=")
    key, spec = key.strip(), spec.strip()
    if not sep or not key or not spec:
        raise ScenarioError(
            [f"{option} {text!r}: write KEY=LOW..HIGH, KEY=LOW..HIGH:STEP or KEY=A,B,C"]
        )
    if ".." in spec:
        bounds, _, step_text = spec.partition(":")
        low_text, _, high_text = bounds.partition("..")
        try:
            low, high = int(low_text), int(high_text)
            step = int(step_text) if step_text else 1
        except ValueError:
            raise ScenarioError(
                [
                    f"{option} {text!r}: LOW..HIGH takes whole numbers (for other values list them: A,B,C)"
                ]
            ) from None
        if step < 1 or high < low:
            raise ScenarioError([f"{option} {text!r}: need LOW <= HIGH and a STEP of at least 1"])
        values = tuple(range(low, high + 1, step))
    else:
        try:
            values = tuple(tomllib.loads(f"v = [{spec}]")["v"])
        except tomllib.TOMLDecodeError:
            values = tuple(v.strip() for v in spec.split(","))
    if len(set(map(str, values))) != len(values):
        raise ScenarioError([f"{option} {text!r}: a value is listed twice"])
    return Factor(key, values)


def check_factors(factors: list[Factor], option: str) -> None:
    """Refuse a key given twice."""
    keys = [f.key for f in factors]
    repeated = sorted({k for k in keys if keys.count(k) > 1})
    if repeated:
        raise ScenarioError([f"{option}: {', '.join(repeated)} is given twice"])


INFEASIBLE = "infeasible"


@dataclass(frozen=True)
class Cell:
    """One combination of factor values, its overrides and validated scenario; a combination
    that is not a valid clinic has no scenario and says why in ``problem``."""

    values: tuple
    overrides: tuple[str, ...]
    scenario: Scenario | None
    problem: str = ""

    @property
    def cell_id(self) -> str:
        return hashlib.sha1("\n".join(sorted(self.overrides)).encode()).hexdigest()[:12]

    @property
    def status(self) -> str:
        return f"{INFEASIBLE}: {self.problem}" if self.scenario is None else "ok"


def cells(base: Scenario, factors: list[Factor]) -> list[Cell]:
    """Every combination, validated up front. A combination that is not a valid clinic (say,
    more seats than any room holds) is kept as an infeasible cell with its reason; only when
    no combination is valid is that an error, and a key that does not exist is always one."""
    out = []
    for combo in product(*(f.values for f in factors)):
        overrides = tuple(f.override(v) for f, v in zip(factors, combo, strict=True))
        try:
            scenario = apply_overrides(base, list(overrides))
        except ScenarioError as exc:
            if any(p.startswith("--set ") for p in exc.problems):
                raise  # a key that does not exist: the grid itself is wrong
            out.append(Cell(combo, overrides, None, "; ".join(exc.problems)))
            continue
        out.append(Cell(combo, overrides, scenario))
    if not any(c.scenario is not None for c in out):
        raise ScenarioError(
            ["no combination is a valid clinic:"]
            + [f"{', '.join(c.overrides)}: {c.problem}" for c in out[:10]]
        )
    return out


# ---------------------------------------------------------------------------------------------
# Running many scenarios in one pool
# ---------------------------------------------------------------------------------------------


def run_many(
    scenarios: list[Scenario],
    replications: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[int, ExperimentResult], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, ExperimentResult]:
    """Run every scenario's replications in one pool; ``on_done(i, result)`` as soon as
    scenario i has all its replications (so a sweep can save it at once)."""
    jobs = [(sc, r, seed, False) for sc in scenarios for r in range(replications)]
    owner = [i for i in range(len(scenarios)) for _ in range(replications)]
    pending: dict[int, list] = defaultdict(list)
    finished: dict[int, ExperimentResult] = {}
    started = now_iso()
    for count, (index, result) in enumerate(run_jobs(jobs, workers, scheduler), start=1):
        i = owner[index]
        pending[i].append(result)
        if progress is not None:
            progress(count, len(jobs))
        if len(pending[i]) == replications:
            ordered = sorted(pending.pop(i), key=lambda r: r.replication)
            finished[i] = assemble(scenarios[i], ordered, seed, started, "pool")
            if on_done is not None:
                on_done(i, finished[i])
    return finished


# ---------------------------------------------------------------------------------------------
# Compare
# ---------------------------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------------------------
# Sweep
# ---------------------------------------------------------------------------------------------


SWEEP_COLUMNS = ["cell", "kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"]


def _with_cell(rows: pd.DataFrame, cell: Cell, factors: list[Factor]) -> pd.DataFrame:
    rows.insert(0, "cell", cell.cell_id)
    rows.insert(1, "status", cell.status)
    rows.insert(2, "overrides", " ".join(cell.overrides))
    for factor, value in zip(factors, cell.values, strict=True):
        rows[factor.key] = value
    return rows


def infeasible_rows(cell: Cell, factors: list[Factor], kpis: pd.DataFrame) -> pd.DataFrame:
    """Rows of the sweep table for a combination that is not a valid clinic: every KPI of the
    other cells, without values, and the reason in ``status``."""
    rows = kpis.assign(mean=math.nan, std=math.nan, ci_low=math.nan, ci_high=math.nan, n=0)
    rows = _with_cell(rows, cell, factors)
    return rows.assign(target=None, met=None, all_targets_met=None)


def cell_rows(cell: Cell, factors: list[Factor], result: ExperimentResult) -> pd.DataFrame:
    """The summary of one cell, with its factor values, as rows of the sweep table."""
    rows = result.summary[["kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"]].copy()
    rows = _with_cell(rows, cell, factors)
    targets = result.targets.set_index("kpi") if not result.targets.empty else pd.DataFrame()
    rows["target"] = rows["kpi"].map(
        lambda k: targets.loc[k, "target"] if k in targets.index else None
    )
    rows["met"] = rows["kpi"].map(lambda k: targets.loc[k, "met"] if k in targets.index else None)
    rows["all_targets_met"] = bool(targets["met"].all()) if len(targets) else None
    return rows


WEEKLY_SERIES = ("intake_waitlist", "iop_waitlist", "iop_census")


def weekly_means(weekly: pd.DataFrame) -> pd.DataFrame:
    """Mean over replications, week by week, of the waitlists and the census (warm-up
    included, flagged)."""
    columns = [c for c in WEEKLY_SERIES if c in weekly]
    means = weekly.groupby("week")[columns].mean().reset_index()
    warm = weekly.groupby("week")["warmup"].first().to_numpy() if "warmup" in weekly else False
    return means.assign(warmup=warm)


def read_weekly(folder: Path, cell_ids: list[str]) -> dict[str, pd.DataFrame]:
    """The weekly means a sweep kept per cell (cells of older sweeps have none)."""
    out = {}
    for cell in cell_ids:
        path = Path(folder) / "cells" / f"{cell}.weekly.parquet"
        if path.exists():
            out[cell] = pd.read_parquet(path)
    return out


def sweep_manifest(base: Scenario, factors: list[Factor], replications: int, seed: int) -> dict:
    return {
        "kind": "sweep",
        "scenario": json.loads(json.dumps(to_data(base), default=str)),
        "grid": [{"key": f.key, "values": list(f.values)} for f in factors],
        "replications": replications,
        "seed": seed,
    }


class SweepError(Exception):
    """A sweep folder that belongs to another sweep."""


def run_sweep(
    base: Scenario,
    factors: list[Factor],
    folder: Path,
    replications: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, int]:
    """Run (or resume) a sweep in ``folder``; returns the long table and how many cells ran.

    ``folder/cells/<cell>.parquet`` is written atomically as each cell finishes; a rerun of
    the same sweep skips those; a different sweep in the same folder is refused unless
    ``force`` (which starts it afresh).
    """
    folder = Path(folder)
    grid = cells(base, factors)
    manifest = sweep_manifest(base, factors, replications, seed)
    path = folder / "manifest.json"
    if path.exists():
        previous = json.loads(path.read_text(encoding="utf-8"))
        same = {k: previous.get(k) for k in manifest} == manifest
        if not same and not force:
            raise SweepError(
                f"{folder} holds another sweep (different scenario, grid, replications or seed); "
                "choose another --out or add --force to start afresh"
            )
        if not same:
            for old in (folder / "cells").glob("*.parquet"):
                old.unlink()
    (folder / "cells").mkdir(parents=True, exist_ok=True)
    remove_leftovers_in(folder / "cells")  # cells a killed sweep was writing
    write_file_atomic(path, json.dumps({**manifest, "started": now_iso()}, indent=2))
    done = {p.stem for p in (folder / "cells").glob("*.parquet") if "." not in p.stem}
    todo = [c for c in grid if c.cell_id not in done and c.scenario is not None]

    def save(i: int, result: ExperimentResult) -> None:
        cell = todo[i]
        # the cell's weekly waitlists for the explorer, before the file that marks it done
        weekly = folder / "cells" / f"{cell.cell_id}.weekly.parquet"
        tmp = weekly.with_name(f".{weekly.name}.{os.getpid()}.partial")
        weekly_means(result.tables["weekly"]).to_parquet(tmp, index=False)
        tmp.replace(weekly)
        target = folder / "cells" / f"{cell.cell_id}.parquet"
        tmp = target.with_name(f".{target.name}.{os.getpid()}.partial")
        cell_rows(cell, factors, result).to_parquet(tmp, index=False)
        tmp.replace(target)  # a cell is either wholly there or not at all

    if todo:
        run_many([c.scenario for c in todo], replications, seed, workers, scheduler, save, progress)
    parts = {
        c.cell_id: pd.read_parquet(folder / "cells" / f"{c.cell_id}.parquet")
        for c in grid
        if c.scenario is not None
    }
    kpis = next(iter(parts.values()))[["kpi", "unit"]]
    table = pd.concat(
        [
            parts[c.cell_id] if c.scenario is not None else infeasible_rows(c, factors, kpis)
            for c in grid
        ],
        ignore_index=True,
    )
    tmp = folder / f".sweep.parquet.{os.getpid()}.partial"
    table.to_parquet(tmp, index=False)
    tmp.replace(folder / "sweep.parquet")
    write_file_atomic(folder / "sweep.csv", csv_text(table))
    return table, len(todo)


# ---------------------------------------------------------------------------------------------
# Plan
# ---------------------------------------------------------------------------------------------


Target = tuple[str, str, float]


def parse_targets(texts: list[str] | tuple[str, ...]) -> list[Target]:
    """'wait_to_iop_days_p90<=14' or 'wait_to_iop_days_p90 <= 14' -> (kpi, op, bound)."""
    out = []
    for text in texts:
        for op in ("<=", ">="):
            if op in text:
                kpi, _, bound = text.partition(op)
                kpi = kpi.strip()
                try:
                    describe(kpi)
                except KeyError:
                    raise ScenarioError([f"--target {text!r}: '{kpi}' is not a KPI"]) from None
                out.append((kpi, *parse_target(f"{op} {bound}")))
                break
        else:
            raise ScenarioError([f"--target {text!r}: write KPI<=NUMBER or KPI>=NUMBER"])
    return out


def capacity_monotone(targets: list[Target]) -> bool:
    """True when more capacity can only help every target (so failures prune).

    Waits, waitlists and losses ('lower is better') fall with capacity, shares of timely
    starts ('higher is better') rise, and utilisation falls: '<=' on those and '>=' on these.
    """
    for kpi, op, _ in targets:
        better = describe(kpi).better
        if kpi.startswith(UTILISATION_PREFIX) or kpi.endswith("_utilisation"):
            better = "lower"
        if not ((op == "<=" and better == "lower") or (op == ">=" and better == "higher")):
            return False
    return True


@dataclass
class Candidate:
    """A combination of capacities in the plan's search."""

    values: tuple
    overrides: tuple[str, ...]
    scenario: Scenario | None
    cost: float
    status: str = "unknown"  # unknown, met, not met, pruned (known not to meet), infeasible: ...
    summary: pd.DataFrame | None = None
    target_table: pd.DataFrame | None = None
    verdict: object | None = None  # with --robust: how it fares across the futures

    def dominated_by(self, other: Candidate) -> bool:
        """True if every capacity here is at most the other's."""
        return all(a <= b for a, b in zip(self.values, other.values, strict=True))


@dataclass
class PlanResult:
    factors: list[Factor]
    targets: list[Target]
    cost_kpi: str
    candidates: list[Candidate]
    recommendation: Candidate | None
    runners_up: list[Candidate]
    evaluated: int
    monotone: bool
    notes: list[str] = field(default_factory=list)
    futures: object | None = None  # with --robust: the futures every combination faced

    def table(self) -> pd.DataFrame:
        """One row per candidate: factor values, cost, status, and each target KPI's CI."""
        rows = []
        for c in self.candidates:
            row = {f.key: v for f, v in zip(self.factors, c.values, strict=True)}
            row.update(
                {
                    "cost_per_week": c.cost,
                    "status": c.status,
                    "recommended": c is self.recommendation,
                }
            )
            if c.verdict is not None:
                v = c.verdict
                row.update(
                    {
                        "futures_met_share": v.share,
                        "futures_met_ci_low": v.low,
                        "futures_met_ci_high": v.high,
                        **{f"{kpi}_futures_met_share": x for kpi, x in v.by_target.items()},
                    }
                )
            if c.summary is not None and len(c.summary):
                by_kpi = c.summary.set_index("kpi")
                for kpi in dict.fromkeys([t[0] for t in self.targets] + [self.cost_kpi]):
                    if kpi in by_kpi.index:
                        row[f"{kpi}_mean"] = by_kpi.loc[kpi, "mean"]
                        row[f"{kpi}_ci_low"] = by_kpi.loc[kpi, "ci_low"]
                        row[f"{kpi}_ci_high"] = by_kpi.loc[kpi, "ci_high"]
            rows.append(row)
        return pd.DataFrame(rows)


def plan(
    base: Scenario,
    factors: list[Factor],
    targets: list[Target],
    replications: int,
    seed: int,
    cost_kpi: str = "cost_per_week",
    runners_up: int = 2,
    workers: int = 1,
    scheduler: str | None = None,
    progress: Callable[[str], None] | None = None,
    futures=None,
) -> PlanResult:
    """The cheapest combination of the factors that meets every target with confidence; with
    ``futures`` (``simulation.robust.Futures``), that meets them all in at least the required
    share of the plausible futures (``replications`` then runs in each future)."""
    if not targets:
        raise ScenarioError(
            ["plan needs at least one target: add [targets] to the scenario or --target KPI<=VALUE"]
        )
    for f in factors:
        if not all(isinstance(v, int | float) for v in f.values):
            raise ScenarioError(
                [f"--vary {f.key}: plan varies numbers (staff counts, seats, caseloads)"]
            )
    grid = cells(base, factors)
    everything = [
        Candidate(
            c.values,
            c.overrides,
            c.scenario,
            results.weekly_cost(c.scenario, c.scenario.finance.overhead_in_plans),
        )
        if c.scenario is not None
        else Candidate(c.values, c.overrides, None, math.nan, c.status)
        for c in grid
    ]
    # Cheapest first; among equal cost, most capacity first: if that fails, everything
    # below it fails too and is never simulated. Infeasible combinations are never tried.
    candidates = [c for c in everything if c.scenario is not None]
    candidates.sort(key=lambda c: (c.cost, tuple(-v for v in c.values)))
    monotone = capacity_monotone(targets)
    notes = []
    if not monotone:
        notes.append(
            "Some target can get harder to meet with more capacity, so nothing was pruned."
        )
    evaluated = 0

    def evaluate(c: Candidate) -> None:
        nonlocal evaluated
        if futures is not None:
            c.verdict = futures.judge(c.scenario, targets, replications, seed, workers, scheduler)
            c.summary = c.verdict.summary
            c.target_table = results.evaluate_targets(c.summary, targets)
            c.status = "met" if c.verdict.share >= futures.required else "not met"
            how = f"(every target holds in {100 * c.verdict.share:.0f}% of futures) "
        else:
            result = run_experiment(
                c.scenario,
                replications=replications,
                seed=seed,
                workers=workers,
                scheduler=scheduler,
            )
            c.summary = result.summary
            c.target_table = results.evaluate_targets(result.summary, targets)
            c.status = "met" if all(m is True for m in c.target_table["met"]) else "not met"
            how = ""
        evaluated += 1
        if progress is not None:
            progress(f"{', '.join(c.overrides)}: {c.status} {how}(cost {c.cost:,.0f}/wk)")
        if c.status == "not met" and monotone:
            for other in candidates:
                if other.status == "unknown" and other.dominated_by(c):
                    other.status = "pruned"

    analytic_cost = cost_kpi == "cost_per_week"
    if monotone:
        # If even the most of everything fails, nothing can meet the targets.
        top = max(candidates, key=lambda c: c.values)
        if all(top.values[i] == max(f.values) for i, f in enumerate(factors)):
            evaluate(top)
    if len(factors) == 1 and monotone and analytic_cost:
        _bisect(candidates, evaluate)
    else:
        for c in candidates:
            if c.status != "unknown":
                continue
            evaluate(c)
            if c.status == "met" and analytic_cost:
                _trim(c, candidates, evaluate)  # the same cost with less capacity, if it works
                break
    met = [c for c in candidates if c.status == "met"]
    if analytic_cost:
        met.sort(key=lambda c: (c.cost, sum(c.values)))  # cheapest, then least capacity
    else:
        met.sort(key=lambda c: float(c.summary.set_index("kpi").loc[cost_kpi, "mean"]))
    recommendation = met[0] if met else None
    # runners-up: the next cheapest combinations that also meet the targets
    extra = []
    if recommendation is not None:
        for c in sorted(candidates, key=lambda c: (c.cost, sum(c.values), c.values)):
            if len(extra) >= runners_up:
                break
            if c is recommendation or c.status not in ("unknown", "met"):
                continue
            if c.status == "unknown":
                evaluate(c)
            if c.status == "met":
                extra.append(c)
    else:
        notes.append(
            "No combination in the ranges meets every target: widen the ranges or relax the targets."
        )
    infeasible = [c for c in everything if c.scenario is None]
    return PlanResult(
        factors,
        targets,
        cost_kpi,
        candidates + infeasible,
        recommendation,
        extra,
        evaluated,
        monotone,
        notes,
        futures,
    )


def _trim(
    best: Candidate, candidates: list[Candidate], evaluate: Callable[[Candidate], None]
) -> None:
    """From a success, step each capacity down one level at a time while the cost stays the
    same and the targets are still met: ends at a combination where no single step down works."""
    by_values = {c.values: c for c in candidates}
    levels = [sorted({c.values[i] for c in candidates}) for i in range(len(best.values))]
    moved = True
    while moved:
        moved = False
        for i, value in enumerate(best.values):
            position = levels[i].index(value)
            if position == 0:
                continue
            lower = by_values.get(
                (*best.values[:i], levels[i][position - 1], *best.values[i + 1 :])
            )
            if lower is None or lower.cost != best.cost or lower.status not in ("unknown", "met"):
                continue
            if lower.status == "unknown":
                evaluate(lower)
            if lower.status == "met":
                best, moved = lower, True
                break


def _bisect(candidates: list[Candidate], evaluate: Callable[[Candidate], None]) -> None:
    """One capacity, cost rising with it: bisect for the smallest value that meets targets."""
    chain = sorted(candidates, key=lambda c: c.values)
    low, high = 0, len(chain) - 1
    if chain[high].status == "unknown":
        evaluate(chain[high])
    if chain[high].status != "met":
        return
    while low < high:
        mid = (low + high) // 2
        evaluate(chain[mid])
        if chain[mid].status == "met":
            high = mid
        else:
            low = mid + 1
