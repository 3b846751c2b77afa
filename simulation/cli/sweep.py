"""``iopsim sweep``: the full factorial of a grid of scenario values, resumable."""

from __future__ import annotations

import click

from simulation.cli import main
from simulation.cli.common import (
    experiment_options,
    fail,
    folder_or_default,
    force_option,
    out_option,
    progress_for,
    say,
    warn_unused_changes,
)


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
@out_option(
    "Sweep folder (default: outputs/sweep-<scenario>-<time>); rerun with the same --out to resume."
)
@force_option("Start afresh if --out holds a different sweep.")
def sweep(
    scenario,
    exp,
    grids,
    kpi,
    out,
    force,
):
    """Run the full factorial of --grid factors; resumable, one long table of cell x KPI.

    Combinations that are not a valid clinic (say, more seats than any room holds) are
    reported as infeasible in the table and the dashboard; the others run."""
    from simulation import config as scenarios
    from simulation import outputs, planning
    from simulation.dashboard import page as pages
    from simulation.kpis import describe

    replications, quiet = exp.fixed_replications(), exp.quiet
    sc = exp.load(scenario)
    try:
        factors = [planning.parse_factor(g) for g in grids]
        planning.check_factors(factors, "--grid")
        grid = planning.cells(sc, factors)
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    warn_unused_changes(sc, [f.key for f in factors])
    target_kpis = [t[0] for t in sc.target_list()]
    kpi = kpi or (target_kpis[0] if target_kpis else "wait_to_iop_days_mean")
    try:
        describe(kpi)
    except KeyError:
        fail(f"--kpi {kpi!r}: not a KPI")
    folder = folder_or_default(out, f"sweep-{sc.name}")
    try:
        outputs.lock_folder(folder)  # one sweep at a time in a folder
    except outputs.OutputError as exc:
        fail(str(exc))
    if folder.exists() and not (folder / "manifest.json").exists():
        fail(f"{folder} exists and is not a sweep folder; choose another --out")
    n = replications or sc.replications
    exp.guard([(c.scenario, n) for c in grid if c.scenario is not None], folder, "this sweep")
    progress = progress_for(quiet)
    try:
        table, ran = planning.run_sweep(
            sc, factors, folder, n, sc.seed, exp.worker_count, exp.scheduler, force, progress
        )
    except planning.SweepError as exc:
        fail(str(exc))
    finally:
        progress.close()
    outputs.write_file_atomic(
        folder / "dashboard.html", pages.sweep_page(sc, table, factors, kpi, n)
    )
    weekly = planning.read_weekly(folder, list(table["cell"].unique()))
    outputs.write_file_atomic(
        folder / "explorer.html", pages.explorer_page(sc, table, factors, weekly, n)
    )
    outputs.COMPLETED.append(folder)  # every cell, the tables and the dashboard are written
    if not quiet:
        by_cell = table.drop_duplicates("cell")
        infeasible = by_cell["status"].str.startswith("infeasible")
        say(
            f"{len(by_cell)} cells: {ran} run now, {len(by_cell) - ran - int(infeasible.sum())} "
            f"already done, {int(infeasible.sum())} infeasible"
        )
        for row in by_cell[infeasible].itertuples():
            say(f"  {row.overrides}: {row.status}")
        met = by_cell["all_targets_met"]
        if met.notna().any():
            say(f"{int(met.fillna(False).astype(bool).sum())} cells meet every target")
        climbing = [
            q for q in by_cell.get("queues_without_end", []) if isinstance(q, str) and q
        ]  # (cells of a sweep made before this column have none)
        if climbing:
            say(
                f"WARNING: in {len(climbing)} cells a queue climbs without end (queues_without_end "
                "in sweep.csv): their waits depend on how long the run is and mean little"
            )
        say(f"Sweep folder: {folder} (sweep.parquet, sweep.csv, dashboard.html, explorer.html)")
