"""The ``iopsim`` command line: parse, call, print. No modelling here."""

from __future__ import annotations

import html
import json
import math
import sys
import time
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


class Replications(click.ParamType):
    """A number of replications, or 'auto' (add replications until precise enough)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        try:
            number = int(value)
        except ValueError:
            self.fail(f"{value!r} is not a whole number or 'auto'", param, ctx)
        if not 1 <= number <= 10000:
            self.fail(f"{number} is not between 1 and 10000", param, ctx)
        return number


class Progress:
    """A progress bar on stderr: replications done, elapsed and remaining time."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        left = elapsed / done * (total - done) if done else 0.0
        filled = int(30 * done / max(total, 1))
        bar = "#" * filled + "-" * (30 - filled)
        click.echo(
            f"\r[{bar}] {done}/{total} replications, {elapsed:.0f} s elapsed, ~{left:.0f} s left ",
            err=True,
            nl=False,
        )
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


def progress_for(quiet: bool) -> Progress:
    return Progress(enabled=not quiet and sys.stderr.isatty())


def experiment_options(function):
    """The options shared by run, compare, sweep and plan."""
    options = [
        click.option(
            "--replications",
            "-r",
            type=Replications(),
            help="Replications (default: the scenario's), or 'auto' with --precision.",
        ),
        click.option(
            "--seed",
            type=click.IntRange(0, 2**63 - 1),
            help="Random seed (default: the scenario's).",
        ),
        click.option(
            "--weeks", type=click.IntRange(1, 1040), help="Weeks measured after the warm-up."
        ),
        click.option(
            "--warmup-weeks", type=click.IntRange(0, 520), help="Weeks simulated before measuring."
        ),
        click.option(
            "--set",
            "overrides",
            multiple=True,
            metavar="KEY=VALUE",
            help="Change a scenario value, e.g. staff.therapists.count=5 (repeatable).",
        ),
        click.option(
            "--workers",
            type=click.IntRange(1, 1024),
            default=None,
            help="Local processes (default: all CPUs).",
        ),
        click.option(
            "--scheduler",
            envvar="IOPSIM_SCHEDULER",
            help="Dask scheduler address tcp://HOST:PORT (env IOPSIM_SCHEDULER).",
        ),
        click.option(
            "--quiet", "-q", is_flag=True, help="Print nothing but errors (and --json output)."
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def workers_or_default(workers: int | None) -> int:
    from simulation.experiment import default_workers

    return workers or default_workers()


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
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Run folder (default: outputs/<scenario>-<time>).",
)
@click.option("--force", is_flag=True, help="Replace the run folder if it exists.")
@click.option("--event-log", is_flag=True, help="Also write events.parquet (the full event log).")
@click.option("--no-dashboard", is_flag=True, help="Do not write dashboard.html.")
@click.option(
    "--no-warmup-check", is_flag=True, help="Skip the MSER-5 check of the warm-up length."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON instead of text.")
def run(
    scenario,
    replications,
    seed,
    weeks,
    warmup_weeks,
    overrides,
    workers,
    scheduler,
    quiet,
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
    from simulation import analysis, experiment, outputs
    from simulation.kpis import describe

    fixed = replications if isinstance(replications, int) else None
    sc = load_scenario(
        scenario,
        overrides,
        horizon_weeks=weeks,
        warmup_weeks=warmup_weeks,
        replications=fixed,
        seed=seed,
    )
    for name in precision_kpi:
        try:
            describe(name)
        except KeyError:
            fail(f"--precision-kpi {name!r}: not a KPI (see summary.csv for the names)")
    folder = out or outputs.default_run_dir(sc)
    try:
        outputs.check_writable(folder, force)
    except OutputError as exc:
        fail(str(exc))
    workers = workers_or_default(workers)
    progress = progress_for(quiet or as_json)
    try:
        if replications == "auto":
            result = experiment.run_to_precision(
                sc,
                precision,
                list(precision_kpi) or analysis.PRECISION_KPIS,
                maximum=max_replications,
                workers=workers,
                scheduler=scheduler,
                event_log=event_log,
                progress=progress,
            )
        else:
            result = experiment.run_experiment(
                sc, workers=workers, scheduler=scheduler, event_log=event_log, progress=progress
            )
        warmup = None
        if not no_warmup_check:
            # MSER-5 on this run's own replication-mean weekly census and waitlist (warm-up included)
            warmup = max(analysis.suggest_warmup(result.tables["weekly"]).values())
            if warmup > sc.warmup_weeks:
                result.notes.append(
                    f"The warm-up of {sc.warmup_weeks} weeks may be too short: MSER-5 on this run's weekly "
                    f"IOP census and waitlist suggests {warmup} weeks (see iopsim warmup; set warmup_weeks or --warmup-weeks)."
                )
    finally:
        progress.close()
    extra = {}
    if not no_dashboard:
        from simulation.dashboard.page import run_dashboard

        extra["dashboard.html"] = run_dashboard(
            sc, result.summary, result.tables, result.targets, result.notes, _run_info(result)
        )
    try:
        outputs.write_run(
            result,
            folder,
            force=force,
            command=["iopsim", *sys.argv[1:]],
            extra_files=extra,
            extra_manifest={"warmup_suggestion_weeks": warmup},
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
@click.argument("scenario", required=False)
@click.option(
    "--weeks",
    type=click.IntRange(20, 1040),
    help="Weeks per pilot run (default: max(156, 3 x warm-up)).",
)
@click.option(
    "--replications",
    "-r",
    type=click.IntRange(2, 1000),
    default=5,
    show_default=True,
    help="Pilot replications.",
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a scenario value (repeatable).",
)
@click.option(
    "--window",
    type=click.IntRange(1, 52),
    default=4,
    show_default=True,
    help="Moving-average half-width in weeks.",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Local processes (default: all CPUs).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Welch plot HTML (default: outputs/warmup-<scenario>-<time>.html).",
)
def warmup(scenario, weeks, replications, overrides, window, workers, out):
    """Suggest a warm-up length for SCENARIO by MSER-5 on the weekly IOP census and waitlist."""
    from simulation import experiment, outputs
    from simulation.dashboard import figures
    from simulation.dashboard.page import render

    sc = load_scenario(scenario, overrides)
    folder = Path("outputs")
    out = (
        out or folder / f"warmup-{outputs.safe_name(sc.name)}-{time.strftime('%Y%m%d-%H%M%S')}.html"
    )
    try:
        outputs.check_writable(out)
    except OutputError as exc:
        fail(str(exc))
    suggestion, means = experiment.warmup_pilot(
        sc, weeks=weeks, replications=replications, workers=workers_or_default(workers)
    )
    best = max(suggestion.values())
    for name, value in suggestion.items():
        click.echo(f"  MSER-5 on {name}: {value} weeks")
    verdict = "long enough" if sc.warmup_weeks >= best else "SHORTER than suggested"
    click.echo(
        f"Suggested warm-up: {best} weeks; the scenario has {sc.warmup_weeks} weeks ({verdict})."
    )
    fig = figures.warmup(means, best, sc.warmup_weeks, window)
    header = [
        f"<h1>Warm-up: {html.escape(sc.name)}</h1>",
        f"<p>{replications} pilot replications of {int(means['week'].max()) + 1} weeks from an empty clinic; "
        f"suggested warm-up {best} weeks (MSER-5), scenario {sc.warmup_weeks} weeks.</p>",
    ]
    outputs.write_file_atomic(
        out, render(f"iopsim warm-up: {sc.name}", header, [], [("warmup", "Welch plot", fig)])
    )
    click.echo(f"Welch plot: {out}")


@main.command(name="check-calibration")
@click.argument("scenario", required=False)
@click.option(
    "--replications",
    "-r",
    type=click.IntRange(2, 10000),
    default=10,
    show_default=True,
    help="Replications.",
)
@click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), help="Random seed (default: the scenario's)."
)
@click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a scenario value (repeatable).",
)
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Local processes (default: all CPUs).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the comparison as JSON.")
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
        click.echo(
            f"{sc.name}: {replications} replications, {sc.horizon_weeks} weeks after {sc.warmup_weeks} weeks warm-up"
        )
        click.echo(
            f"  {'measure':<52} {'published':>10} {'range':>17} {'simulated (95% CI)':>28}  ok"
        )
        for row in table.itertuples():
            rng = f"{fmt(row.range_low, row.unit)}-{fmt(row.range_high, row.unit)}"
            sim = f"{fmt(row.simulated, row.unit)} ({fmt(row.ci_low, row.unit)}-{fmt(row.ci_high, row.unit)})"
            click.echo(
                f"  {row.measure:<52} {fmt(row.published, row.unit):>10} {rng:>17} {sim:>28}  {'yes' if row.within_range else 'NO'}"
            )
        click.echo(
            f"{int(table['within_range'].sum())} of {len(table)} measures within the published ranges."
        )
    if strict and not table["within_range"].all():
        sys.exit(1)


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
