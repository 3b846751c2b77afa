"""``iopsim dashboard``: rebuild a run folder's dashboard from its tables."""

from __future__ import annotations

from pathlib import Path

import click

from simulation.cli import main
from simulation.cli.common import fail, say


@main.command()
@click.argument("run_dir", type=click.Path(path_type=Path))
@click.option(
    "--png", is_flag=True, help="Also write each figure as a PNG (needs kaleido and chromium)."
)
def dashboard(run_dir, png):
    """Rebuild RUN_DIR/dashboard.html from the run folder's tables (no re-simulation)."""
    from simulation import outputs
    from simulation import scenario as scenarios
    from simulation.dashboard.page import rebuild

    try:
        run_data = outputs.read_run(run_dir)
    except (outputs.OutputError, scenarios.ScenarioError) as exc:
        fail(str(exc))
    path = rebuild(run_data, png=png)
    say(f"Dashboard: {path}")
