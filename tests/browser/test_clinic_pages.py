"""The fit report, forecast and back-test pages load offline, without console errors, draw
their figures, and show the numbers of their tables."""

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
        "fit": (root / "c.fit-report.html", 2),
        "forecast": (root / "f" / "dashboard.html", 6),
        "backtest": (root / "b" / "dashboard.html", 4),
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


def test_the_sensitivity_page_draws_a_tornado_per_kpi_and_its_findings(visit, tmp_path):
    """Two KPIs: a tornado and an all-at-once chart each; the findings are the brief's."""
    folder = tmp_path / "s"
    result = CliRunner().invoke(
        main,
        [
            "sensitivity",
            "--weeks",
            "8",
            "--warmup-weeks",
            "4",
            "-r",
            "2",
            "--workers",
            "1",
            "--set",
            "uncertainty.referrals.per_week=[6, 8]",
            "--set",
            'uncertainty."intake.booking_lead_days"="+-50%"',
            "--kpi",
            "referrals_per_week",
            "--kpi",
            "lost_before_assessment_share",
            "--points",
            "6",
            "-q",
            "--out",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    v = visit(folder / "dashboard.html")
    v.page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 4", timeout=20_000
    )
    v.page.wait_for_timeout(200)
    assert v.errors == [] and v.requests == []
    bars = v.page.evaluate(
        "document.getElementById('fig-tornado-referrals_per_week').data.map(t => t.y.length)"
    )
    assert bars == [2, 2]  # two inputs, a low and a high bar each
    brief = (folder / "brief.md").read_text().splitlines()[2:]
    shown = v.page.locator("#sensitivity-brief li").all_inner_texts()
    assert [b[2:] for b in brief] == shown


@pytest.mark.parametrize("name", ["fit", "forecast", "backtest"])
def test_every_figure_on_the_clinic_pages_says_how_to_read_it(visit, clinic_pages, name):
    v = visit(clinic_pages[name][0])
    captions = v.page.locator("section.figure .howto").all_inner_texts()
    assert captions and all(len(c.removeprefix("How to read this:").strip()) > 40 for c in captions)


def test_the_backtest_header_reads_as_sentences_not_a_run_on_table(visit, clinic_pages):
    v = visit(clinic_pages["backtest"][0])
    header = v.page.locator("header").inner_text()
    assert "in 50% band" not in header  # (the table is shown as a table below)
    assert header.count("Back-test") >= 1


def test_the_fit_report_counts_each_bad_row_once(clinic_pages):
    """A row with two problems is one row left out (the messy extract has rows with more)."""
    import re

    from simulation.data.extract import Mapping, read_episodes

    root = clinic_pages["root"]
    mapping = Mapping.parse([], root / "ex.map.toml")
    episodes = read_episodes(root / "ex.csv", mapping, as_of="2029-06-04", drop_bad_rows=True)
    page = (root / "c.fit-report.html").read_text()
    shown = int(re.search(r"(\d+) bad rows left out", page).group(1))
    assert shown == episodes.dropped_rows <= sum(episodes.dropped.values())
