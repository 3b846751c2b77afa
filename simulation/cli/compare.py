"""``iopsim compare``: several scenarios (or run folders) with paired differences to the first."""

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
    out_option,
    progress_for,
    say,
    split_overrides,
    warn_unused_changes,
    write_folder,
)
from simulation.cli.text import comparison_lines


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
@out_option("Comparison folder (default: outputs/compare-<time>).")
@force_option()
def compare(
    scenarios_or_runs,
    exp,
    variants,
    out,
    force,
):
    """Compare scenarios (files, bundled names or run folders) with paired differences to the first."""
    import pandas as pd

    from simulation import config as scenarios
    from simulation import outputs, planning
    from simulation.dashboard import page as pages

    replications, seed, quiet = exp.fixed_replications(), exp.seed, exp.quiet
    if not scenarios_or_runs:
        scenarios_or_runs = ("baseline",)
    if len(scenarios_or_runs) + len(variants) < 2:
        fail("give at least two scenarios or run folders, or one scenario and --variant")
    folder = folder_or_default(out, "compare")
    check_folder(folder, force)
    labels, kpis, weekly, seeds, to_run, data, studied = [], [], [], [], [], [], []
    for item in scenarios_or_runs:
        if Path(item).is_dir():
            try:
                run_data = outputs.read_run(item)
            except (outputs.OutputError, scenarios.ScenarioError) as exc:
                fail(str(exc))
            labels.append(f"{run_data.scenario.name} ({Path(item).name})")
            kpis.append(run_data.kpis)
            weekly.append(run_data.table("weekly"))
            seeds.append(run_data.manifest.get("seed"))
            data.append(scenarios.to_data(run_data.scenario))
            studied.append(run_data.scenario)
        else:
            sc = exp.load(item, with_replications=True)
            studied.append(sc)
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
            sc = scenarios.apply_overrides(first, split_overrides(text))
        except (scenarios.ScenarioError, ValueError) as exc:
            fail(f"--variant {text!r}: {exc}")
        warn_unused_changes(sc, split_overrides(text))
        labels.append(f"{first.name} + {text}")
        studied.append(sc)
        to_run.append((len(labels) - 1, sc))
        kpis.append(None)
        weekly.append(None)
        seeds.append(None)
        data.append(scenarios.to_data(sc))
    labels = [
        f"{label} [{i + 1}]" if labels.count(label) > 1 else label for i, label in enumerate(labels)
    ]
    if to_run:
        run_seed = seed if seed is not None else to_run[0][1].seed
        n = replications or to_run[0][1].replications
        exp.guard([(sc, n) for _, sc in to_run], folder, "this comparison")
        progress = progress_for(quiet)
        try:
            results = planning.run_many(
                [sc for _, sc in to_run],
                n,
                run_seed,
                exp.worker_count,
                exp.scheduler,
                progress=progress,
            )
        finally:
            progress.close()
        for (position, _), (_, result) in zip(to_run, sorted(results.items()), strict=True):
            kpis[position] = result.kpis
            weekly[position] = result.tables["weekly"]
            seeds[position] = run_seed
    table = planning.comparison_table(labels, kpis, seeds)
    from simulation.results import overloaded_queues

    climbing = {  # as each one's run would say OVERLOADED
        label: list(overloaded_queues(sc, w).values())
        for label, sc, w in zip(labels, studied, weekly, strict=True)
    }
    stacked_kpis = pd.concat(
        [k.copy().assign(scenario=label) for label, k in zip(labels, kpis, strict=True)],
        ignore_index=True,
    )
    stacked_weekly = pd.concat(
        [w.assign(scenario=label) for label, w in zip(labels, weekly, strict=True)],
        ignore_index=True,
    )
    from simulation.brief import as_markdown, compare_brief

    first_targets = scenarios.validate(data[0], labels[0]).target_list()
    page = pages.comparison_page(
        table, labels, dict(zip(labels, weekly, strict=True)), first_targets, climbing
    )
    sections = compare_brief(table, labels, first_targets, climbing)
    brief = as_markdown("Brief: comparison", sections)
    from simulation.workbook import tables_workbook

    workbook = tables_workbook("iopsim: comparison", sections, {"Comparison": table})
    manifest = {
        "kind": "compare",
        "labels": labels,
        "seeds": seeds,
        "scenarios": data,
        "command": ["iopsim", *sys.argv[1:]],
    }
    write_folder(
        folder,
        {
            "manifest.json": manifest,
            "comparison.csv": table,
            "brief.md": brief,
            "kpis.csv": stacked_kpis,
            "weekly.parquet": stacked_weekly,
            "dashboard.html": page,
            "results.xlsx": workbook,
        },
        force,
    )
    if not quiet:
        for label, queues in climbing.items():
            if queues:
                say(
                    f"WARNING: OVERLOADED in {label}: the {' and the '.join(queues)} climbs "
                    "without end, so its waits depend on how long the run is and mean little."
                )
        for line in comparison_lines(table, labels):
            say(line)
        say(f"Comparison folder: {folder}")
