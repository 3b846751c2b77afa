"""``iopsim sensitivity``: which assumptions move the answer."""

from __future__ import annotations

import sys

import click

from simulation.cli import main
from simulation.cli.common import (
    check_folder,
    experiment_options,
    fail,
    folder_or_default,
    force_option,
    json_option,
    out_option,
    progress_for,
    say,
    scenario_inputs,
    write_folder,
)


@main.command()
@click.argument("scenario", required=False)
@experiment_options
@click.option(
    "--vary",
    "varies",
    multiple=True,
    metavar="KEY=LOW..HIGH",
    help="An uncertain input and its range (repeatable); adds to the scenario's [uncertainty] "
    "or, without one, to the values its file marks [E].",
)
@click.option(
    "--kpi",
    "kpis",
    multiple=True,
    help="A KPI to explain (repeatable; default: waits, losses, admissions, utilisation, margin "
    "and the scenario's targets).",
)
@click.option(
    "--points",
    type=click.IntRange(0, 10_000),
    default=None,
    help="Points varying all inputs at once (default: 4 per input, at least 20; 0: none).",
)
@click.option(
    "--point-replications",
    type=click.IntRange(1, 100),
    default=1,
    show_default=True,
    help="Replications at each of those points.",
)
@out_option("Sensitivity folder (default: outputs/sensitivity-<scenario>-<time>).")
@force_option()
@json_option
def sensitivity(scenario, exp, varies, kpis, points, point_replications, out, force, as_json):
    """Which uncertain inputs move the KPIs: one at a time (tornado) and all at once.

    Replications (default 5) are per input level, with the scenario's seed for every level, so
    differences are the input's, not chance's."""
    import json

    from simulation import config as scenarios
    from simulation import sensitivity as method
    from simulation.dashboard import page as pages
    from simulation.kpis import describe

    replications = exp.fixed_replications() or 5
    sc = exp.load(scenario)
    if replications < 2:
        fail("--replications: at least 2 (a change's interval needs two)")
    inputs = scenario_inputs(scenario, sc, varies)
    if not inputs:
        fail(
            "no uncertain inputs: add an [uncertainty] table to the scenario, --vary "
            "KEY=LOW..HIGH, or mark estimates [E] in its file"
        )
    chosen = list(kpis) or [*method.DEFAULT_KPIS, *(k for k, _, _ in sc.target_list())]
    for kpi in chosen:
        try:
            describe(kpi)
        except KeyError:
            fail(f"--kpi {kpi!r}: not a KPI (see summary.csv of a run for the names)")
    chosen = list(dict.fromkeys(chosen))
    folder = folder_or_default(out, f"sensitivity-{sc.name}")
    check_folder(folder, force)
    n_points = points if points is not None else max(20, 4 * len(inputs))
    exp.guard(
        [(sc, replications * (1 + 2 * len(inputs)) + n_points * point_replications)],
        folder,
        "this sensitivity run",
    )
    progress = progress_for(exp.quiet)
    try:
        result = method.sensitivity(
            sc,
            inputs,
            chosen,
            replications,
            n_points,
            point_replications,
            sc.seed,
            exp.worker_count,
            exp.scheduler,
            progress,
        )
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    finally:
        progress.close()
    lines = method.findings(result)
    table = inputs_table(result.inputs)
    manifest = {
        "kind": "sensitivity",
        "scenario": scenarios.to_data(sc),
        "inputs": table.to_dict(orient="records"),
        "kpis": chosen,
        "replications": replications,
        "points": len(result.global_points),
        "point_replications": point_replications,
        "seed": sc.seed,
        "skipped": result.skipped,
        "findings": lines,
        "command": ["iopsim", *sys.argv[1:]],
    }
    write_folder(
        folder,
        {
            "manifest.json": manifest,
            "inputs.csv": table,
            "one_at_a_time.csv": result.one_at_a_time,
            "global_points.csv": result.global_points,
            "global_src.csv": result.global_src,
            "brief.md": "# What the answer hinges on\n\n" + "".join(f"- {x}\n" for x in lines),
            "dashboard.html": pages.sensitivity_page(sc, result, lines),
        },
        force,
    )
    if as_json:
        click.echo(
            json.dumps({"folder": str(folder), "findings": lines, "skipped": result.skipped})
        )
        return
    if not exp.quiet:
        for line in lines:
            say(line)
        for item in result.skipped:
            say(f"Not simulated: {item}")
        say(f"Sensitivity folder: {folder}")


def inputs_table(inputs):
    import pandas as pd

    return pd.DataFrame(
        [
            {"input": i.key, "value": i.base, "low": i.low, "high": i.high, "source": i.source}
            for i in inputs
        ]
    )
