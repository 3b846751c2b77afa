"""A robust plan of the README's example, timed end to end through the command line.

    python benchmarks/robust_plan.py

    iopsim plan --vary "staff.evening therapists.count=1..4" \\
                --target "wait_to_iop_days_p90<=14" --robust 0.9

on the baseline: its [E] estimates +-20% are the uncertain inputs, 40 futures, 3 replications
in each (52 weeks after 52 of warm-up), 2 workers; and the same with --robust 0.75. Target:
under 5 minutes. Prints the time, how many combinations were simulated, the recommendation
and the share of futures in which the targets hold.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 300.0


def main() -> None:
    for share in ("0.9", "0.75"):
        one(share)


def one(share: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "plan"
        command = [
            sys.executable,
            "-m",
            "simulation.entry",
            "plan",
            "--vary",
            "staff.evening therapists.count=1..4",
            "--target",
            "wait_to_iop_days_p90<=14",
            "--robust",
            share,
            "--workers",
            "2",
            "--out",
            str(out),
        ]
        started = time.perf_counter()
        done = subprocess.run(command, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        lines = [
            x
            for x in done.stdout.splitlines()
            if x.startswith(("Simulated", "Recommended", "    all")) or "every target holds" in x
        ]
        print(
            f"robust plan of the README example, --robust {share}: {seconds:.1f} s "
            f"(exit {done.returncode}); target {TARGET_SECONDS:.0f} s, ratio "
            f"{seconds / TARGET_SECONDS:.2f}"
        )
        for line in lines:
            print("  " + line.strip())
        if done.returncode != 0:
            print(done.stderr[-2000:])


if __name__ == "__main__":
    main()
