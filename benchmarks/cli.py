"""How fast the command line starts and runs: prints figures and ratios against the targets.

  python benchmarks/cli.py                 # this checkout
  python benchmarks/cli.py --repo ../old   # another checkout (for before/after figures)

help   ``iopsim --help``, median of 9 (target < 0.3 s)
run    ``iopsim run`` of the bundled baseline (10 replications, 52 + 52 weeks, default
       workers, dashboard written), median of 3 (target < 1.8 s on the machine the target
       was set on, where it took 2.5 s: a cut of at least 28%)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def timed(args: list[str], env: dict) -> float:
    start = time.perf_counter()
    # from a neutral folder: `python -m` puts the working folder first on the path
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL, cwd=tempfile.gettempdir())
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, help="checkout to measure (default: this one)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of `iopsim run`")
    args = parser.parse_args()
    env = dict(os.environ)
    repo = args.repo if args.repo is not None else Path(__file__).resolve().parent.parent
    env["PYTHONPATH"] = str(repo.resolve())
    cli = [sys.executable, "-m", "simulation.cli"]
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    timed([*cli, "--help"], env)  # warm the file cache
    helps = [timed([*cli, "--help"], env) for _ in range(9)]
    help_s = statistics.median(helps)
    print(
        f"help: iopsim --help median {help_s:.3f} s over 9 (target < 0.3 s: ratio {help_s / 0.3:.2f})"
    )
    with tempfile.TemporaryDirectory() as tmp:
        runs = [
            timed([*cli, "run", "baseline", "-q", "--out", str(Path(tmp) / f"run{i}")], env)
            for i in range(args.runs)
        ]
    run_s = statistics.median(runs)
    print(
        f"run: iopsim run baseline (10 replications) median {run_s:.2f} s over {args.runs} "
        f"(runs: {', '.join(f'{r:.2f}' for r in runs)}); target < 1.8 s on the machine where "
        f"it was 2.5 s"
    )


if __name__ == "__main__":
    main()
