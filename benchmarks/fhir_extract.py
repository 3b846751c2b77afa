"""What reading a FHIR bundle costs against reading the same records as tables.

    python benchmarks/fhir_extract.py [YEARS]

Writes YEARS (default 10) of the bundled baseline clinic's synthetic records both ways (a
FHIR R4 Bundle; an episode CSV and an attendance CSV), then reads each three times with
``read_episodes`` (every check, every resource validated against its R4 model) and prints the
median times, the ratio, the cost per resource and the peak memory of reading the bundle.
Target: a 10-year bundle of a clinic this size reads in under 20 s (a fit is then still
well under a minute)."""

from __future__ import annotations

import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

from simulation.config import bundled, load
from simulation.data import fhir
from simulation.data.extract import read_episodes
from simulation.data.synth import extract_start, synthesize_records
from simulation.data.synth_fhir import bundle


def main() -> None:
    years = float(sys.argv[1]) if len(sys.argv) > 1 else 10.0
    sc = load(bundled("baseline"))
    table, _, sessions = synthesize_records(sc, years, 1, fhir=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        table.to_csv(folder / "e.csv", index=False)
        sessions.to_csv(folder / "a.csv", index=False)
        body = bundle(table, sessions, sc, extract_start(sc))
        path = folder / "b.json"
        path.write_text(json.dumps(body, separators=(",", ":")))
        resources = len(body["entry"])
        times: dict[str, list[float]] = {"table": [], "fhir": []}
        for _ in range(3):
            fhir._read.cache_clear()  # (each read from the file, as a new command would)
            t = time.perf_counter()
            read_episodes(folder / "e.csv", attendance=folder / "a.csv")
            times["table"].append(time.perf_counter() - t)
            t = time.perf_counter()
            read_episodes(path)
            times["fhir"].append(time.perf_counter() - t)
        size = path.stat().st_size
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    t_table, t_fhir = statistics.median(times["table"]), statistics.median(times["fhir"])
    print(
        f"{years:g} years of the baseline: {len(table):,} episodes, {len(sessions):,} "
        f"appointments, {resources:,} resources, bundle {size / 1e6:.1f} MB"
    )
    print(
        f"read as tables {t_table:.2f} s, as a FHIR bundle {t_fhir:.2f} s (median of 3): ratio "
        f"{t_fhir / t_table:.1f}; {t_fhir / resources * 1e6:.0f} us per resource; "
        f"peak resident memory {peak:.0f} MB; target < 20 s: "
        f"{'met' if t_fhir < 20 else 'NOT met'}"
    )


if __name__ == "__main__":
    main()
