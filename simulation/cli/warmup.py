"""``iopsim warmup``: MSER-5 warm-up suggestion and a Welch plot."""

from __future__ import annotations

import time
from pathlib import Path

import click

from simulation.cli import main
from simulation.cli.common import (
    check_folder,
    load_scenario,
    out_option,
    replications_option,
    say,
    set_option,
    workers_option,
    workers_or_default,
)


@main.command()
@click.argument("scenario", required=False)
@click.option(
    "--weeks",
    type=click.IntRange(20, 1040),
    help="Weeks per pilot run (default: max(156, 3 x warm-up)).",
)
@replications_option(5, 2, "Pilot replications.")
@set_option
@click.option(
    "--window",
    type=click.IntRange(1, 52),
    default=4,
    show_default=True,
    help="Moving-average half-width in weeks.",
)
@workers_option
@out_option("Welch plot HTML (default: outputs/warmup-<scenario>-<time>.html).")
def warmup(scenario, weeks, replications, overrides, window, workers, out):
    """Suggest a warm-up length for SCENARIO by MSER-5 on the weekly IOP census and waitlist
    (and each level of care's places held and waiting list)."""
    from simulation import experiment, outputs
    from simulation.dashboard import page as pages

    sc = load_scenario(scenario, overrides)
    out = out or Path("outputs") / (
        f"warmup-{outputs.safe_name(sc.name)}-{time.strftime('%Y%m%d-%H%M%S')}.html"
    )
    check_folder(out, False)
    suggestion, means = experiment.warmup_pilot(
        sc, weeks=weeks, replications=replications, workers=workers_or_default(workers)
    )
    best = max(suggestion.values())
    for name, value in suggestion.items():
        say(f"  MSER-5 on {name}: {value} weeks")
    if sc.state is not None:  # (its first weeks are the forecast, not a clinic filling)
        say(
            f"No warm-up applies: the scenario starts from the clinic's state on "
            f"{sc.state.as_of}, not from an empty clinic, so its first weeks are what the "
            "forecast is for (MSER-5 reads the move from that state as settling)."
        )
    else:
        verdict = "long enough" if sc.warmup_weeks >= best else "SHORTER than suggested"
        say(
            f"Suggested warm-up: {best} weeks; the scenario has {sc.warmup_weeks} weeks "
            f"({verdict})."
        )
    page = pages.warmup_page(sc, means, best, replications, window)
    outputs.write_file_atomic(out, page)
    say(f"Welch plot: {out}")
