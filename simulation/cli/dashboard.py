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
@click.option(
    "--sensitivity",
    "sensitivity_dir",
    type=click.Path(path_type=Path),
    help="A folder of iopsim sensitivity on this scenario: its findings go into the brief.",
)
def dashboard(run_dir, png, sensitivity_dir):
    """Rebuild RUN_DIR/dashboard.html (and brief.md) from the run folder's tables (no
    re-simulation)."""
    import json

    from simulation import outputs
    from simulation import scenario as scenarios
    from simulation.dashboard.page import rebuild

    try:
        run_data = outputs.read_run(run_dir)
    except (outputs.OutputError, scenarios.ScenarioError) as exc:
        fail(str(exc))
    hinges = None
    if sensitivity_dir is not None:
        try:
            found = json.loads((sensitivity_dir / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            fail(f"--sensitivity {sensitivity_dir}: not a folder written by iopsim sensitivity")
        if not isinstance(found, dict) or found.get("kind") != "sensitivity":
            fail(f"--sensitivity {sensitivity_dir}: not a folder written by iopsim sensitivity")
        name = found.get("scenario", {}).get("name")
        if name != run_data.scenario.name:
            fail(
                f"--sensitivity {sensitivity_dir}: it is of scenario {name!r}, the run of "
                f"{run_data.scenario.name!r}"
            )
        hinges = [str(x) for x in found.get("findings", [])]
    path = rebuild(run_data, png=png, hinges=hinges)
    say(f"Dashboard: {path}")
