"""Sensitivity at the size the issue names: 10 uncertain inputs, 10 replications per level.

    python benchmarks/sensitivity.py [--inputs 10] [--replications 10] [--workers 2]

The baseline (52 weeks measured after 52 of warm-up); the first 10 of its [E] estimates in key
order, +-20%; one at a time (21 scenarios x 10 replications, common random numbers) and all at
once (40 Latin-hypercube points, 1 replication each). Target: under 60 s on this machine's 2
cores. Prints the time, the runs per second and the ratio to the target.
"""

from __future__ import annotations

import argparse
import time

from simulation import config as scenarios
from simulation.sensitivity import sensitivity
from simulation.uncertainty import uncertain_inputs

TARGET_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=10)
    parser.add_argument("--replications", type=int, default=10)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    path = scenarios.bundled("baseline")
    sc = scenarios.load(path)
    inputs = uncertain_inputs(sc, path.read_text())[: args.inputs]
    points = max(20, 4 * len(inputs))
    started = time.perf_counter()
    result = sensitivity(
        sc, inputs, replications=args.replications, points=points, workers=args.workers
    )
    seconds = time.perf_counter() - started
    runs = (1 + 2 * len(inputs)) * args.replications + len(result.global_points)
    print(
        f"sensitivity: {len(inputs)} inputs x {args.replications} replications + {points} points "
        f"= {runs} replication-years on {args.workers} workers: {seconds:.1f} s "
        f"({runs / seconds:.1f} a second); target {TARGET_SECONDS:.0f} s, ratio "
        f"{seconds / TARGET_SECONDS:.2f}; {len(result.skipped)} skipped"
    )


if __name__ == "__main__":
    main()
