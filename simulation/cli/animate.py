"""``iopsim animate``: the clinic animated from its event log, a page of its own."""

from __future__ import annotations

from pathlib import Path

import click

from simulation.cli import main
from simulation.cli.common import fail, load_scenario, say, set_option


@main.command()
@click.argument("run_or_scenario", required=False)
@click.option(
    "--from-week",
    type=click.IntRange(0, 1040),
    default=None,
    help="First week shown (default: the first week after the warm-up).",
)
@click.option(
    "--weeks", type=click.IntRange(1, 13), default=4, show_default=True, help="Weeks shown."
)
@click.option(
    "--step-hours",
    type=click.FloatRange(0.25, 24),
    default=2.0,
    show_default=True,
    help="Hours between frames.",
)
@set_option
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="The page (default: RUN_DIR/animation.html, or outputs/animation-<scenario>.html).",
)
@click.option("--force", is_flag=True, help="Replace the page if it exists.")
def animate(run_or_scenario, from_week, weeks, step_hours, overrides, out, force):
    """Animate replication 1 of a run folder (its events.parquet, or the same replication
    simulated again: the same numbers) or of a scenario, for a few weeks."""
    from simulation import config as scenarios
    from simulation import outputs
    from simulation.dashboard.animation import animation_data, animation_page
    from simulation.replication import run_replication

    folder = Path(run_or_scenario) if run_or_scenario else None
    if folder is not None and folder.is_dir():
        if overrides:
            fail("--set is for a scenario; a run folder is animated as it was run")
        try:
            run = outputs.read_run(folder)
        except (outputs.OutputError, scenarios.ScenarioError) as exc:
            fail(str(exc))
        sc, seed = run.scenario, int(run.manifest.get("seed", run.scenario.seed))
        events, sessions = run.table("events"), run.table("sessions")
        if len(events) and "run_number" in events:
            events = events[events["run_number"] == 0]
            sessions = (
                sessions[sessions["replication"] == 0] if "replication" in sessions else sessions
            )
        else:
            result = run_replication(sc, 0, seed, with_event_log=True)
            events, sessions = result.events, result.sessions
        out = out or folder / "animation.html"
        where = f"run folder {folder.name}, replication 1"
    else:
        sc = load_scenario(run_or_scenario, overrides)
        result = run_replication(sc, 0, sc.seed, with_event_log=True)
        events, sessions = result.events, result.sessions
        out = out or Path("outputs") / f"animation-{outputs.safe_name(sc.name)}.html"
        where = f"replication 1 of the scenario, seed {sc.seed}"
    if out.exists() and not force:
        fail(f"{out} already exists; choose another --out or add --force")
    first = sc.warmup_weeks if from_week is None else from_week
    last = sc.warmup_weeks + sc.horizon_weeks
    if first + weeks > last:
        fail(
            f"--from-week {first} --weeks {weeks}: the run has weeks 0 to {last - 1} "
            f"(warm-up {sc.warmup_weeks}); choose weeks inside it"
        )
    data = animation_data(sc, events, sessions, first, weeks, step_hours)
    info = (
        f"Weeks {first + 1}-{first + weeks} of the run ({where}); a frame every "
        f"{step_hours:g} hours."
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    path = outputs.write_file_atomic(out, animation_page(sc, data, info))
    say(f"Animation: {path} ({path.stat().st_size / 1e6:.2f} MB)")
