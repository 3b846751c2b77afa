"""``iopsim check-calibration``: the simulated clinic against published IOP figures, and
against the clinic's own records when an extract is given."""

from __future__ import annotations

import sys
from pathlib import Path

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


def _fmt(value, unit):  # one unit per row: days stay days here
    if value != value:
        return "n/a"
    if unit == "share":
        return f"{100 * value:.1f}%"
    return f"{value:.1f}" + {"days": " d", "hours": " h"}.get(unit, "")


@main.command(name="check-calibration")
@click.argument("scenario", required=False)
@replications_option(10, 2, "Replications.")
@seed_option
@set_option
@workers_option
@json_option
@click.option(
    "--strict",
    is_flag=True,
    help="Exit with code 1 if any measure the model produces (not an input) is outside its "
    "published range or disagrees with the records.",
)
@click.option(
    "--extract",
    type=click.Path(path_type=Path),
    help="The clinic's episode extract: compare with its own history too.",
)
@click.option("--map", "maps", multiple=True, metavar="COLUMN=HEADING", help="As for fit.")
@click.option("--map-file", type=click.Path(path_type=Path), help="As for fit.")
@click.option("--drop-bad-rows", is_flag=True, help="As for fit.")
@click.option("--timezone", help="As for fit.")
def check_calibration(
    scenario,
    replications,
    seed,
    overrides,
    workers,
    as_json,
    strict,
    extract,
    maps,
    map_file,
    drop_bad_rows,
    timezone,
):
    """Compare SCENARIO (default: baseline) with published IOP figures (TEDS-D, Loveland &
    Driscoll) and, with --extract, with the clinic's own records. Measures the scenario sets
    (inputs) are reproduced by construction and shown as such; only those the model produces
    are judged."""
    import pandas as pd

    from simulation import calibration, experiment

    sc = load_scenario(scenario, overrides, seed=seed)
    records = None
    if extract is not None:
        from simulation.cli.data import read_extract

        records, _ = read_extract(extract, maps, map_file, drop_bad_rows, None, timezone=timezone)
    result = experiment.run_experiment(
        sc, replications=replications, workers=workers_or_default(workers)
    )
    clients = result.tables["clients"]
    table = calibration.compare(clients, sc.warmup_weeks, sc, result.kpis)
    against = None
    if records is not None:
        from simulation.data.synth import records_of

        start = sc.warmup_weeks * 168.0
        simulated = [
            records_of(c[c["referred"] >= start].reset_index(drop=True), sc.start_date)
            for _, c in clients.groupby("replication")
        ]
        against = calibration.compare_with_records(records.table, simulated, sc)
    produced = table[table["kind"] == "produced"]
    off = produced[~produced["within_range"]]
    disagree = (
        against[(against["kind"] == "produced") & ~against["agrees"]]
        if against is not None
        else against
    )
    if as_json:
        both = [table.assign(against="published")]
        if against is not None:
            both.append(against.assign(against="records"))
        click.echo(pd.concat(both, ignore_index=True).to_json(orient="records", indent=2))
    else:
        _print_published(sc, replications, table, off)
        if against is not None:
            _print_records(against, len(records.table))
    failed = len(off) > 0 or (disagree is not None and len(disagree) > 0)
    if strict and failed:
        sys.exit(1)


def _print_published(sc, replications, table, off) -> None:
    say(
        f"{sc.name}: {replications} replications, {sc.horizon_weeks} weeks after "
        f"{sc.warmup_weeks} weeks warm-up"
    )
    say(f"  {'measure':<52} {'published':>10} {'accepted':>15} {'simulated (95% CI)':>26}  verdict")
    for row in table.itertuples():
        rng = f"{_fmt(row.range_low, row.unit)}-{_fmt(row.range_high, row.unit)}"
        sim = _fmt(row.simulated, row.unit)
        if row.ci_low == row.ci_low:
            sim += f" ({_fmt(row.ci_low, row.unit)}-{_fmt(row.ci_high, row.unit)})"
        verdict = "ok" if row.within_range else "OFF"
        if row.kind == "input":
            verdict = "input" if row.within_range else "input, outside the range"
        say(
            f"  {row.measure:<52} {_fmt(row.published, row.unit):>10} {rng:>15} {sim:>26}  "
            f"{verdict}"
        )
    produced = table[table["kind"] == "produced"]
    inputs = len(table) - len(produced)
    say(
        f"{len(produced) - len(off)} of {len(produced)} measures the model produces are within "
        f"the published ranges; {inputs} {'is an input' if inputs == 1 else 'are inputs'} "
        "the scenario sets (reproduced by construction, not evidence)."
    )
    for row in off.itertuples():
        say(
            f"  OFF: {row.measure}: {_fmt(row.simulated, row.unit)} against "
            f"{_fmt(row.published, row.unit)}; adjust {row.adjust}."
        )


def _print_records(against, n) -> None:
    say(f"Against the clinic's records ({n} referrals; 95% CIs; agree when they overlap):")
    say(f"  {'measure':<52} {'records (95% CI)':>24} {'simulated (95% CI)':>26}  verdict")
    for row in against.itertuples():
        rec = (
            f"{_fmt(row.records, row.unit)} "
            f"({_fmt(row.records_low, row.unit)}-{_fmt(row.records_high, row.unit)})"
        )
        sim = (
            f"{_fmt(row.simulated, row.unit)} "
            f"({_fmt(row.ci_low, row.unit)}-{_fmt(row.ci_high, row.unit)})"
        )
        verdict = "agrees" if row.agrees else "OFF"
        if row.kind == "input":
            verdict += " (input)"
        say(f"  {row.measure:<52} {rec:>24} {sim:>26}  {verdict}")
    for row in against[(against["kind"] == "produced") & ~against["agrees"]].itertuples():
        say(f"  OFF: {row.measure}: adjust {row.adjust}.")
