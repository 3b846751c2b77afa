"""The ``iopsim`` command line: parse, call, print. No modelling here."""

from __future__ import annotations

import json
import math
import signal
import sys
import time
from pathlib import Path

import click
import pandas as pd

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


EXIT_INTERRUPTED = 130


class Interrupted(KeyboardInterrupt):
    """SIGTERM, turned into the same clean stop as Ctrl-C."""


def _terminate(signum, frame):
    raise Interrupted()


class Commands(click.Group):
    """Commands that stop cleanly on Ctrl-C or SIGTERM: temporary output is removed, finished
    sweep cells are kept, and the exit code is 130."""

    def invoke(self, ctx):
        signal.signal(signal.SIGTERM, _terminate)
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            click.echo(
                "\ninterrupted: no partial output was left (finished sweep cells are kept)",
                err=True,
            )
            sys.exit(EXIT_INTERRUPTED)
        except OSError as exc:  # a full disk or an unwritable folder met while writing
            click.echo(
                f"error: {exc.strerror or exc}: {exc.filename or ''} (nothing was left half-written)",
                err=True,
            )
            sys.exit(EXIT_BAD_INPUT)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
        click.option(
            "--allow-long",
            is_flag=True,
            help="Run even if estimated to take over 2 hours or half the memory.",
        ),
    ]
    for option in reversed(options):
        function = option(function)
    return function


def guard(
    scenarios_and_replications,
    workers: int,
    allow_long: bool,
    folder: Path | None = None,
    what: str = "this run",
    event_log: bool = False,
) -> None:
    """Refuse, before anything runs, work estimated too long or too large (exit 2)."""
    from simulation import workload

    works = [workload.estimate(sc, n, event_log) for sc, n in scenarios_and_replications]
    if not works:
        return
    total = workload.Workload(
        max(w.referrals for w in works),
        sum(w.cpu_seconds for w in works),
        sum(w.memory_bytes for w in works),
        sum(w.output_bytes for w in works),
    )
    try:
        workload.check(total, workers, allow_long, what)
        if folder is not None:
            workload.check_disk(folder, total)
    except workload.WorkloadError as exc:
        fail(str(exc))


def safe_text(text: str) -> str:
    """User text for the terminal: control characters (escape sequences) shown, not obeyed."""
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(text))


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
    allow_long,
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
    n = max_replications if replications == "auto" else sc.replications
    guard([(sc, n)], workers, allow_long, folder, event_log=event_log)
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
            f"{safe_text(sc.name)}: {result.replications} replications, {sc.horizon_weeks} weeks after {sc.warmup_weeks} weeks warm-up, seed {result.seed}"
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
            click.echo(f"ok: {safe_text(name)} ({safe_text(sc.name)})")
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
            click.echo(f"{path.stem:<20} {safe_text(sc.description)}")
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
    from simulation.dashboard import page as pages

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
    page = pages.warmup_page(sc, means, best, replications, window)
    outputs.write_file_atomic(out, page)
    click.echo(f"Welch plot: {out}")


def _folder_or_default(out: Path | None, prefix: str) -> Path:
    from simulation import outputs

    return out or Path("outputs") / f"{outputs.safe_name(prefix)}-{time.strftime('%Y%m%d-%H%M%S')}"


@main.command()
@click.argument("scenarios_or_runs", nargs=-1)
@experiment_options
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar='"KEY=VALUE ..."',
    help="A variant of the first scenario (repeatable); space-separated overrides.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Comparison folder (default: outputs/compare-<time>).",
)
@click.option("--force", is_flag=True, help="Replace the folder if it exists.")
def compare(
    scenarios_or_runs,
    replications,
    seed,
    weeks,
    warmup_weeks,
    overrides,
    workers,
    scheduler,
    quiet,
    allow_long,
    variants,
    out,
    force,
):
    """Compare scenarios (files, bundled names or run folders) with paired differences to the first."""
    import shlex

    from simulation import outputs, planning
    from simulation.dashboard import page as pages

    if isinstance(replications, str):
        fail("--replications auto is for run; give a number")
    if not scenarios_or_runs:
        scenarios_or_runs = ("baseline",)
    if len(scenarios_or_runs) + len(variants) < 2:
        fail("give at least two scenarios or run folders, or one scenario and --variant")
    folder = _folder_or_default(out, "compare")
    try:
        outputs.check_writable(folder, force)
    except OutputError as exc:
        fail(str(exc))
    flags = {
        "horizon_weeks": weeks,
        "warmup_weeks": warmup_weeks,
        "replications": replications,
        "seed": seed,
    }
    labels, kpis, weekly, seeds, to_run, data = [], [], [], [], [], []
    for item in scenarios_or_runs:
        if Path(item).is_dir():
            try:
                run_data = outputs.read_run(item)
            except (OutputError, scenarios.ScenarioError) as exc:
                fail(str(exc))
            labels.append(f"{run_data.scenario.name} ({Path(item).name})")
            kpis.append(run_data.kpis)
            weekly.append(run_data.table("weekly"))
            seeds.append(run_data.manifest.get("seed"))
            data.append(scenarios.to_data(run_data.scenario))
        else:
            sc = load_scenario(item, overrides, **flags)
            labels.append(sc.name)
            to_run.append((len(labels) - 1, sc))
            kpis.append(None)
            weekly.append(None)
            seeds.append(None)
            data.append(scenarios.to_data(sc))
    first = next((sc for _, sc in to_run), None)
    for text in variants:
        if first is None:
            fail("--variant needs a scenario (not a run folder) first")
        try:
            sc = scenarios.apply_overrides(first, shlex.split(text))
        except (scenarios.ScenarioError, ValueError) as exc:
            fail(str(exc))
        labels.append(f"{first.name} + {text}")
        to_run.append((len(labels) - 1, sc))
        kpis += [None]
        weekly += [None]
        seeds += [None]
        data.append(scenarios.to_data(sc))
    labels = [
        f"{label} [{i + 1}]" if labels.count(label) > 1 else label for i, label in enumerate(labels)
    ]
    if to_run:
        run_seed = seed if seed is not None else to_run[0][1].seed
        n = replications or to_run[0][1].replications
        guard(
            [(sc, n) for _, sc in to_run],
            workers_or_default(workers),
            allow_long,
            folder,
            "this comparison",
        )
        progress = progress_for(quiet)
        try:
            results = planning.run_many(
                [sc for _, sc in to_run],
                n,
                run_seed,
                workers_or_default(workers),
                scheduler,
                progress=progress,
            )
        finally:
            progress.close()
        for (position, _), (_, result) in zip(to_run, sorted(results.items()), strict=True):
            kpis[position] = result.kpis
            weekly[position] = result.tables["weekly"]
            seeds[position] = run_seed
    table = planning.comparison_table(labels, kpis, seeds)
    stacked_kpis = pd.concat(
        [k.assign(scenario=label) for label, k in zip(labels, kpis, strict=True)], ignore_index=True
    )
    stacked_weekly = pd.concat(
        [w.assign(scenario=label) for label, w in zip(labels, weekly, strict=True)],
        ignore_index=True,
    )
    page = pages.comparison_page(table, labels, dict(zip(labels, weekly, strict=True)))
    manifest = {
        "kind": "compare",
        "labels": labels,
        "seeds": seeds,
        "scenarios": data,
        "command": ["iopsim", *sys.argv[1:]],
    }
    try:
        outputs.write_folder(
            folder,
            {
                "manifest.json": manifest,
                "comparison.csv": table,
                "kpis.csv": stacked_kpis,
                "weekly.parquet": stacked_weekly,
                "dashboard.html": page,
            },
            force,
        )
    except OutputError as exc:
        fail(str(exc))
    if not quiet:
        _print_comparison(table, labels)
        click.echo(f"Comparison folder: {folder}")


def _print_comparison(table, labels) -> None:
    from simulation.kpis import HEADLINE, describe, fmt, fmt_signed

    click.echo(
        "Scenarios: " + "; ".join(f"[{i + 1}] {safe_text(label)}" for i, label in enumerate(labels))
    )
    for kpi in HEADLINE:
        unit = describe(kpi).unit
        parts = []
        for i, label in enumerate(labels):
            r = table[(table["kpi"] == kpi) & (table["scenario"] == label)].iloc[0]
            text = f"[{i + 1}] {fmt(r['mean'], unit)}"
            if i:
                text += f" ({fmt_signed(r['difference'], unit)}, CI {fmt_signed(r['difference_ci_low'], unit)} to {fmt_signed(r['difference_ci_high'], unit)})"
            parts.append(text)
        click.echo(f"  {kpi}: " + "  ".join(parts))


@main.command()
@click.argument("scenario", required=False)
@experiment_options
@click.option(
    "--grid",
    "grids",
    multiple=True,
    required=True,
    metavar="KEY=LOW..HIGH|KEY=A,B,C",
    help="A factor to sweep (repeatable): the full factorial is run.",
)
@click.option(
    "--kpi",
    default=None,
    help="KPI for the dashboard heatmap (default: the first target's, else wait_to_iop_days_mean).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Sweep folder (default: outputs/sweep-<scenario>-<time>); rerun with the same --out to resume.",
)
@click.option("--force", is_flag=True, help="Start afresh if --out holds a different sweep.")
def sweep(
    scenario,
    replications,
    seed,
    weeks,
    warmup_weeks,
    overrides,
    workers,
    scheduler,
    quiet,
    allow_long,
    grids,
    kpi,
    out,
    force,
):
    """Run the full factorial of --grid factors; resumable, one long table of cell x KPI."""
    from simulation import outputs, planning
    from simulation.dashboard import page as pages
    from simulation.kpis import describe

    if isinstance(replications, str):
        fail("--replications auto is for run; give a number")
    sc = load_scenario(
        scenario, overrides, horizon_weeks=weeks, warmup_weeks=warmup_weeks, seed=seed
    )
    try:
        factors = [planning.parse_factor(g) for g in grids]
        planning.cells(sc, factors)
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    keys = [f.key for f in factors]
    if len(set(keys)) != len(keys):
        fail("--grid: a key is given twice")
    target_kpis = [t[0] for t in sc.target_list()]
    kpi = kpi or (target_kpis[0] if target_kpis else "wait_to_iop_days_mean")
    try:
        describe(kpi)
    except KeyError:
        fail(f"--kpi {kpi!r}: not a KPI")
    folder = out or _folder_or_default(None, f"sweep-{sc.name}")
    if folder.exists() and not (folder / "manifest.json").exists():
        fail(f"{folder} exists and is not a sweep folder; choose another --out")
    n = replications or sc.replications
    grid = planning.cells(sc, factors)
    guard(
        [(c.scenario, n) for c in grid],
        workers_or_default(workers),
        allow_long,
        folder,
        "this sweep",
    )
    progress = progress_for(quiet)
    try:
        table, ran = planning.run_sweep(
            sc, factors, folder, n, sc.seed, workers_or_default(workers), scheduler, force, progress
        )
    except planning.SweepError as exc:
        fail(str(exc))
    finally:
        progress.close()
    outputs.write_file_atomic(
        folder / "dashboard.html", pages.sweep_page(sc, table, factors, kpi, n)
    )
    if not quiet:
        cells_total = table["cell"].nunique()
        click.echo(f"{cells_total} cells: {ran} run now, {cells_total - ran} already done")
        met = table.drop_duplicates("cell")["all_targets_met"]
        if met.notna().any():
            click.echo(f"{int(met.fillna(False).sum())} cells meet every target")
        click.echo(f"Sweep folder: {folder} (sweep.parquet, sweep.csv, dashboard.html)")


@main.command()
@click.argument("scenario", required=False)
@experiment_options
@click.option(
    "--vary",
    "varies",
    multiple=True,
    required=True,
    metavar="KEY=LOW..HIGH",
    help="A capacity to choose (repeatable), e.g. staff.therapists.count=1..5.",
)
@click.option(
    "--target",
    "targets",
    multiple=True,
    metavar="KPI<=VALUE",
    help="A service target (repeatable); adds to or replaces the scenario's [targets].",
)
@click.option(
    "--cost", "cost_kpi", default="cost_per_week", show_default=True, help="The KPI to minimise."
)
@click.option(
    "--runners-up",
    type=click.IntRange(0, 20),
    default=2,
    show_default=True,
    help="How many next-cheapest combinations to show.",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Plan folder (default: outputs/plan-<scenario>-<time>).",
)
@click.option("--force", is_flag=True, help="Replace the folder if it exists.")
def plan(
    scenario,
    replications,
    seed,
    weeks,
    warmup_weeks,
    overrides,
    workers,
    scheduler,
    quiet,
    allow_long,
    varies,
    targets,
    cost_kpi,
    runners_up,
    out,
    force,
):
    """Find the cheapest combination of --vary capacities that meets every target with confidence."""
    from simulation import outputs, planning
    from simulation.dashboard import page as pages
    from simulation.kpis import describe, fmt

    if isinstance(replications, str):
        fail("--replications auto is for run; give a number")
    sc = load_scenario(
        scenario, overrides, horizon_weeks=weeks, warmup_weeks=warmup_weeks, seed=seed
    )
    try:
        describe(cost_kpi)
        factors = [planning.parse_factor(v, "--vary") for v in varies]
        extra = planning.parse_targets(targets)
    except KeyError:
        fail(f"--cost {cost_kpi!r}: not a KPI")
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    chosen = {k: (k, op, bound) for k, op, bound in sc.target_list()}
    chosen.update({t[0]: t for t in extra})
    folder = out or _folder_or_default(None, f"plan-{sc.name}")
    try:
        outputs.check_writable(folder, force)
    except OutputError as exc:
        fail(str(exc))
    grid = planning.cells(sc, factors)
    guard(
        [(c.scenario, replications or sc.replications) for c in grid],
        workers_or_default(workers),
        allow_long,
        folder,
        "this plan (if every combination had to be simulated)",
    )
    say = (
        (lambda text: None)
        if quiet
        else (lambda text: click.echo(f"  tried {safe_text(text)}", err=True))
    )
    try:
        result = planning.plan(
            sc,
            factors,
            list(chosen.values()),
            replications or sc.replications,
            sc.seed,
            cost_kpi,
            runners_up,
            workers_or_default(workers),
            scheduler,
            say,
        )
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    table = result.table()
    lines = _plan_lines(result, fmt, describe)
    page = pages.plan_page(sc, table, lines, list(chosen))
    manifest = {
        "kind": "plan",
        "scenario": scenarios.to_data(sc),
        "vary": [{"key": f.key, "values": list(f.values)} for f in factors],
        "targets": [list(t) for t in chosen.values()],
        "cost": cost_kpi,
        "seed": sc.seed,
        "replications": replications or sc.replications,
        "evaluated": result.evaluated,
        "combinations": len(result.candidates),
        "notes": result.notes,
        "command": ["iopsim", *sys.argv[1:]],
    }
    try:
        outputs.write_folder(
            folder, {"manifest.json": manifest, "plan.csv": table, "dashboard.html": page}, force
        )
    except OutputError as exc:
        fail(str(exc))
    if not quiet:
        click.echo("\n".join(lines))
        click.echo(f"Plan folder: {folder}")


def _plan_lines(result, fmt, describe) -> list[str]:
    pruned = sum(c.status == "pruned" for c in result.candidates)
    lines = [
        f"Simulated {result.evaluated} of {len(result.candidates)} combinations; "
        f"{pruned} known to fail without simulating (less capacity than a failure)."
    ]
    lines += result.notes
    for title, cands in (
        ("Recommended", [result.recommendation] if result.recommendation else []),
        ("Runner-up", result.runners_up),
    ):
        for c in cands:
            lines.append(f"{title}: {', '.join(c.overrides)}  (cost ${c.cost:,.0f}/wk)")
            for row in c.target_table.itertuples():
                unit = describe(row.kpi).unit
                summary = c.summary.set_index("kpi").loc[row.kpi]
                lines.append(
                    f"    {row.kpi} {row.target}: {fmt(summary['mean'], unit)} "
                    f"(95% CI {fmt(summary['ci_low'], unit)} to {fmt(summary['ci_high'], unit)}) {'met' if row.met else 'NOT met'}"
                )
    return lines


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
            f"{safe_text(sc.name)}: {replications} replications, {sc.horizon_weeks} weeks after {sc.warmup_weeks} weeks warm-up"
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
