"""Workload: how long and how much memory an experiment will take, estimated before it starts.

Extreme but valid scenarios (decades of simulated time, thousands of replications, referrals at
a hundred times capacity) must either finish in bounded time and memory or be refused up front
with the estimate and a way to go ahead anyway (``--allow-long``). The estimate is calibrated
on this project's benchmarks (benchmarks/README.md): about 55 µs of CPU per referral (85 µs with
an intake assessment) and 6 µs per enrolled-client-session or weekly booking, with a 1.5x margin,
so that it is an upper bound also when demand is far above capacity (joining and leaving the
queues costs O(log n), so a long waitlist costs no more per client than a short one).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from simulation.compiled import daily_rates
from simulation.config import Scenario

SECONDS_PER_REFERRAL = 40e-6  # measured 2026-12-06 on overload cases too (benchmarks/README.md)
SECONDS_PER_INTAKE = 22e-6  # booking an assessment in an intake diary
SECONDS_PER_UNIT = 4.4e-6
FIXED_SECONDS = 0.05
MARGIN = 1.5
BYTES_PER_REFERRAL = 1_200  # clients and client-weeks rows kept for the run folder
BYTES_PER_WEEK = 2_000  # weekly and resource rows
MAX_HOURS = 2.0  # refuse runs estimated to take longer than this on the given workers
MAX_MEMORY_SHARE = 0.5  # refuse runs estimated to need more than this share of memory


class WorkloadError(Exception):
    """An experiment estimated to be too long or too large to run without being asked to."""


@dataclass(frozen=True)
class Workload:
    """Estimated cost of running ``replications`` replications of a scenario."""

    referrals: float  # per replication
    cpu_seconds: float  # all replications together
    memory_bytes: float  # result tables held in memory
    output_bytes: float  # run folder on disk

    def wall_seconds(self, workers: int) -> float:
        return self.cpu_seconds / max(workers, 1)


def estimate(scenario: Scenario, replications: int, event_log: bool = False) -> Workload:
    """The expected CPU time, memory and output size of an experiment."""
    weeks = scenario.total_weeks
    referrals = float(daily_rates(scenario).sum())
    sessions = sum(len(t.days) * (1 + t.seats) for t in scenario.tracks) * weeks
    # a level's day programme: each place held is a client's day there (unlimited: as a track)
    sessions += (
        sum(
            len(level.programme.days) * (1 + (level.total_places or 12))
            for level in scenario.levels
            if level.programme is not None
        )
        * weeks
    )
    bookings = sum(t.seats for t in scenario.tracks) * 3 * weeks
    per_referral = SECONDS_PER_REFERRAL + (SECONDS_PER_INTAKE if scenario.intake.enabled else 0)
    # every step a client takes is O(log n) in the queues, so overload costs per referral too
    per_replication = (
        FIXED_SECONDS + per_referral * referrals + SECONDS_PER_UNIT * (sessions + bookings)
    )
    log_factor = 3.0 if event_log else 1.0
    memory = replications * (BYTES_PER_REFERRAL * referrals * log_factor + BYTES_PER_WEEK * weeks)
    return Workload(
        referrals=referrals,
        cpu_seconds=MARGIN * per_replication * replications,
        memory_bytes=memory,
        output_bytes=0.4 * memory + 6e6,  # Parquet compresses; the dashboard is ~5 MB
    )


def total_memory() -> float:
    try:
        return float(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 8e9


def _human_time(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def check(work: Workload, workers: int, allow_long: bool = False, what: str = "this run") -> None:
    """Refuse (WorkloadError) an experiment estimated to exceed the time or memory limits."""
    if allow_long:
        return
    problems = []
    wall = work.wall_seconds(workers)
    if wall > MAX_HOURS * 3600:
        problems.append(
            f"{what} is estimated to take {_human_time(wall)} on {workers} worker(s) "
            f"({work.referrals:,.0f} referrals per replication; limit {MAX_HOURS:g} h)"
        )
    limit = MAX_MEMORY_SHARE * total_memory()
    if work.memory_bytes > limit:
        problems.append(
            f"{what} is estimated to need {work.memory_bytes / 1e9:.1f} GB of memory for its tables "
            f"(limit {limit / 1e9:.1f} GB, half of this machine's)"
        )
    if problems:
        raise WorkloadError(
            "; ".join(problems)
            + ". Reduce --replications, --weeks or the referral rate, or add --allow-long to run it anyway."
        )


def check_disk(folder: Path, work: Workload) -> None:
    """Refuse when the disk holding ``folder`` has clearly too little room for the output."""
    probe = Path(folder).absolute()
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free < work.output_bytes:
        raise WorkloadError(
            f"only {free / 1e6:.0f} MB free in {probe}; the output needs about "
            f"{work.output_bytes / 1e6:.0f} MB. Free some space or choose another --out."
        )
