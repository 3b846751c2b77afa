"""Dashboard size and render time: a 52-week, 30-replication baseline run.

    python benchmarks/dashboard.py

Prints the size of dashboard.html and the time headless chromium (Playwright, Debian's
/usr/bin/chromium) takes from opening the file to every figure drawn, median of 5 loads.
Targets: under 10 MB, under 3 s.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

from simulation import config as scenarios
from simulation import outputs
from simulation.dashboard.page import run_dashboard
from simulation.experiment import run_experiment

ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def main() -> None:
    home = tempfile.mkdtemp()
    os.environ.setdefault("XDG_CONFIG_HOME", home)
    os.environ.setdefault("XDG_CACHE_HOME", home)
    sc = scenarios.apply_overrides(
        scenarios.load(scenarios.bundled("baseline")), ["horizon_weeks=52"]
    )
    start = time.perf_counter()
    result = run_experiment(sc, replications=30, workers=os.cpu_count() or 1)
    simulated = time.perf_counter() - start
    start = time.perf_counter()
    page = run_dashboard(
        sc,
        result.summary,
        result.tables,
        result.targets,
        result.notes,
        {"replications": 30, "seed": result.seed, "started": result.started},
    )
    built = time.perf_counter() - start
    folder = Path(home) / "run"
    outputs.write_run(result, folder, extra_files={"dashboard.html": page})
    size = (folder / "dashboard.html").stat().st_size
    print(f"simulate 30 replications: {simulated:.1f} s; build dashboard: {built:.2f} s")
    print(f"dashboard.html: {size / 1e6:.2f} MB (target < 10 MB)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("playwright is not installed: pip install -e '.[test]'")
    times = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(5):
            page_ = browser.new_page(viewport={"width": 1366, "height": 800})
            t0 = time.perf_counter()
            page_.goto(f"file://{folder / 'dashboard.html'}")
            page_.wait_for_function(
                "document.querySelectorAll('.js-plotly-plot').length >= 9", timeout=60_000
            )
            times.append(time.perf_counter() - t0)
            page_.close()
        browser.close()
    print(
        f"render in headless chromium: median {statistics.median(times):.2f} s over 5 loads "
        f"(min {min(times):.2f}, max {max(times):.2f}; target < 3 s)"
    )


if __name__ == "__main__":
    main()
