"""Sweep and plan speed on the baseline.

    python benchmarks/planning.py

Sweep: 60 cells (5 x 6 x 2) x 10 replications of the baseline (52 weeks measured after its
52-week warm-up) on all CPUs; target under 3 minutes on 2 cores.
Plan: two capacities (evening therapists 1..4, evening seats 4..12: 36 combinations), counting
the combinations simulated against the full grid.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from simulation import config as scenarios
from simulation import planning

BASE = scenarios.load(scenarios.bundled("baseline"))
WORKERS = os.cpu_count() or 1


def bench_sweep() -> None:
    factors = [
        planning.parse_factor("staff.therapists.count=1..5"),
        planning.parse_factor("tracks.evening.seats=5..10"),
        planning.parse_factor("staff.intake.count=1..2"),
    ]
    folder = Path(tempfile.mkdtemp()) / "sweep"
    start = time.perf_counter()
    table, ran = planning.run_sweep(
        BASE, factors, folder, replications=10, seed=BASE.seed, workers=WORKERS
    )
    elapsed = time.perf_counter() - start
    print(
        f"sweep: {ran} cells x 10 replications on {WORKERS} workers: {elapsed:.1f} s (target < 180 s)"
    )
    start = time.perf_counter()
    planning.run_sweep(BASE, factors, folder, replications=10, seed=BASE.seed, workers=WORKERS)
    print(
        f"sweep: rerun of the finished sweep (all cells skipped): {time.perf_counter() - start:.2f} s"
    )


def bench_plan() -> None:
    factors = [
        planning.parse_factor("staff.evening therapists.count=1..4", "--vary"),
        planning.parse_factor("tracks.evening.seats=4..12", "--vary"),
    ]
    targets = [("wait_to_iop_days_mean", "<=", 4.0), ("share_started_within_14_days", ">=", 0.8)]
    start = time.perf_counter()
    result = planning.plan(BASE, factors, targets, replications=10, seed=BASE.seed, workers=WORKERS)
    elapsed = time.perf_counter() - start
    best = ", ".join(result.recommendation.overrides) if result.recommendation else "none"
    print(
        f"plan: simulated {result.evaluated} of {len(result.candidates)} combinations "
        f"({result.evaluated / len(result.candidates):.0%}) in {elapsed:.1f} s; recommended {best}"
    )


if __name__ == "__main__":
    bench_sweep()
    bench_plan()
