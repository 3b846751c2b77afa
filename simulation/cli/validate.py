"""``iopsim validate`` and ``iopsim scenarios``: check and list scenario files (fast: no
pandas, scipy or plotly)."""

from __future__ import annotations

import sys

import click

from simulation.cli import main
from simulation.cli.common import EXIT_BAD_INPUT, say


@main.command()
@click.argument("files", nargs=-1, required=True)
def validate(files):
    """Check scenario FILES; print every problem and exit 2 if any file is invalid."""
    from simulation import config as scenarios

    bad = 0
    for name in files:
        try:
            sc = scenarios.load(scenarios.resolve(name))
            say(f"ok: {name} ({sc.name})")
            for warning in scenarios.warnings(sc):
                say(f"  warning: {warning}")
        except scenarios.ScenarioError as exc:
            bad += 1
            say(str(exc), err=True)
    if bad:
        sys.exit(EXIT_BAD_INPUT)


@main.command(name="scenarios")
def list_scenarios():
    """List the bundled scenarios with their descriptions."""
    from simulation import config as scenarios

    for path in sorted(scenarios.bundled_dir().glob("*.toml")):
        try:
            sc = scenarios.load(path)
            say(f"{path.stem:<20} {sc.description}")
        except scenarios.ScenarioError as exc:
            say(f"{path.stem:<20} (invalid: {exc.problems[0]})")
