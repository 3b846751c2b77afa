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
@click.option(
    "--plan",
    "plan_dir",
    type=click.Path(path_type=Path),
    help="A folder of iopsim plan on this scenario: its cheapest fix goes into the brief.",
)
def dashboard(run_dir, png, sensitivity_dir, plan_dir):
    """Rebuild RUN_DIR/dashboard.html (and brief.md) from the run folder's tables (no
    re-simulation)."""
    from simulation import config as scenarios
    from simulation import outputs
    from simulation.dashboard.page import rebuild

    try:
        run_data = outputs.read_run(run_dir)
    except (outputs.OutputError, scenarios.ScenarioError) as exc:
        fail(str(exc))
    name = run_data.scenario.name
    hinges = _findings(sensitivity_dir, "sensitivity", name) if sensitivity_dir else None
    fix = _findings(plan_dir, "plan", name) if plan_dir else None
    path = rebuild(run_data, png=png, hinges=hinges, fix=fix)
    say(f"Dashboard: {path}")


def _findings(folder: Path, kind: str, scenario_name: str) -> list[str]:
    """The sentences a sensitivity or plan folder keeps in its manifest, checked to be of the
    same scenario; exit 2 otherwise."""
    import json

    what = f"--{kind} {folder}: not a folder written by iopsim {kind}"
    try:
        found = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        fail(what)
    if not isinstance(found, dict) or found.get("kind") != kind:
        fail(what)
    scenario = found.get("scenario") if isinstance(found.get("scenario"), dict) else {}
    if scenario.get("name") != scenario_name:
        fail(
            f"--{kind} {folder}: it is of scenario {scenario.get('name')!r}, the run of "
            f"{scenario_name!r}"
        )
    return [str(x) for x in found.get("findings", [])]
