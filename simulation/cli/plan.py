"""``iopsim plan``: the cheapest capacities that meet every target with confidence."""

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
    out_option,
    say,
    scenario_inputs,
    warn_unused_changes,
    write_folder,
)

ROBUST_REPLICATIONS = 3  # replications in each future, unless --replications says


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
    "--robust",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=None,
    metavar="P",
    help="Meet every target in at least this share of plausible futures of the uncertain "
    "inputs (second-order Monte Carlo), e.g. 0.9.",
)
@click.option(
    "--futures",
    type=click.IntRange(5, 2000),
    default=40,
    show_default=True,
    help="With --robust: futures drawn (Latin hypercube); --replications (default 3) runs in each.",
)
@click.option(
    "--uncertain",
    "uncertain",
    multiple=True,
    metavar="KEY=LOW..HIGH",
    help="With --robust: an uncertain input (repeatable), added to the scenario's "
    "[uncertainty] (or, without one, to the values its file marks [E]).",
)
@click.option(
    "--budget",
    type=click.FloatRange(0.0, min_open=True),
    default=None,
    metavar="MONEY",
    help="A budget a week (of --cost per week) across the network: dearer combinations are not "
    "run, and if none within it meets every target the plan says which comes closest.",
)
@out_option("Plan folder (default: outputs/plan-<scenario>-<time>).")
@force_option()
def plan(
    scenario,
    exp,
    varies,
    targets,
    cost_kpi,
    runners_up,
    robust,
    futures,
    uncertain,
    budget,
    out,
    force,
):
    """Find the cheapest combination of --vary capacities that meets every target with confidence.

    Combinations that are not a valid clinic are marked infeasible in plan.csv and skipped."""
    from simulation import config as scenarios
    from simulation import planning
    from simulation.dashboard import page as pages
    from simulation.kpis import describe

    replications, quiet = exp.fixed_replications(), exp.quiet
    sc = exp.load(scenario)
    try:
        describe(cost_kpi)
    except KeyError:
        fail(f"--cost {cost_kpi!r}: not a KPI")
    try:
        factors = [planning.parse_factor(v, "--vary") for v in varies]
        planning.check_factors(factors, "--vary")
        extra = planning.parse_targets(targets)
        grid = planning.cells(sc, factors)
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    warn_unused_changes(sc, [f.key for f in factors])
    drawn = None
    if robust is not None:
        from simulation.robust import Futures

        inputs = scenario_inputs(scenario, sc, uncertain)
        try:
            drawn = Futures.draw(inputs, futures, robust, sc.seed)
        except scenarios.ScenarioError as exc:
            fail(str(exc))
    elif uncertain:
        fail("--uncertain is for --robust P: give the share of futures the plan must hold in")
    chosen = {k: (k, op, bound) for k, op, bound in sc.target_list()}
    chosen.update({t[0]: t for t in extra})
    folder = folder_or_default(out, f"plan-{sc.name}")
    check_folder(folder, force)
    # in each future, a few replications: the futures already average over the clinic's noise
    replications = replications or (ROBUST_REPLICATIONS if drawn else sc.replications)
    per_combination = replications * (futures if drawn else 1)
    exp.guard(
        [(c.scenario, per_combination) for c in grid if c.scenario is not None],
        folder,
        "this plan (if every combination had to be simulated)",
    )
    tell = (lambda text: None) if quiet else (lambda text: say(f"  tried {text}", err=True))
    try:
        result = planning.plan(
            sc,
            factors,
            list(chosen.values()),
            replications,
            sc.seed,
            cost_kpi,
            runners_up,
            exp.worker_count,
            exp.scheduler,
            tell,
            drawn,
            budget,
        )
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    from simulation.brief import as_markdown, plan_brief

    table = result.table()
    lines = plan_lines(result)
    page = pages.plan_page(sc, table, lines, list(chosen), robust)
    manifest = {
        "kind": "plan",
        "scenario": scenarios.to_data(sc),
        "vary": [{"key": f.key, "values": list(f.values)} for f in factors],
        "targets": [list(t) for t in chosen.values()],
        "cost": cost_kpi,
        "budget": budget,
        "seed": sc.seed,
        "replications": replications,
        "evaluated": result.evaluated,
        "combinations": len(result.candidates),
        "notes": result.notes,
        "findings": [line for _, part in plan_brief(lines)[:1] for line in part],
        "robust": None
        if drawn is None
        else {
            "required_share": robust,
            "futures": futures,
            "inputs": [
                {"key": i.key, "low": i.low, "high": i.high, "source": i.source}
                for i in drawn.inputs
            ],
        },
        "command": ["iopsim", *sys.argv[1:]],
    }
    sections = plan_brief(lines)
    brief = as_markdown(f"Brief: plan for {sc.name}", sections)
    from simulation.workbook import tables_workbook

    workbook = tables_workbook(f"iopsim: plan for {sc.name}", sections, {"Plan": table})
    write_folder(
        folder,
        {
            "manifest.json": manifest,
            "plan.csv": table,
            "brief.md": brief,
            "dashboard.html": page,
            "results.xlsx": workbook,
        },
        force,
    )
    if not quiet:
        for line in lines:
            say(line)
        say(f"Plan folder: {folder}")


def plan_lines(result) -> list[str]:
    """The plan's outcome in a few lines: what was simulated, the recommendation, runners-up."""
    from simulation.kpis import describe, fmt_with_ci

    pruned = sum(c.status == "pruned" for c in result.candidates)
    infeasible = [c for c in result.candidates if c.status.startswith("infeasible")]
    lines = [
        f"Simulated {result.evaluated} of {len(result.candidates)} combinations; "
        f"{pruned} known to fail without simulating (less capacity than a failure); "
        f"{len(infeasible)} infeasible."
    ]
    for c in infeasible[:5]:
        lines.append(f"  {', '.join(c.overrides)}: {c.status}")
    if len(infeasible) > 5:
        lines.append(f"  ... and {len(infeasible) - 5} more (see plan.csv)")
    lines += result.notes
    if result.futures is not None:
        f = result.futures
        lines.append(
            f"Robust: every target must hold in at least {100 * f.required:.0f}% of "
            f"{len(f.draws)} futures drawn over {len(f.inputs)} uncertain inputs "
            f"({', '.join(i.key for i in f.inputs[:6])}{', ...' if len(f.inputs) > 6 else ''})."
        )
    if result.futures is not None and result.recommendation is None:
        for c in result.candidates:
            if c.verdict is not None:
                v = c.verdict
                lines.append(
                    f"{', '.join(c.overrides)}: every target holds in {100 * v.share:.0f}% of "
                    f"futures (95% CI {100 * v.low:.0f}-{100 * v.high:.0f}%; required "
                    f"{100 * result.futures.required:.0f}%): "
                    + ", ".join(f"{k} {100 * x:.0f}%" for k, x in v.by_target.items())
                )
    for title, cands in (
        ("Recommended", [result.recommendation] if result.recommendation else []),
        ("Runner-up", result.runners_up),
    ):
        for c in cands:
            lines.append(f"{title}: {', '.join(c.overrides)}  (cost ${c.cost:,.0f}/wk)")
            if c.verdict is not None:
                v = c.verdict
                lines.append(
                    f"    all targets hold in {100 * v.share:.0f}% of futures (95% CI "
                    f"{100 * v.low:.0f}-{100 * v.high:.0f}%)"
                    + (f"; {v.invalid} future(s) were no valid clinic" if v.invalid else "")
                )
                for kpi, share in v.by_target.items():
                    lines.append(f"    {kpi}: holds in {100 * share:.0f}% of futures")
                continue
            for row in c.target_table.itertuples():
                unit = describe(row.kpi).unit
                summary = c.summary.set_index("kpi").loc[row.kpi]
                lines.append(
                    f"    {row.kpi} {row.target}: "
                    + fmt_with_ci(
                        summary["mean"], summary["ci_low"], summary["ci_high"], unit, weeks=False
                    )
                    + f" {'met' if row.met else 'NOT met'}"
                )
    return lines
