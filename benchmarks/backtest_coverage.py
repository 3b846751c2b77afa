"""How well the forecast bands cover what happened: back-tests of a bundled scenario's own
synthetic records (issue 12's measure; the baseline unless --scenario names another).

For each of N seeds: a 3-year synthetic extract of the baseline; a training date spread over
80 weeks; fit on the records before it (or, with --true, the true scenario), start from the
state then, forecast 13 weeks with 40 replications (fitted values drawn from their CIs), and
count the weeks whose observed census, IOP waitlist and admissions fall inside the 50% and 90%
bands (census and waitlist counted as the records count them), and which way the misses lean
(observed less the forecast's mean, weeks 1-6 and 7-13).

    python benchmarks/backtest_coverage.py [--n 48] [--true] [--scenario continuum] [--template baseline]
        [--history 20]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np
import pandas as pd

from simulation import config as scenarios
from simulation import results
from simulation.data.extract import as_seen_on, read_episodes
from simulation.data.state import direct_sources, state_on, weekly_observed
from simulation.data.synth import extract_end, extract_start, synthesize
from simulation.experiment import run_experiment
from simulation.fit.clinic import fitted_scenario
from simulation.fit.uncertainty import run_with_uncertainty

WEEKS, REPLICATIONS = 13, 40


def one(
    sc, seed: int, folder: str, true_model: bool, template=None, history: int | None = None
) -> pd.DataFrame:
    table, _ = synthesize(sc, 3.0, seed)
    path = os.path.join(folder, f"e{seed}.csv")
    table.to_csv(path, index=False)
    everything = read_episodes(path, as_of=extract_end(sc, 3.0))
    if history is None:
        cut = pd.Timestamp("2029-03-05") + pd.Timedelta(weeks=(seed * 7) % 80)
    else:  # young records: HISTORY to HISTORY + 7 weeks of them
        cut = extract_start(sc) + pd.Timedelta(weeks=history + seed % 8)
    seen = as_seen_on(everything, cut)
    if true_model:
        data = scenarios.to_data(sc)
        data.update(state=state_on(seen), start_date=cut.date(), warmup_weeks=0)
        data["horizon_weeks"] = WEEKS + 1
        start = scenarios.validate(data, "the true clinic from the state")
        result = run_experiment(start, replications=REPLICATIONS, workers=2, detail="forecast")
    else:
        fitted, fit, _ = fitted_scenario(seen, template or sc, True, WEEKS + 1)
        result = run_with_uncertainty(fitted, fit.evidence, REPLICATIONS, 2)
    bands = results.forecast_bands(result.tables["weekly"], as_recorded=True)
    observed = weekly_observed(everything, cut, WEEKS + 1, direct_sources(sc))
    observed = observed[observed["week"] >= 1]
    table = results.backtest_table(
        bands, observed, dict.fromkeys(results.backtest_series(observed), 0)
    )
    return table, _bias(bands, observed)


def _bias(bands: pd.DataFrame, observed: pd.DataFrame) -> pd.DataFrame:
    """Observed less the forecast's mean, week by week, per series: which way the misses
    lean (weeks 1-6 against 7-13, where the start's state weighs least). The mean, not the
    median: a count's median lies below its mean (a Poisson 9.6's is 9)."""
    rows = []
    for series in results.backtest_series(observed):
        mean = bands[bands["series"] == series].set_index("week")["mean"]
        seen = observed.set_index("week")[series]
        for week in seen.index.intersection(mean.index):
            rows.append((series, week, float(seen[week]) - float(mean[week])))
    return pd.DataFrame(rows, columns=["series", "week", "observed_less_mean"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=48, help="back-tests (seeds)")
    parser.add_argument("--true", action="store_true", help="the true scenario, not a fit")
    parser.add_argument("--scenario", default="baseline", help="the bundled scenario")
    parser.add_argument(
        "--template", help="fit with this bundled scenario as template (default: --scenario's)"
    )
    parser.add_argument(
        "--history",
        type=int,
        help="weeks of records before the training date (default: 61-140): young records",
    )
    args = parser.parse_args()
    sc = scenarios.load(scenarios.bundled(args.scenario))
    template = scenarios.load(scenarios.bundled(args.template)) if args.template else None
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        both = [
            one(sc, seed, folder, args.true, template, args.history)
            for seed in range(1, args.n + 1)
        ]
    tables = [table for table, _ in both]
    bias = pd.concat([b for _, b in both])
    pooled = pd.concat(tables).groupby("series")[["coverage_50", "coverage_90"]].mean()
    print(
        f"{args.n} back-tests of {args.scenario} ({'true scenario' if args.true else 'fitted'}"
        + (f" on the {args.template} template" if args.template and not args.true else "")
        + (f", {args.history}-{args.history + 7} weeks of records" if args.history else "")
        + "), "
        f"{time.perf_counter() - started:.0f} s"
    )
    for series, row in pooled.iterrows():
        print(
            f"  {series:<20} in 50% band {100 * row.coverage_50:5.1f}%   in 90% band "
            f"{100 * row.coverage_90:5.1f}% (target 80-98%)"
        )
    per = pd.concat(tables).groupby("series")["coverage_90"].std() / np.sqrt(args.n)
    print(
        "  standard error of a 90% share across back-tests: "
        + ", ".join(f"{s} {100 * v:.1f} pp" for s, v in per.items())
    )
    bias["weeks"] = np.where(bias["week"] <= 6, "1-6", "7-13")
    lean = bias.groupby(["series", "weeks"])["observed_less_mean"].agg(["mean", "sem"])
    print("  observed less the forecast's mean, on average (standard error):")
    for (series, weeks), row in lean.iterrows():
        print(f"    {series:<20} weeks {weeks:<5} {row['mean']:+.3f} ({row['sem']:.3f})")


if __name__ == "__main__":
    main()
