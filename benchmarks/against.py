"""Whole commands against a reference commit: wall time and peak memory, interleaved.

    python benchmarks/against.py                       # every command, against 4bbe108
    python benchmarks/against.py --only sweep,workers --reference <commit> --repeats 2

Each command runs through ``python -m simulation.cli`` once with this checkout and once with a
git worktree of the reference commit (made under the system's temporary folder if missing),
alternating, so that the host's drift falls on both alike. Prints, for each command, the
seconds and the peak resident memory (the largest process of the command: the parent, or a
worker) of each side and their ratios. ``workers`` compares ``run -r 20`` (or
``--run-replications N``) with 2 workers against 1 worker on each side.

The reference is the commit where the performance work of issue 25 started (4bbe108): the
issue's goals are ratios against it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]
REFERENCE = "4bbe108"
SWEEP = [
    "sweep",
    "baseline",
    "-r",
    "10",
    "--grid",
    "staff.therapists.count=1..5",
    "--grid",
    "tracks.evening.seats=5..10",
    "--grid",
    "staff.intake.count=1..2",
]
COMMANDS = {
    "sweep": SWEEP,  # 60 cells x 10 replications
    "sensitivity": ["sensitivity", "baseline"],  # the default: every [E] estimate +-20%
    "robust": [
        "plan",
        "baseline",
        "--vary",
        "staff.evening therapists.count=1..4",
        "--target",
        "wait_to_iop_days_p90<=14",
        "--robust",
        "0.9",
    ],
    "run": ["run", "baseline", "-r", "20"],
}


def worktree(commit: str) -> Path:
    """A checkout of ``commit`` (made once, kept for later runs)."""
    path = Path(tempfile.gettempdir()) / f"iopsim-ref-{commit}"
    if not (path / "simulation").exists():
        subprocess.run(
            ["git", "-C", str(HERE), "worktree", "add", "--force", "--detach", str(path), commit],
            check=True,
            capture_output=True,
        )
    return path


def timed(code: Path, args: list[str], workers: int) -> tuple[float, float]:
    """(seconds, peak MB) of one command run with the package in ``code``."""
    out = Path(tempfile.mkdtemp(prefix="iopsim-bench-"))
    env = {**os.environ, "PYTHONPATH": str(code)}
    wrapper = (
        "import resource, subprocess, sys, time;"
        "t = time.perf_counter();"
        "subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL);"
        "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "-m", "simulation.cli", *args]
    command += ["--workers", str(workers), "-q", "--out", str(out / "out")]
    try:
        done = subprocess.run(
            [sys.executable, "-c", wrapper, *command],
            env=env,
            cwd=out,
            check=True,
            capture_output=True,
            text=True,
        )
    finally:
        shutil.rmtree(out, ignore_errors=True)
    seconds, kb = done.stdout.split()
    return float(seconds), float(kb) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", default=REFERENCE)
    parser.add_argument("--only", help="comma-separated: " + ",".join([*COMMANDS, "workers"]))
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--run-replications",
        type=int,
        default=20,
        help="replications of the run that 'workers' times (the issue's measure: 20)",
    )
    args = parser.parse_args()
    chosen = args.only.split(",") if args.only else [*COMMANDS, "workers"]
    ref = worktree(args.reference)
    print(
        f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}; "
        f"reference {args.reference} at {ref}"
    )
    for name in chosen:
        if name == "workers":
            workers_ratio(ref, args.repeats, args.run_replications)
            continue
        now, before = [], []
        for _ in range(args.repeats):
            before.append(timed(ref, COMMANDS[name], 2))
            now.append(timed(HERE, COMMANDS[name], 2))
        t_now, m_now = min(t for t, _ in now), max(m for _, m in now)
        t_ref, m_ref = min(t for t, _ in before), max(m for _, m in before)
        print(
            f"{name}: now {t_now:.1f} s, {m_now:.0f} MB; reference {t_ref:.1f} s, {m_ref:.0f} MB; "
            f"time ratio {t_now / t_ref:.2f}, memory ratio {m_now / m_ref:.2f}"
        )


def workers_ratio(ref: Path, repeats: int, replications: int = 20) -> None:
    """``run -r N``: 1 worker over 2 workers, on each side (best of the repeats)."""
    command = ["run", "baseline", "-r", str(replications)]
    for label, code in (("now", HERE), ("reference", ref)):
        one, two = [], []
        for _ in range(max(repeats, 2)):
            one.append(timed(code, command, 1)[0])
            two.append(timed(code, command, 2)[0])
        print(
            f"workers ({label}): run -r {replications} with 1 worker {min(one):.2f} s, with 2 "
            f"workers {min(two):.2f} s: {min(one) / min(two):.2f}x (goal >= 1.7x)"
        )


if __name__ == "__main__":
    main()
