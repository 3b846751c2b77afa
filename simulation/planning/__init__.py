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


This face exports what the rest of iopsim uses from its modules."""

from simulation.planning.compare import comparison_table, paired_differences
from simulation.planning.search import (
    Candidate,
    PlanResult,
    Target,
    capacity_monotone,
    parse_targets,
    plan,
)
from simulation.planning.sweep import (
    INFEASIBLE,
    SWEEP_COLUMNS,
    WEEKLY_SERIES,
    Cell,
    Factor,
    SweepError,
    cell_rows,
    cells,
    check_factors,
    infeasible_rows,
    parse_factor,
    read_weekly,
    run_many,
    run_sweep,
    sweep_manifest,
    weekly_means,
)

__all__ = [
    "Candidate",
    "Cell",
    "Factor",
    "INFEASIBLE",
    "PlanResult",
    "SWEEP_COLUMNS",
    "SweepError",
    "Target",
    "WEEKLY_SERIES",
    "capacity_monotone",
    "cell_rows",
    "cells",
    "check_factors",
    "comparison_table",
    "infeasible_rows",
    "paired_differences",
    "parse_factor",
    "parse_targets",
    "plan",
    "read_weekly",
    "run_many",
    "run_sweep",
    "sweep_manifest",
    "weekly_means",
]
