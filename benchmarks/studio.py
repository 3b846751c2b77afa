"""The studio's speed: how soon its page is usable, and a run from the page against the CLI.

    python benchmarks/studio.py [--repeats 3]

  ready  seconds from starting ``iopsim studio`` to its form being usable in chromium
         (target: within 3 s)
  run    a 10-replication baseline run from the page (click Run until its figures are drawn)
         against ``iopsim run baseline -r 10`` from the command line, both on 2 workers,
         alternating (target: at most 1.3 times the command line)

Needs the studio extra and Debian's chromium (/usr/bin/chromium).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

CHROMIUM = "/usr/bin/chromium"


def start_studio() -> tuple[subprocess.Popen, str, float]:
    from simulation.studio import launch

    started = time.perf_counter()
    process, url = launch(workers=2)
    return process, url, started


def field(page, key: str):
    selector = json.dumps({"key": key, "type": "field"}, separators=(",", ":"))
    return page.locator(f"[id='{selector}']")


def cli_run() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "simulation.cli", "run", "baseline", "-r", "10"]
            + ["--workers", "2", "-q", "--out", f"{tmp}/run"],
            check=True,
        )
        return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    home = tempfile.mkdtemp(prefix="iopsim-chromium-")
    os.environ["XDG_CONFIG_HOME"] = os.path.join(home, "config")
    os.environ["XDG_CACHE_HOME"] = os.path.join(home, "cache")
    from playwright.sync_api import sync_playwright

    ready, page_runs, cli_runs = [], [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for _ in range(args.repeats):
            process, url, started = start_studio()
            try:
                page = browser.new_page()
                while True:  # the server may take a moment to accept connections
                    try:
                        page.goto(url)
                        break
                    except Exception:
                        time.sleep(0.05)
                field(page, "tracks.evening.seats").wait_for(timeout=30_000)
                ready.append(time.perf_counter() - started)
                assert field(page, "replications").input_value() == "10"
                cli_runs.append(cli_run())
                clicked = time.perf_counter()
                page.click("#run")
                page.locator("#figure-money .js-plotly-plot").wait_for(timeout=120_000)
                page_runs.append(time.perf_counter() - clicked)
                page.close()
            finally:
                process.terminate()
                process.wait(timeout=10)
        browser.close()
    r, s, c = statistics.median(ready), statistics.median(page_runs), statistics.median(cli_runs)
    print(
        f"ready: page usable {r:.2f} s after starting the studio (median of {args.repeats}; target < 3 s)"
    )
    print(
        f"run: 10 replications of the baseline from the page {s:.2f} s, from the command line "
        f"{c:.2f} s: ratio {s / c:.2f} (target <= 1.3)"
    )


if __name__ == "__main__":
    main()
