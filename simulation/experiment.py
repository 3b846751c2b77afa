"""Experiments: many replications of a scenario, run serially, in local processes or on a
Dask cluster, assembled into one result whose numbers do not depend on how it was run.

Replication r always uses random streams derived from (seed, r, activity) and results are
put back in replication order, so the same scenario and seed give identical tables whatever
the executor or the number of workers.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import as_completed
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from simulation.config import Scenario
from simulation.replication import ReplicationResult, run_replication
from simulation.results import (
    PRECISION_KPIS,
    overload_notes,
    relative_half_width,
    replications_needed,
    suggest_warmup,
    summarise,
    target_status,
    warmup_series,
)
from simulation.workers import chunks, pool_for

TABLES = (
    "weekly",
    "clients",
    "sessions",
    "resources",
    "usage",
    "client_weeks",
    "activity",
    "caseloads",
    "events",
    "level_visits",
)
Progress = Callable[[int, int], None]


@dataclass
class ExperimentResult:
    """Every replication's tables stacked with a ``replication`` column, and the summary."""

    scenario: Scenario
    seed: int
    replications: int
    kpis: pd.DataFrame
    tables: dict[str, pd.DataFrame]
    summary: pd.DataFrame
    targets: pd.DataFrame
    started: str
    finished: str
    executor: str
    notes: list[str] = field(default_factory=list)

    def say_scenario_warnings(self) -> ExperimentResult:
        """The scenario's warnings (``config.warnings``) put first in the notes, as every run a
        person reads says them (the command line, the studio, ``iopsim.run``)."""
        from simulation.config import warnings

        self.notes[:0] = warnings(self.scenario)
        return self

    def info(self) -> dict:
        """What a page says of the run: replications, seed, when it started, the executor."""
        return {
            "replications": self.replications,
            "seed": self.seed,
            "started": self.started,
            "executor": self.executor,
        }


def default_workers() -> int:
    return max(os.cpu_count() or 1, 1)


def _run_one(args: tuple) -> ReplicationResult:
    return run_replication(*args)


Job = tuple  # scenario, replication, seed, event log[, detail]


def _serial(jobs: list[Job]) -> Iterator[tuple[int, ReplicationResult]]:
    for i, job in enumerate(jobs):
        yield i, _run_one(job)


def _processes(
    jobs: list[Job], workers: int, while_waiting: Callable[[], None] | None = None
) -> Iterator[tuple[int, ReplicationResult]]:
    with pool_for(workers) as pool:
        futures = {
            pool.submit(_run_chunk, [jobs[i] for i in part]): part
            for part in chunks(len(jobs), workers)
        }
        try:
            if while_waiting is not None:  # the parent's own preparation, while workers compute
                while_waiting()
            for future in as_completed(futures):
                yield from zip(futures[future], future.result(), strict=True)
        finally:
            for future in futures:
                future.cancel()  # an interrupted run does not wait for queued work


def _run_chunk(jobs: list[Job]) -> list[ReplicationResult]:
    return [_run_one(job) for job in jobs]


def _dask(jobs: list[Job], scheduler: str) -> Iterator[tuple[int, ReplicationResult]]:
    try:
        from distributed import Client
        from distributed import as_completed as dask_completed
    except ImportError as exc:  # the optional extra is not installed
        raise RuntimeError(
            "running on a Dask cluster needs the 'distributed' extra: pip install 'iopsim[distributed]'"
        ) from exc
    with Client(scheduler) as client:
        futures = [client.submit(_run_one, job, pure=False) for job in jobs]
        index = {f.key: i for i, f in enumerate(futures)}
        for future in dask_completed(futures):
            yield index[future.key], future.result()


def run_jobs(
    jobs: list[Job],
    workers: int = 1,
    scheduler: str | None = None,
    while_waiting: Callable[[], None] | None = None,
) -> Iterator[tuple[int, ReplicationResult]]:
    """Run replication jobs, yielding (job index, result) as each finishes (any order).

    The numbers never depend on the order: each job's random streams come from its own
    (seed, replication), and callers put results back in order. ``while_waiting``: work the
    parent does once the jobs are sent to worker processes (imports its outputs will need),
    or before the first job when it runs them itself.
    """
    if scheduler:
        return _dask(jobs, scheduler)
    if workers > 1 and len(jobs) > 1:
        return _processes(jobs, workers, while_waiting)
    if while_waiting is not None:
        while_waiting()
    return _serial(jobs)


def run_replications(
    scenario: Scenario,
    replications: Iterable[int],
    seed: int,
    workers: int = 1,
    scheduler: str | None = None,
    event_log: bool = False,
    progress: Progress | None = None,
    detail: str = "tables",
    while_waiting: Callable[[], None] | None = None,
) -> list[ReplicationResult]:
    """Run the given replication numbers and return their results in replication order
    (``detail``: what each computes, see ``replication.DETAILS``; ``while_waiting``: see
    ``run_jobs``)."""
    jobs = [(scenario, r, seed, event_log, detail) for r in replications]
    done = []
    for _, result in run_jobs(jobs, workers, scheduler, while_waiting or warm_summary):
        done.append(result)
        if progress is not None:
            progress(len(done), len(jobs))
    return sorted(done, key=lambda r: r.replication)


def warm_summary() -> None:
    """Import what summarising needs (scipy's t quantile: a quarter of a second) while the
    workers run the replications, not after."""
    import scipy.special  # noqa: F401


def assemble(
    scenario: Scenario,
    results: list[ReplicationResult],
    seed: int,
    started: str,
    executor: str,
) -> ExperimentResult:
    """Stack replication tables and summarise the KPIs."""
    kpis = pd.DataFrame([{"replication": r.replication, **r.kpis} for r in results])
    tables: dict[str, pd.DataFrame] = {}
    for name in TABLES:
        parts = [
            getattr(r, name).assign(replication=r.replication)
            for r in results
            if getattr(r, name) is not None and len(getattr(r, name).columns)
        ]
        if parts:
            tables[name] = pd.concat(parts, ignore_index=True)
    summary = summarise(kpis)
    weekly = tables.get("weekly")
    notes = overload_notes(scenario, weekly, kpis) if weekly is not None else []
    return ExperimentResult(
        scenario=scenario,
        seed=seed,
        replications=len(results),
        kpis=kpis,
        tables=tables,
        summary=summary,
        targets=target_status(scenario, summary),
        started=started,
        finished=now_iso(),
        executor=executor,
        notes=notes,
    )


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def describe_executor(workers: int, scheduler: str | None) -> str:
    if scheduler:
        return f"dask:{scheduler}"
    return "serial" if workers <= 1 else f"processes:{workers}"


def run_experiment(
    scenario: Scenario,
    replications: int | None = None,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    event_log: bool = False,
    progress: Progress | None = None,
    detail: str = "tables",
    while_waiting: Callable[[], None] | None = None,
) -> ExperimentResult:
    """Run ``replications`` replications (default: the scenario's) with ``seed``. ``detail``
    (see ``replication.DETAILS``): "kpis" for the KPIs and weekly table only (plans, sweeps),
    "forecast" for the weekly table and KPIs without groups (forecasts)."""
    replications = scenario.replications if replications is None else replications
    seed = scenario.seed if seed is None else seed
    started = now_iso()
    results = run_replications(
        scenario,
        range(replications),
        seed,
        workers,
        scheduler,
        event_log,
        progress,
        detail,
        while_waiting,
    )
    return assemble(scenario, results, seed, started, describe_executor(workers, scheduler))


def run_to_precision(
    scenario: Scenario,
    precision: float,
    kpis: list[str] | tuple[str, ...] = PRECISION_KPIS,
    seed: int | None = None,
    minimum: int = 5,
    maximum: int = 200,
    workers: int = 1,
    scheduler: str | None = None,
    event_log: bool = False,
    progress: Progress | None = None,
) -> ExperimentResult:
    """Add replications until every KPI in ``kpis`` has a 95% CI half-width within
    ``precision`` of its mean (the confidence-interval method), or ``maximum`` is reached.

    The answer is the smallest number of replications n >= ``minimum`` that meets the
    precision; replications are run in batches but every prefix is checked, so n (and so every
    number) is the same whatever the number of workers or the executor.
    """
    seed = scenario.seed if seed is None else seed
    started = now_iso()
    results: list[ReplicationResult] = []
    target = min(max(minimum, workers), maximum)
    needed = None
    while True:
        results += run_replications(
            scenario, range(len(results), target), seed, workers, scheduler, event_log, progress
        )
        table = pd.DataFrame([r.kpis for r in results])
        needed = replications_needed(table, list(kpis), precision, minimum)
        if needed is not None or len(results) >= maximum:
            break
        worst = max(
            (relative_half_width(table[k]) for k in kpis if k in table and table[k].notna().any()),
            default=0.0,
        )
        # half-width shrinks as 1/sqrt(n): aim at the estimate, at least one batch more
        estimate = (
            int(np.ceil(len(results) * (worst / precision) ** 2)) if np.isfinite(worst) else maximum
        )
        target = min(maximum, max(len(results) + max(workers, 1), estimate))
    if needed is not None:
        results = results[:needed]
    result = assemble(scenario, results, seed, started, describe_executor(workers, scheduler))
    widths = {k: relative_half_width(result.kpis[k]) for k in kpis if k in result.kpis}
    result.summary["precision_target"] = result.summary["kpi"].map(
        lambda k: precision if k in widths else np.nan
    )
    result.summary["relative_half_width"] = result.summary["kpi"].map(
        lambda k: widths.get(k, np.nan)
    )
    result.summary["precision_met"] = result.summary["kpi"].map(
        lambda k: (widths[k] <= precision) if k in widths else None
    )
    missed = [k for k, w in widths.items() if not w <= precision]
    if missed:
        result.notes.append(
            f"Precision {precision:.0%} not reached after {len(results)} replications (the maximum) for: "
            + ", ".join(missed)
        )
    return result


def warmup_pilot(
    scenario: Scenario,
    weeks: int | None = None,
    replications: int = 5,
    seed: int | None = None,
    workers: int = 1,
    scheduler: str | None = None,
) -> tuple[dict[str, int], pd.DataFrame]:
    """Suggested warm-up (MSER-5, weeks) from long runs that start empty, with seasonality and
    step changes switched off (they are not start-up transients). Returns the suggestion per
    series and the replication-mean weekly series."""
    from simulation.config import apply_overrides

    weeks = weeks or max(156, 3 * scenario.warmup_weeks)
    pilot = apply_overrides(
        scenario,
        [
            "warmup_weeks=0",
            f"horizon_weeks={weeks}",
            f"referrals.seasonality={[1.0] * 12}",
            "referrals.step_changes=[]",
        ],
    )
    results = run_replications(
        pilot, range(replications), scenario.seed if seed is None else seed, workers, scheduler
    )
    weekly = pd.concat(
        [r.weekly.assign(replication=r.replication) for r in results], ignore_index=True
    )
    shown = [*warmup_series(weekly), "op_census"]
    means = weekly.groupby(["week", "date"], as_index=False)[shown].mean()
    return suggest_warmup(weekly), means
