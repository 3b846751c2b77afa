"""What the extract reader's checks cost: the fit of a large extract with them against the
same fit at a commit before them, interleaved.

    git worktree add /tmp/before 3b910cc      # the commit before the checks (issue 22)
    python benchmarks/extract_checks.py /tmp/before

Prints the median of 3 fits of 50,000 episodes + about 500,000 attendance rows (every group
day of every stay) each way and the
ratio (target: at most 1.2).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import clinic_data  # noqa: E402


def fit_seconds(code: Path, episodes: Path, sessions: Path, cut: str, out: Path) -> float:
    args = ["fit", str(episodes), "--attendance", str(sessions), "--as-of", cut, "--out", str(out)]
    return clinic_data.timed(args, code)


def main() -> None:
    before = Path(sys.argv[1]).resolve()
    now = HERE.parent
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        episodes, sessions, cut, rows = clinic_data.large_extract(folder)
        times: dict[str, list[float]] = {"before": [], "now": []}
        for r in range(3):
            for label, code in (("before", before), ("now", now)):
                out = folder / f"{label}{r}.toml"
                times[label].append(fit_seconds(code, episodes, sessions, cut, out))
    b, n = statistics.median(times["before"]), statistics.median(times["now"])
    print(
        f"fit of {clinic_data.EPISODES:,} episodes + {rows:,} attendance rows: "
        f"{b:.1f} s before the checks, {n:.1f} s with them (median of 3, interleaved): ratio "
        f"{n / b:.2f} (target <= 1.2)"
    )


if __name__ == "__main__":
    main()
