"""Back test: a short baseline run must reproduce its pinned KPIs exactly.

An unintended change of behaviour (a changed draw order, a changed rule) shows here. When a
change is intended, regenerate the pinned file and say why in CHANGELOG.md:

    python -m tests.verification.test_backtest --update
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from simulation.experiment import run_experiment
from tests.conftest import variant

PINNED = Path(__file__).with_name("backtest_kpis.csv")
OVERRIDES = ["warmup_weeks=8", "horizon_weeks=16"]
REPLICATIONS = 3


def current() -> pd.DataFrame:
    return run_experiment(variant(*OVERRIDES), replications=REPLICATIONS).kpis


def test_short_baseline_reproduces_pinned_kpis():
    pinned = pd.read_csv(PINNED)
    now = current()
    assert list(now.columns) == list(pinned.columns), "KPI names changed: update deliberately"
    # Same code, same seed: identical up to the last digits CSV keeps (rtol 1e-9).
    pd.testing.assert_frame_equal(now, pinned, check_dtype=False, rtol=1e-9, atol=1e-12)


if __name__ == "__main__":
    if "--update" not in sys.argv:
        sys.exit("pass --update to rewrite the pinned KPIs (and add a line to CHANGELOG.md)")
    current().to_csv(PINNED, index=False, float_format="%.17g")
    print(f"wrote {PINNED}")
