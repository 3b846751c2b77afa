"""``iopsim check-calibration``: the simulated clinic against published IOP figures."""

from __future__ import annotations

import sys

import click

from simulation.cli import main
from simulation.cli.common import (
    json_option,
    load_scenario,
    replications_option,
    say,
    seed_option,
    set_option,
    workers_option,
    workers_or_default,
)


@main.command(name="check-calibration")
@click.argument("scenario", required=False)
@replications_option(10, 2, "Replications.")
@seed_option
@set_option
@workers_option
@json_option
@click.option(
    "--strict", is_flag=True, help="Exit with code 1 if any measure is outside its published range."
)
def check_calibration(scenario, replications, seed, overrides, workers, as_json, strict):
    """Compare SCENARIO (default: baseline) with published IOP figures (TEDS-D, Loveland & Driscoll)."""
    from simulation import calibration, experiment

    def fmt(value, unit):  # one unit per row: days stay days here
        return f"{100 * value:.1f}%" if unit == "share" else f"{value:.1f} d"

    sc = load_scenario(scenario, overrides, seed=seed)
    result = experiment.run_experiment(
        sc, replications=replications, workers=workers_or_default(workers)
    )
    table = calibration.compare(result.tables["clients"], sc.warmup_weeks)
    if as_json:
        click.echo(table.to_json(orient="records", indent=2))
    else:
        say(
            f"{sc.name}: {replications} replications, {sc.horizon_weeks} weeks after "
            f"{sc.warmup_weeks} weeks warm-up"
        )
        say(f"  {'measure':<52} {'published':>10} {'range':>17} {'simulated (95% CI)':>28}  ok")
        for row in table.itertuples():
            rng = f"{fmt(row.range_low, row.unit)}-{fmt(row.range_high, row.unit)}"
            sim = (
                f"{fmt(row.simulated, row.unit)} "
                f"({fmt(row.ci_low, row.unit)}-{fmt(row.ci_high, row.unit)})"
            )
            say(
                f"  {row.measure:<52} {fmt(row.published, row.unit):>10} {rng:>17} {sim:>28}  "
                f"{'yes' if row.within_range else 'NO'}"
            )
        say(
            f"{int(table['within_range'].sum())} of {len(table)} measures within the published "
            "ranges."
        )
    if strict and not table["within_range"].all():
        sys.exit(1)
