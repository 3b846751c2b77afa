"""The clinic's own records at scale: fitting a large extract, and forecasting from a state.

    python benchmarks/clinic_data.py

  fit       ``iopsim fit`` of a 10-year extract of a large clinic: 50,000 episodes and 2 million
            attendance rows (targets: under 20 s and under 2 GB)
  forecast  ``iopsim forecast`` of 13 weeks with 100 replications from the fitted state
            (target: under 5 s)

The large extract is the baseline's synthetic 10-year extract repeated with new ids until it
holds 50,000 episodes (a clinic about 14 times the baseline), and an attendance extract of two
million group sessions drawn over those episodes' stays.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from simulation import config as scenarios
from simulation.data.synth import synthesize

EPISODES = 50_000
ATTENDANCE = 500_000  # about: a session on every group day (Monday to Thursday) of every stay


def large_extract(folder: Path) -> tuple[Path, Path, str, int]:
    base = scenarios.load(scenarios.bundled("baseline"))
    one, _ = synthesize(base, 10.0, seed=1)
    copies = []
    for k in range(-(-EPISODES // len(one))):
        copy = one.copy()
        copy["episode_id"] = [f"C{k}-{i}" for i in range(len(one))]
        copies.append(copy)
    table = pd.concat(copies, ignore_index=True).iloc[:EPISODES]
    episodes = folder / "extract.csv"
    table.to_csv(episodes, index=False)
    started = table[table["iop_start_date"] != ""]
    rng = np.random.default_rng(2)
    # sessions inside each stay (start to end; a stay still running to the last referral),
    # on the baseline's group days (Monday to Thursday): a session on a day no track meets
    # would teach the fit a seven-day timetable, which no room or roster can hold, and one
    # outside its stay is refused by the reader
    first = pd.to_datetime(started["iop_start_date"]).to_numpy().astype("datetime64[D]")
    last_day = pd.to_datetime(table["referral_date"]).max()
    end = pd.to_datetime(started["iop_end_date"].replace("", None)).fillna(last_day)
    last = end.to_numpy().astype("datetime64[D]")
    length = (last - first).astype("int64") + 1
    pick = np.repeat(np.arange(len(started)), length)  # every day of every stay
    within = np.arange(len(pick)) - np.repeat(np.cumsum(length) - length, length)
    day = first[pick] + within.astype("timedelta64[D]")
    weekday = (day.astype("int64") - 4) % 7  # (1970-01-01 was a Thursday: Monday is 0)
    pick, day = pick[weekday < 4], day[weekday < 4]
    attendance = pd.DataFrame(
        {
            "episode_id": started["episode_id"].to_numpy()[pick],
            "date": day.astype(str),
            "kind": "group",
            "attended": np.where(rng.random(len(pick)) < 0.82, "yes", "no"),
        }
    )
    sessions = folder / "attendance.parquet"
    attendance.to_parquet(sessions, index=False)

    cut = str((pd.to_datetime(table["referral_date"]).max() - pd.Timedelta(days=180)).date())
    return episodes, sessions, cut, len(attendance)


def timed(args: list[str], code: Path | None = None) -> float:
    """Seconds an iopsim command takes (``code``: the checkout to run it from)."""
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "simulation.entry", *args],
        check=True,
        stdout=subprocess.DEVNULL,
        **({"cwd": code, "env": {**os.environ, "PYTHONPATH": str(code)}} if code else {}),
    )
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        episodes, sessions, cut, rows = large_extract(folder)
        scenario = folder / "clinic.toml"
        seconds = timed(
            [
                "fit",
                str(episodes),
                "--attendance",
                str(sessions),
                "--as-of",
                cut,
                "--out",
                str(scenario),
            ]
        )
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB
        print(
            f"fit: {EPISODES:,} episodes + {rows:,} attendance rows in {seconds:.1f} s "
            f"(target < 20 s: ratio {seconds / 20:.2f}); peak memory {peak:,.0f} MiB "
            f"(target < 2,048 MiB: ratio {peak / 2048:.2f})"
        )
        small = folder / "small.csv"
        base = scenarios.load(scenarios.bundled("baseline"))
        synthesize(base, 3.0, seed=1)[0].to_csv(small, index=False)
        state = folder / "small.toml"
        timed(["fit", str(small), "--as-of", "2030-06-03", "--out", str(state)])
        runs = [
            timed(
                [
                    "forecast",
                    str(state),
                    "--weeks",
                    "13",
                    "-r",
                    "100",
                    "-q",
                    "--out",
                    str(folder / f"f{i}"),
                ]
            )
            for i in range(3)
        ]
        best = sorted(runs)[1]
        print(
            f"forecast: 13 weeks x 100 replications median {best:.2f} s over 3 "
            f"(target < 5 s: ratio {best / 5:.2f})"
        )


if __name__ == "__main__":
    main()
