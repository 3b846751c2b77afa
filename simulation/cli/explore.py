"""``iopsim explore``: a sweep's explorer page, sliders over its factors (no server)."""

from __future__ import annotations

from pathlib import Path

import click

from simulation.cli import main
from simulation.cli.common import fail, say


@main.command()
@click.argument("sweep_dir", type=click.Path(path_type=Path))
def explore(sweep_dir):
    """Write SWEEP_DIR/explorer.html: a slider per factor; moving one shows that cell's KPIs,
    targets and waitlists, from data in the page (offline, one file)."""
    import json

    import pandas as pd

    from simulation import config as scenarios
    from simulation import outputs, planning
    from simulation.dashboard import page as pages

    manifest_path = sweep_dir / "manifest.json"
    table_path = sweep_dir / "sweep.parquet"
    if not manifest_path.is_file() or not table_path.is_file():
        fail(f"{sweep_dir}: not a finished sweep folder (no manifest.json or sweep.parquet)")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if not isinstance(manifest, dict) or manifest.get("kind") != "sweep":
            raise ValueError("not a sweep's manifest")
        sc = scenarios.validate(manifest["scenario"], str(manifest_path))
        factors = [planning.Factor(g["key"], tuple(g["values"])) for g in manifest["grid"]]
        table = pd.read_parquet(table_path)
        missing = {"cell", "kpi", "mean", "ci_low", "ci_high", "status"} - set(table.columns)
        if missing or any(f.key not in table.columns for f in factors):
            raise ValueError(f"sweep.parquet lacks columns {sorted(missing) or 'of its factors'}")
    except scenarios.ScenarioError as exc:
        fail(str(exc))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        fail(f"{sweep_dir}: cannot read the sweep ({exc})")
    weekly = planning.read_weekly(sweep_dir, list(table["cell"].unique()))
    page = pages.explorer_page(sc, table, factors, weekly, int(manifest.get("replications", 0)))
    path = outputs.write_file_atomic(sweep_dir / "explorer.html", page)
    say(f"Explorer: {path}")
