"""The ``iopsim`` command line: parse, call, print. No modelling here."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from simulation import scenario as scenarios
from simulation.kpis import HEADLINE, describe, fmt
from simulation.outputs import OutputError

EXIT_BAD_INPUT = 2


def fail(message: str) -> None:
    """Print a message for a person and leave with exit code 2 (no traceback)."""
    click.echo(f"error: {message}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def load_scenario(
    name_or_path: str | None, overrides: tuple[str, ...] = (), **flags
) -> scenarios.Scenario:
    """Resolve, load and override a scenario; flags (weeks, seed, ...) become overrides."""
    try:
        scenario = scenarios.load(scenarios.resolve(name_or_path))
        settings = [f"{key}={value}" for key, value in flags.items() if value is not None]
        return scenarios.apply_overrides(scenario, [*overrides, *settings])
    except scenarios.ScenarioError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits


def summary_lines(summary, targets=None, kpis=HEADLINE) -> list[str]:
    """The headline KPIs with their 95% CIs, as lines of text."""
    by_kpi = summary.set_index("kpi")
    lines = []
    for name in kpis:
        if name not in by_kpi.index:
            continue
        row = by_kpi.loc[name]
        unit = describe(name).unit
        ci = ""
        if math.isfinite(row["ci_low"]):
            ci = f"  (95% CI {fmt(row['ci_low'], unit)} to {fmt(row['ci_high'], unit)})"
        lines.append(f"  {describe(name).description:<70} {fmt(row['mean'], unit):>12}{ci}")
    if targets is not None and not targets.empty:
        lines.append("Targets (met only if the whole 95% CI is on the right side):")
        for row in targets.itertuples():
            verdict = {True: "MET", False: "NOT MET", None: "no data"}[row.met]
            unit = describe(row.kpi).unit
            lines.append(f"  {row.kpi} {row.target}: {verdict} (mean {fmt(row.value, unit)})")
    return lines


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="iopsim")
def main() -> None:
    """iopsim: capacity planning for Intensive Outpatient Programs.

    Run a scenario (a TOML file, or the name of a bundled one) and get waits, utilisation,
    flows and money with confidence intervals, a run folder and a dashboard.
    """


@main.command()
@click.argument("scenario", required=False)
@click.option(
    "--replications",
    "-r",
    type=click.IntRange(1, 10000),
    help="Replications (default: the scenario's).",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), help="Random seed (default: the scenario's)."
)
@click.option("--weeks", type=click.IntRange(1, 1040), help="Weeks measured after the warm-up.")
@click.option(
    "--warmup-weeks", type=click.IntRange(0, 520), help="Weeks simulated before measuring."
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a scenario value, e.g. staff.therapists.count=5 (repeatable).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Run folder (default: outputs/<scenario>-<time>).",
)
@click.option("--force", is_flag=True, help="Replace the run folder if it exists.")
@click.option("--event-log", is_flag=True, help="Also write events.parquet (the full event log).")
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=1,
    show_default=True,
    help="Local processes to run replications in.",
)
@click.option(
    "--scheduler",
    envvar="IOPSIM_SCHEDULER",
    help="Dask scheduler address (tcp://HOST:PORT); env IOPSIM_SCHEDULER.",
)
@click.option("--no-dashboard", is_flag=True, help="Do not write dashboard.html.")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of text.")
@click.option("--quiet", "-q", is_flag=True, help="Print nothing but errors (and --json output).")
def run(
    scenario,
    replications,
    seed,
    weeks,
    warmup_weeks,
    overrides,
    out,
    force,
    event_log,
    workers,
    scheduler,
    no_dashboard,
    as_json,
    quiet,
):
    """Simulate SCENARIO (file or bundled name; default: baseline) and write a run folder."""
    from simulation import experiment, outputs

    sc = load_scenario(
        scenario,
        overrides,
        horizon_weeks=weeks,
        warmup_weeks=warmup_weeks,
        replications=replications,
        seed=seed,
    )
    folder = out or outputs.default_run_dir(sc)
    try:
        outputs.check_writable(folder, force)
    except OutputError as exc:
        fail(str(exc))
    result = experiment.run_experiment(
        sc, workers=workers, scheduler=scheduler, event_log=event_log
    )
    extra = {}
    if not no_dashboard:
        from simulation.dashboard.page import run_dashboard

        extra["dashboard.html"] = run_dashboard(
            sc, result.summary, result.tables, result.targets, result.notes, _run_info(result)
        )
    try:
        outputs.write_run(
            result, folder, force=force, command=["iopsim", *sys.argv[1:]], extra_files=extra
        )
    except OutputError as exc:
        fail(str(exc))
    if as_json:
        click.echo(json.dumps(_summary_json(result, folder), indent=2))
    elif not quiet:
        click.echo(
            f"{sc.name}: {result.replications} replications, {sc.horizon_weeks} weeks after {sc.warmup_weeks} weeks warm-up, seed {result.seed}"
        )
        for note in result.notes:
            click.echo(f"WARNING: {note}")
        click.echo("\n".join(summary_lines(result.summary, result.targets)))
        click.echo(f"Run folder: {folder}")


def _run_info(result) -> dict:
    return {
        "replications": result.replications,
        "seed": result.seed,
        "started": result.started,
        "executor": result.executor,
    }


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


@main.command()
@click.argument("files", nargs=-1, required=True)
def validate(files):
    """Check scenario FILES; print every problem and exit 2 if any file is invalid."""
    bad = 0
    for name in files:
        try:
            sc = scenarios.load(scenarios.resolve(name))
            click.echo(f"ok: {name} ({sc.name})")
        except scenarios.ScenarioError as exc:
            bad += 1
            click.echo(str(exc), err=True)
    if bad:
        sys.exit(EXIT_BAD_INPUT)


@main.command(name="scenarios")
def list_scenarios():
    """List the bundled scenarios with their descriptions."""
    for path in sorted(scenarios.bundled_dir().glob("*.toml")):
        try:
            sc = scenarios.load(path)
            click.echo(f"{path.stem:<20} {sc.description}")
        except scenarios.ScenarioError as exc:
            click.echo(f"{path.stem:<20} (invalid: {exc.problems[0]})")


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--png", is_flag=True, help="Also write each figure as a PNG (needs kaleido and chromium)."
)
def dashboard(run_dir, png):
    """Rebuild RUN_DIR/dashboard.html from the run folder's tables (no re-simulation)."""
    from simulation import outputs
    from simulation.dashboard.page import rebuild

    try:
        run_data = outputs.read_run(run_dir)
    except (OutputError, scenarios.ScenarioError) as exc:
        fail(str(exc))
    path = rebuild(run_data, png=png)
    click.echo(f"Dashboard: {path}")


if __name__ == "__main__":
    main()
