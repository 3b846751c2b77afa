"""``iopsim forecast`` and ``iopsim backtest``: the coming weeks from where the clinic stands,
and how well that would have predicted its recent past."""

from __future__ import annotations

import sys
from pathlib import Path

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
    replications_option,
    say,
    split_overrides,
    warn_unused_changes,
    workers_option,
    write_folder,
)
from simulation.cli.data import extract_options


def _forecast_lines(bands) -> list[str]:
    wide = bands.pivot_table(index=["week", "date"], columns="series", values=["p25", "p50", "p75"])
    lines = [
        "Forecast (median, 50% band) by week:",
        f"  {'week of':<11} {'in IOP':>14} {'IOP waitlist':>14} {'intake waitlist':>16} {'admissions':>12}",
    ]
    for (_week, date), row in wide.iterrows():
        cells = []
        for series, width in (
            ("iop_census", 14),
            ("iop_waitlist", 14),
            ("intake_waitlist", 16),
            ("admissions", 12),
        ):
            text = f"{row[('p50', series)]:.1f} ({row[('p25', series)]:.0f}-{row[('p75', series)]:.0f})"
            cells.append(f"{text:>{width}}")
        lines.append(f"  {str(date.date()):<11} " + " ".join(cells))
    from simulation.results import FORECAST_SERIES, series_name

    for series in [s for s in bands["series"].unique() if s not in FORECAST_SERIES]:
        first, last = wide.index[0], wide.index[-1]  # (a continuum's levels, a network's sites)
        ends = [
            f"{wide.loc[at, ('p50', series)]:.1f} ({wide.loc[at, ('p25', series)]:.0f}-"
            f"{wide.loc[at, ('p75', series)]:.0f}) in the week of {at[1].date()}"
            for at in (first, last)
        ]
        lines.append(f"  {series_name(series)}: {ends[0]} -> {ends[1]}")
    return lines


def _simulate(sc, exp, n, quiet):
    from simulation import experiment, results

    progress = progress_for(quiet)
    try:
        result = experiment.run_experiment(
            sc,
            replications=n,
            workers=exp.worker_count,
            scheduler=exp.scheduler,
            progress=progress,
            detail="forecast",
        )
    finally:
        progress.close()
    result.summary = result.summary[result.summary["n"] > 0]  # what a forecast does not compute
    return result, results.forecast_bands(result.tables["weekly"], begins=sc.state.as_of)


@main.command()
@click.argument("scenario")
@experiment_options
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar='"KEY=VALUE ..."',
    help="Forecast a variant instead (space-separated overrides).",
)
@out_option("Forecast folder (default: outputs/forecast-<scenario>-<time>).")
@force_option()
@json_option
def forecast(scenario, exp, variants, out, force, as_json):
    """Forecast SCENARIO week by week from its [state] (see iopsim fit --as-of), with 50% and
    90% prediction bands; --weeks sets how far (default: the scenario's horizon)."""
    import json

    from simulation import config as scenarios
    from simulation.dashboard.page import forecast_page

    sc = exp.load(scenario)
    if sc.state is None:
        fail(
            f"{scenario}: has no [state]; write one with iopsim fit EXTRACT --as-of DATE (docs/data.md)"
        )
    for text in variants:
        try:
            sc = scenarios.apply_overrides(sc, split_overrides(text))
        except scenarios.ScenarioError as exc:
            fail(f"--variant {text!r}: {exc}")
        warn_unused_changes(sc, split_overrides(text))
    n = exp.fixed_replications() or sc.replications
    folder = folder_or_default(out, f"forecast-{sc.name}")
    check_folder(folder, force)
    exp.guard([(sc, n)], folder, "this forecast")
    result, bands = _simulate(sc, exp, n, exp.quiet or as_json)
    page = forecast_page(sc, bands, result.summary, result.targets, result.info())
    from simulation.outputs import manifest

    write_folder(
        folder,
        {
            "manifest.json": manifest(result, ["iopsim", *sys.argv[1:]], {"kind": "forecast"}),
            "forecast.csv": bands,
            "summary.csv": result.summary,
            "kpis.csv": result.kpis,
            "weekly.parquet": result.tables["weekly"],
            "dashboard.html": page,
        },
        force,
    )
    if as_json:
        click.echo(
            json.dumps(
                {
                    "folder": str(folder),
                    "forecast": json.loads(bands.to_json(orient="records", date_format="iso")),
                },
                indent=2,
            )
        )
        return
    if not exp.quiet:
        say(
            f"{sc.name}: {n} replications from the state on {sc.state.as_of} ({len(sc.state.clients)} clients on the books)"
        )
        for line in _forecast_lines(bands):
            say(line)
        from simulation.results import partial_week

        partial = partial_week(sc.state.as_of)
        if partial:
            say(partial)
        say(f"Forecast folder: {folder}")


def against_records(bands, everything, cut, weeks: int, direct=None, sites=()):
    """A forecast's bands from ``cut`` against what the records show happened: the observed
    weekly series, the coverage table per series, and the lines that say it (the table, where
    the model did worse than carrying the last value forward, series that left the 90% band,
    and when the census or admissions ran off it one way, capacity as the likely cause);
    ``direct``: the scenario's sources sent straight to a level (``state.direct_sources``),
    whose referrals the records hold as that level's rows; ``sites``: the scenario's, whose
    records alone are compared (rows of other sites are left out of the fit too)."""
    import pandas as pd

    from simulation import results
    from simulation.data.state import weekly_observed
    from simulation.fit.network import at_template_sites

    everything, _ = at_template_sites(everything, list(sites))

    monday = cut.normalize() - pd.Timedelta(days=cut.weekday())
    observed = weekly_observed(everything, monday, weeks + 1, direct)
    observed = observed[observed["date"] + pd.Timedelta(days=7) <= everything.as_of]
    before = weekly_observed(everything, monday - pd.Timedelta(weeks=1), 1, direct).iloc[0]
    last = {s: float(before[s]) for s in results.backtest_series(observed)}
    compared = observed[observed["week"] >= 1]  # week 0 is the week the forecast starts in
    table = results.backtest_table(bands, compared, last)
    wide = max([14, *(len(s) for s in table["series"])]) if len(table) else 14
    lines = [
        f"  {'series':<{wide}} {'in 50% band':>12} {'in 90% band':>12} {'error (model)':>14} "
        f"{'error (naive)':>14}",
    ]
    for row in table.itertuples():
        lines.append(
            f"  {row.series:<{wide}} {100 * row.coverage_50:>11.0f}% "
            f"{100 * row.coverage_90:>11.0f}% {row.mae_model:>14.2f} {row.mae_naive:>14.2f}"
        )
    worse = table[~table["model_better"]]
    for row in worse.itertuples():
        lines.append(
            f"The model did WORSE than the naive forecast (last value carried forward) for {row.series}."
        )
    low = table[table["coverage_90"] < 0.8]
    for row in low.itertuples():
        lines.append(
            f"Only {100 * row.coverage_90:.0f}% of weeks of {row.series} fell in the 90% band: the clinic "
            "changed, or the model misses something (see docs/data.md)."
        )
        if row.series in ("iop_census", "admissions") and abs(row.above_minus_below_90) >= 0.5:
            way = "above" if row.above_minus_below_90 > 0 else "below"
            lines.append(
                f"  {row.series} ran {way} the band week after week: the clinic's capacity "
                "(seats, therapists' caseload places, staff in post) likely changed after "
                f"{cut.date()}; fit again on records since then, or give --staff."
            )
    return observed, table, lines


def _tell(folder, key: str, table, lines: list[str], as_json: bool, label: str) -> None:
    """Print a comparison's lines and folder, or its table as JSON."""
    import json

    if as_json:
        records = json.loads(table.to_json(orient="records"))
        click.echo(json.dumps({"folder": str(folder), key: records}, indent=2))
        return
    for line in lines:
        say(line)
    say(f"{label}: {folder}")


def missed_weeks(bands, observed) -> list[str]:
    """The weeks each series fell outside the forecast's 90% band, by date and side."""
    from simulation import results

    lines = []
    compared = observed[observed["week"] >= 1].set_index("week")
    for series in results.backtest_series(observed):
        b = bands[bands["series"] == series].set_index("week")
        out = [
            f"{compared.loc[w, 'date'].date()} "
            f"({'above' if compared.loc[w, series] > b.loc[w, 'p95'] else 'below'})"
            for w in compared.index
            if w in b.index
            and not b.loc[w, "p5"] - 1e-9 <= compared.loc[w, series] <= b.loc[w, "p95"] + 1e-9
        ]
        if out:
            lines.append(f"  {series}: outside the 90% band in the weeks of {', '.join(out)}")
    return lines


@main.command()
@click.argument("extract", type=click.Path(path_type=Path))
@extract_options
@click.option(
    "--train-until", required=True, help="Fit on the records before this date, forecast from it."
)
@click.option(
    "--weeks",
    type=click.IntRange(1, 104),
    default=13,
    show_default=True,
    help="Weeks to forecast and compare.",
)
@replications_option(40, 2, "Replications of the forecast.")
@workers_option
@click.option(
    "--parameter-uncertainty/--no-parameter-uncertainty",
    default=True,
    show_default=True,
    help="Each replication draws the fitted values from their CIs (the bands then hold what "
    "the data cannot pin down too).",
)
@click.option(
    "--allow-long",
    is_flag=True,
    help="Run even if estimated to take over 2 hours or half the memory.",
)
@out_option("Back-test folder (default: outputs/backtest-<time>).")
@force_option()
@json_option
def backtest(
    extract,
    records,
    template,
    train_until,
    weeks,
    replications,
    workers,
    parameter_uncertainty,
    out,
    allow_long,
    force,
    as_json,
):
    """Fit on EXTRACT's records before --train-until, forecast the next --weeks from the state
    then, and compare with what the extract shows happened (band coverage, error against a
    naive forecast)."""

    from simulation import experiment, results
    from simulation.cli.common import guard, load_scenario, workers_or_default
    from simulation.config import to_data
    from simulation.dashboard.page import backtest_page
    from simulation.data.extract import ExtractError, as_of_date, as_seen_on
    from simulation.data.state import direct_sources
    from simulation.fit.clinic import fitted_scenario

    folder = folder_or_default(out, "backtest")
    check_folder(folder, force)
    base = load_scenario(template)
    everything, people = records.read(extract, named_as=base)
    try:
        cut = as_of_date(everything, train_until, "--train-until")
    except ExtractError as exc:
        fail(str(exc))
    if not everything.table["referral_date"].min() < cut < everything.as_of:
        fail(
            f"--train-until {cut.date()}: must fall inside the extract ({everything.table['referral_date'].min().date()} to {everything.as_of.date()})"
        )
    compared_weeks = (everything.as_of - cut).days // 7
    if compared_weeks < 1:
        fail(
            f"--train-until {cut.date()}: less than a week before the extract ends "
            f"({everything.as_of.date()}): nothing to compare the forecast with"
        )
    seen = as_seen_on(everything, cut)
    from simulation.config import ScenarioError

    try:
        sc, fit, _ = fitted_scenario(
            seen, base, with_state=True, horizon_weeks=weeks + 1, staff=people
        )
    except ScenarioError as exc:
        fail(f"the fitted values do not make a valid clinic with template {template}: {exc}")
    # the same guard as run: a forecast of a large clinic, many weeks and replications is
    # refused up front with its estimate (exit 2) unless --allow-long
    guard([(sc, replications)], workers_or_default(workers), allow_long, folder, "this back-test")
    if parameter_uncertainty:
        from simulation.fit.uncertainty import run_with_uncertainty

        result = run_with_uncertainty(sc, fit.evidence, replications, workers_or_default(workers))
    else:
        result = experiment.run_experiment(
            sc, replications=replications, workers=workers_or_default(workers), detail="forecast"
        )
    bands = results.forecast_bands(result.tables["weekly"], as_recorded=True)
    observed, table, judged = against_records(
        bands, everything, cut, weeks, direct_sources(sc), [site.name for site in sc.sites]
    )
    lines = [
        f"Back-test: fitted on {len(seen.table)} referrals before {cut.date()}, forecast {weeks} weeks, "
        f"{replications} replications, compared over {int(table['weeks'].max())} weeks.",
        *judged,
    ]
    page = backtest_page(sc, bands, observed, table, lines)
    write_folder(
        folder,
        {
            "manifest.json": {
                "kind": "backtest",
                "extract_rows": len(everything.table),
                "train_until": str(cut.date()),
                "weeks": weeks,
                "replications": replications,
                "seed": sc.seed,
                "command": ["iopsim", *sys.argv[1:]],
                "scenario": to_data(sc),
            },
            "backtest.csv": table,
            "forecast.csv": bands,
            "observed.csv": observed,
            "dashboard.html": page,
        },
        force,
    )
    _tell(folder, "backtest", table, lines, as_json, "Back-test folder")


@main.command()
@click.argument("forecast_folder", type=click.Path(path_type=Path))
@click.argument("extract", type=click.Path(path_type=Path))
@extract_options
@out_option("Folder for the verdict (default: outputs/judged-<time>).")
@force_option()
@json_option
def judge(forecast_folder, extract, records, template, out, force, as_json):
    """Judge a forecast kept in FORECAST_FOLDER (iopsim forecast) against EXTRACT, the clinic's
    records as they stand now: the weeks since the forecast's date, the coverage of its 50% and
    90% bands, its error against carrying the last value forward, and the weeks it missed."""
    import json

    import pandas as pd

    from simulation import results
    from simulation.config import ScenarioError, validate
    from simulation.dashboard.page import backtest_page
    from simulation.data.state import direct_sources

    manifest_path = forecast_folder / "manifest.json"
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        weekly = pd.read_parquet(forecast_folder / "weekly.parquet")
    except (OSError, ValueError):
        fail(
            f"{forecast_folder}: not a folder written by iopsim forecast "
            "(no manifest.json and weekly.parquet)"
        )
    if manifest.get("kind") != "forecast":
        fail(f"{forecast_folder}: a {manifest.get('kind', 'run')} folder, not a forecast's")
    try:
        sc = validate(manifest["scenario"], str(manifest_path))
    except (ScenarioError, KeyError):
        fail(f"{forecast_folder}: its manifest holds no valid scenario")
    folder = folder_or_default(out, "judged")
    check_folder(folder, force)
    everything, _ = records.read(extract, named_as=sc)
    cut = pd.Timestamp(sc.state.as_of)
    weeks = sc.horizon_weeks
    if everything.as_of < cut + pd.Timedelta(days=14):
        fail(
            f"{extract}: the records end on {everything.as_of.date()}, less than two weeks after "
            f"the forecast's date ({cut.date()}): nothing to judge it on yet"
        )
    bands = results.forecast_bands(weekly, as_recorded=True)
    observed, table, judged = against_records(
        bands, everything, cut, weeks, direct_sources(sc), [site.name for site in sc.sites]
    )
    lines = [
        f"Forecast of {cut.date()} ({weeks} weeks) judged against {int(table['weeks'].max())} "
        f"weeks of records up to {everything.as_of.date()}.",
        *judged,
        *missed_weeks(bands, observed),
    ]
    write_folder(
        folder,
        {
            "manifest.json": {
                "kind": "judged",
                "forecast": str(forecast_folder),
                "forecast_date": str(cut.date()),
                "extract_rows": len(everything.table),
                "records_until": str(everything.as_of.date()),
                "command": ["iopsim", *sys.argv[1:]],
            },
            "judged.csv": table,
            "observed.csv": observed,
            "forecast.csv": bands,
            "dashboard.html": backtest_page(sc, bands, observed, table, lines),
        },
        force,
    )
    _tell(folder, "judged", table, lines, as_json, "Verdict folder")
