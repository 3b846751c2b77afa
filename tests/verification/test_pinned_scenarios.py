"""Bundled scenarios reproduce their pinned KPIs exactly: a restructuring changes no number.

The baseline, two what-ifs and the continuum (levels of care) are run short (their own
warm-up, 26 weeks measured, 2 replications) and compared with the KPIs pinned in
``tests/verification/pinned/<name>.csv``. Code that only moves or renames things must leave
them identical; a change of behaviour that moves them is deliberate: regenerate and say why in
CHANGELOG.md:

    python -m tests.verification.test_pinned_scenarios --update
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

from simulation import config as scenarios
from simulation.experiment import run_experiment

PINNED = Path(__file__).with_name("pinned")
NAMES = ("baseline", "evening_track", "prescriber_leave", "continuum")
OVERRIDES = ["horizon_weeks=26"]  # (prescriber_leave's leave, weeks 60-73, is inside)
REPLICATIONS = 2


def current(name: str) -> pd.DataFrame:
    sc = scenarios.apply_overrides(scenarios.load(scenarios.bundled(name)), OVERRIDES)
    return run_experiment(sc, replications=REPLICATIONS, workers=1).kpis


@pytest.mark.parametrize("name", NAMES)
def test_bundled_scenario_reproduces_its_pinned_kpis(name):
    pinned = pd.read_csv(PINNED / f"{name}.csv")
    now = current(name)
    assert list(now.columns) == list(pinned.columns), "KPI names changed: update deliberately"
    # same code, same seed: identical up to the last digits the CSV keeps
    pd.testing.assert_frame_equal(now, pinned, check_dtype=False, rtol=1e-9, atol=1e-12)


if __name__ == "__main__":
    if "--update" not in sys.argv:
        sys.exit("pass --update to rewrite the pinned KPIs (and add a line to CHANGELOG.md)")
    PINNED.mkdir(exist_ok=True)
    for name in NAMES:
        current(name).to_csv(PINNED / f"{name}.csv", index=False, float_format="%.17g")
        print(f"wrote {PINNED / name}.csv")
