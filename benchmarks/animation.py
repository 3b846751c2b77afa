"""The animation page of the baseline's four weeks after warm-up: size, load time, smoothness.

    python benchmarks/animation.py

Prints the page's size (target: under 5 MB), the time headless chromium takes from opening the
file to the animation ready with all its frames (median of 5 loads), and the time to show each
frame when stepping through 100 of them (smooth: well under the 120 ms a frame lasts in play).
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from simulation import config as scenarios
from simulation.dashboard.animation import animation_data, animation_page
from simulation.replication import run_replication

ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
STEP_JS = """async () => {
  const gd = document.getElementById('animation');
  const names = window.IOPSIM_ANIMATION.times.slice(0, 100).map(String);
  const t0 = performance.now();
  for (const name of names) {
    await Plotly.animate(gd, [name], {mode: 'immediate', frame: {duration: 0, redraw: false}, transition: {duration: 0}});
  }
  return (performance.now() - t0) / names.length;
}"""


def main() -> None:
    home = tempfile.mkdtemp()
    os.environ.setdefault("XDG_CONFIG_HOME", home)
    os.environ.setdefault("XDG_CACHE_HOME", home)
    sc = scenarios.load(scenarios.bundled("baseline"))
    started = time.perf_counter()
    result = run_replication(sc, 0, sc.seed, with_event_log=True)
    data = animation_data(sc, result.events, result.sessions, sc.warmup_weeks, 4, 2.0)
    page = animation_page(sc, data, "benchmark")
    build = time.perf_counter() - started
    path = Path(home) / "animation.html"
    path.write_text(page, encoding="utf-8")
    size = path.stat().st_size / 1e6
    from playwright.sync_api import sync_playwright

    loads, per_frame = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        for _ in range(5):
            tab = browser.new_page(viewport={"width": 1400, "height": 900})
            t0 = time.perf_counter()
            tab.goto(f"file://{path}")
            tab.wait_for_function("window.IOPSIM_ANIMATION !== undefined", timeout=60_000)
            loads.append(time.perf_counter() - t0)
            per_frame.append(tab.evaluate(STEP_JS))
            tab.close()
        browser.close()
    print(
        f"animation of 4 weeks ({len(data['intervals'])} client intervals, "
        f"{int(4 * 168 / 2)} frames): page {size:.2f} MB (target < 5 MB), built in {build:.1f} s "
        f"(one replication simulated); ready in chromium {statistics.median(loads):.2f} s "
        f"(median of 5); {statistics.median(per_frame):.1f} ms a frame stepping through 100"
    )


if __name__ == "__main__":
    main()
