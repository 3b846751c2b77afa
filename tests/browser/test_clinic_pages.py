"""The fit report, forecast and back-test pages load offline, without console errors, draw
their figures, and show the numbers of their tables (issue 12)."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.cli import main


@pytest.fixture(scope="module")
def clinic_pages(tmp_path_factory):
    root = tmp_path_factory.mktemp("clinic")
    runner = CliRunner()
    extract = root / "ex.csv"
    steps = [
        ["synth", "--years", "2", "--messy", "--out", str(extract)],
        [
            "fit",
            str(extract),
            "--map-file",
            str(root / "ex.map.toml"),
            "--drop-bad-rows",
            "--as-of",
            "2029-06-04",
            "--out",
            str(root / "c.toml"),
        ],
        [
            "forecast",
            str(root / "c.toml"),
            "--weeks",
            "6",
            "-r",
            "6",
            "--workers",
            "1",
            "-q",
            "--out",
            str(root / "f"),
        ],
        [
            "backtest",
            str(extract),
            "--map-file",
            str(root / "ex.map.toml"),
            "--drop-bad-rows",
            "--train-until",
            "2029-03-05",
            "--weeks",
            "6",
            "-r",
            "6",
            "--workers",
            "1",
            "--out",
            str(root / "b"),
        ],
    ]
    for args in steps:
        result = runner.invoke(main, args)
        assert result.exit_code == 0, result.output
    return {
        "fit": (root / "fit-report.html", 2),
        "forecast": (root / "f" / "dashboard.html", 5),
        "backtest": (root / "b" / "dashboard.html", 3),
        "root": root,
    }


@pytest.mark.parametrize("name", ["fit", "forecast", "backtest"])
def test_clinic_pages_load_cleanly(visit, clinic_pages, name):
    path, plots = clinic_pages[name]
    v = visit(path)
    v.page.wait_for_function(
        f"document.querySelectorAll('.js-plotly-plot').length >= {plots}", timeout=20_000
    )
    v.page.wait_for_timeout(200)
    assert v.errors == [] and v.requests == []
    assert v.page.locator(".js-plotly-plot").count() == plots
    text = v.page.locator("body").inner_text()
    assert "Decoy Person" not in text and "EP1" not in text  # no identifier reaches a page


def test_the_backtest_page_shows_the_table_of_backtest_csv(visit, clinic_pages):
    path, _ = clinic_pages["backtest"]
    table = pd.read_csv(clinic_pages["root"] / "b" / "backtest.csv")
    v = visit(path)
    for row in table.itertuples():
        cells = v.page.locator(f"#backtest-table tr[data-series='{row.series}'] td")
        assert cells.nth(2).inner_text().strip() == f"{100 * row.coverage_90:.0f}%"
