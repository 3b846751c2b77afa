"""Sweeps: the full factorial of factors, cells run (resumably) and gathered into one long table, with their weekly waitlists."""

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
from simulation.config import Scenario, ScenarioError, apply_overrides, to_data
from simulation.config.paths import _parse_value, _split_outside
from simulation.experiment import ExperimentResult, assemble, now_iso, run_jobs
from simulation.outputs import csv_text, remove_leftovers_in, write_file_atomic


@dataclass(frozen=True)
class Factor:
    """One varied scenario value: its dotted key, the values it takes and the option that
    gave it (--grid, --vary: named in what is said of it)."""

    key: str
    values: tuple
    option: str = field(default="--grid", compare=False)

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
        except tomllib.TOMLDecodeError:  # a bare word among them: each value read on its own
            values = tuple(_parse_value(v.strip()) for v in _split_outside(spec, ","))
    if len(set(map(str, values))) != len(values):
        raise ScenarioError([f"{option} {text!r}: a value is listed twice"])
    return Factor(key, values, option)


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
                # a key that does not exist: the grid itself is wrong (said of its option)
                option = factors[0].option
                raise ScenarioError(
                    [p.replace("--set ", f"{option} ", 1) for p in exc.problems], exc.source
                ) from None
            out.append(Cell(combo, overrides, None, "; ".join(exc.problems)))
            continue
        out.append(Cell(combo, overrides, scenario))
    if not any(c.scenario is not None for c in out):
        raise ScenarioError(
            ["no combination is a valid clinic:"]
            + [f"{', '.join(c.overrides)}: {c.problem}" for c in out[:10]]
        )
    return out


def run_many(
    scenarios: list[Scenario],
    replications: int,
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    on_done: Callable[[int, ExperimentResult], None] | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[int, ExperimentResult]:
    """Run every scenario's replications in one pool, each computing its KPIs and weekly table
    only (what sweeps and comparisons read). With ``on_done(i, result)``, called as soon as
    scenario i has all its replications (a sweep saves it at once), nothing is kept: the
    parent holds only the replications of scenarios still running. Without it, every
    scenario's result is returned."""
    jobs = [(sc, r, seed, False, "kpis") for sc in scenarios for r in range(replications)]
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
            done = assemble(scenarios[i], ordered, seed, started, "pool")
            if on_done is not None:
                on_done(i, done)
            else:
                finished[i] = done
    return finished


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
    return rows.assign(target=None, met=None, all_targets_met=None, queues_without_end=None)


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
    # as a run would say OVERLOADED: this cell's waits depend on how long it was run
    climbing = results.overloaded_queues(result.scenario, result.tables["weekly"])
    rows["queues_without_end"] = "; ".join(climbing.values())
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
