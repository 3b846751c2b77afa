"""``iopsim run``: simulate a scenario and write a run folder with a dashboard."""

from __future__ import annotations

import json
import math
import sys

import click

from simulation.cli import main
from simulation.cli.common import (
    check_folder,
    experiment_options,
    fail,
    force_option,
    out_option,
    progress_for,
    say,
)
from simulation.cli.text import group_lines, summary_lines


@main.command()
@click.argument("scenario", required=False)
@experiment_options
@click.option(
    "--precision",
    type=click.FloatRange(0.001, 1.0),
    default=0.05,
    show_default=True,
    help="With --replications auto: the relative 95% CI half-width to reach.",
)
@click.option(
    "--precision-kpi",
    multiple=True,
    help="KPIs --precision applies to (repeatable; default: waits and utilisations).",
)
@click.option(
    "--max-replications",
    type=click.IntRange(2, 10000),
    default=200,
    show_default=True,
    help="With --replications auto: stop here.",
)
@out_option("Run folder (default: outputs/<scenario>-<time>).")
@force_option("Replace the run folder if it exists.")
@click.option("--event-log", is_flag=True, help="Also write events.parquet (the full event log).")
@click.option("--no-dashboard", is_flag=True, help="Do not write dashboard.html.")
@click.option(
    "--no-warmup-check", is_flag=True, help="Skip the MSER-5 check of the warm-up length."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of text.")
def run(
    scenario,
    exp,
    precision,
    precision_kpi,
    max_replications,
    out,
    force,
    event_log,
    no_dashboard,
    no_warmup_check,
    as_json,
):
    """Simulate SCENARIO (file or bundled name; default: baseline) and write a run folder."""
    from simulation.kpis import describe

    sc = exp.load(scenario, with_replications=True)
    replications, quiet, workers, scheduler = (
        exp.replications,
        exp.quiet,
        exp.worker_count,
        exp.scheduler,
    )
    for name in precision_kpi:
        try:
            describe(name)
        except KeyError:
            fail(f"--precision-kpi {name!r}: not a KPI (see summary.csv for the names)")
    from simulation import outputs

    folder = out or outputs.default_run_dir(sc)
    check_folder(folder, force)
    n = max_replications if replications == "auto" else sc.replications
    exp.guard([(sc, n)], folder, "this run", event_log=event_log)
    from simulation import experiment, results

    progress = progress_for(quiet or as_json)
    if not no_dashboard and workers > 1 and not scheduler:
        import simulation.dashboard.page  # noqa: F401  (before the workers fork: one builds it)
    try:
        if replications == "auto":
            result = experiment.run_to_precision(
                sc,
                precision,
                list(precision_kpi) or results.PRECISION_KPIS,
                maximum=max_replications,
                workers=workers,
                scheduler=scheduler,
                event_log=event_log,
                progress=progress,
            )
        else:
            result = experiment.run_experiment(
                sc,
                workers=workers,
                scheduler=scheduler,
                event_log=event_log,
                progress=progress,
            )
    finally:
        progress.close()
    result.say_scenario_warnings()
    warmup = None
    steps = results.step_in_period(sc)
    if steps and not no_warmup_check:  # (MSER-5 would read the change as settling)
        result.notes.append(
            f"The warm-up check is left out: {steps}, which MSER-5 would read as the clinic "
            "still settling."
        )
    elif not no_warmup_check and sc.state is None:  # (from a state: no warm-up applies)
        # MSER-5 on this run's own replication-mean weekly census and waitlists (warm-up
        # included; a continuum's levels too)
        suggested = results.suggest_warmup(result.tables["weekly"])
        warmup = max(suggested.values())
        if warmup > sc.warmup_weeks:
            slowest = results.series_name(max(suggested, key=suggested.get))
            result.notes.append(
                f"The warm-up of {sc.warmup_weeks} weeks may be too short: MSER-5 on this run's "
                f"weekly series suggests {warmup} weeks ({slowest[0].lower()}{slowest[1:]} "
                "settle slowest; see iopsim warmup; set warmup_weeks or --warmup-weeks)."
            )
    extra = {}
    # the replications are done: idle workers build the pages while this writes the tables
    from simulation.workers import shared_pool

    pool = shared_pool(workers) if workers > 1 and not scheduler else None
    if not no_dashboard:
        from simulation.dashboard.page import run_dashboard

        page = (sc, result.summary, result.tables, result.targets, result.notes, result.info())
        extra["dashboard.html"] = outputs.built_by(pool, run_dashboard, *page)
    try:
        outputs.write_run(
            result,
            folder,
            force=force,
            command=["iopsim", *sys.argv[1:]],
            extra_files=extra,
            extra_manifest={"warmup_suggestion_weeks": warmup},
            pool=pool,
        )
    except outputs.OutputError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(_summary_json(result, folder), indent=2))
    elif not quiet:
        say(
            f"{sc.name}: {result.replications} replications, {sc.horizon_weeks} weeks after "
            f"{sc.warmup_weeks} weeks warm-up, seed {result.seed}"
        )
        for note in result.notes:
            say(f"WARNING: {note}")
        lines = summary_lines(result.summary, result.targets) + group_lines(result.summary)
        lines += ["What limits admissions:"] + [
            f"  {line}" for line in results.limiting_factors(result.summary)
        ]
        for line in lines:
            say(line)
        say(f"Run folder: {folder}")


def _summary_json(result, folder) -> dict:
    records = result.summary.to_dict(orient="records")
    for record in records:
        for key, value in record.items():
            if isinstance(value, float) and not math.isfinite(value):
                record[key] = None
    return {
        "scenario": result.scenario.name,
        "run_folder": str(folder),
        "seed": result.seed,
        "replications": result.replications,
        "notes": result.notes,
        "summary": records,
        "targets": json.loads(result.targets.to_json(orient="records"))
        if not result.targets.empty
        else [],
    }
