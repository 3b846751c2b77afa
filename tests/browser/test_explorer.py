"""The sweep explorer, offline in one file: moving a slider shows the chosen
cell's values (those of sweep.csv) and redraws its waitlists."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.cli import main


@pytest.fixture(scope="module")
def sweep_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("explore") / "sweep"
    result = CliRunner().invoke(
        main,
        [
            "sweep",
            "--weeks",
            "8",
            "--warmup-weeks",
            "4",
            "-r",
            "2",
            "--workers",
            "1",
            "-q",
            "--grid",
            "referrals.per_week=5,9",
            "--grid",
            "tracks.evening.seats=6,10",
            "--out",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    return folder


def _shown(v, kpi: str) -> float:
    return float(
        v.page.locator(f"#explorer-kpis tr[data-kpi='{kpi}'] td.num").get_attribute("data-value")
    )


def _expected(table: pd.DataFrame, kpi: str, per_week: float, seats: int) -> float:
    row = table[
        (table["kpi"] == kpi)
        & (table["referrals.per_week"] == per_week)
        & (table["tracks.evening.seats"] == seats)
    ]
    return float(row["mean"].iloc[0])


def test_moving_a_slider_shows_that_cells_values_and_waitlists(visit, sweep_folder):
    table = pd.read_csv(sweep_folder / "sweep.csv")
    v = visit(sweep_folder / "explorer.html")
    v.page.wait_for_function(
        "document.querySelectorAll('.js-plotly-plot').length >= 1", timeout=20_000
    )
    for kpi in ("referrals_per_week", "wait_to_iop_days_p90", "admissions_per_week"):
        assert _shown(v, kpi) == pytest.approx(_expected(table, kpi, 5, 6), rel=1e-12)
    before = v.page.evaluate("document.getElementById('explorer-waitlist').data[0].y")
    v.page.evaluate(
        "var s=document.getElementById('factor-0');s.value='1';s.dispatchEvent(new Event('input'))"
    )
    assert v.page.locator("#factor-value-0").inner_text() == "9"
    for kpi in ("referrals_per_week", "wait_to_iop_days_p90", "admissions_per_week"):
        assert _shown(v, kpi) == pytest.approx(_expected(table, kpi, 9, 6), rel=1e-12)
    after = v.page.evaluate("document.getElementById('explorer-waitlist').data[0].y")
    assert len(after) == len(before) == 12 and after != before  # 4 + 8 weeks, another cell's
    assert v.errors == [] and v.requests == []
    assert any((sweep_folder / "cells").glob("*.weekly.parquet"))


def test_explore_rebuilds_the_page_and_refuses_what_is_not_a_sweep(sweep_folder, tmp_path):
    (sweep_folder / "explorer.html").unlink()
    result = CliRunner().invoke(main, ["explore", str(sweep_folder)])
    assert result.exit_code == 0 and (sweep_folder / "explorer.html").exists()
    bad = CliRunner().invoke(main, ["explore", str(tmp_path)])
    assert bad.exit_code == 2 and "not a finished sweep folder" in bad.output


def test_a_target_no_replication_of_a_cell_could_judge_is_not_called_missed(visit, tmp_path):
    """A cell with no referrals has no waits: its wait target is not judged (shown so, with
    no colour), where the cell with referrals is judged met or NOT met."""
    folder = tmp_path / "sweep"
    result = CliRunner().invoke(
        main,
        [
            "sweep", "--weeks", "4", "--warmup-weeks", "2", "-r", "2", "--workers", "1",
            "-q", "--grid", "referrals.per_week=0,9", "--out", str(folder),
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    v = visit(folder / "explorer.html")
    row = "#explorer-kpis tr[data-kpi='referral_to_iop_days_p90'] td"
    v.page.wait_for_selector(row)
    verdict = v.page.locator(row).nth(4)
    assert verdict.inner_text().startswith("not judged")
    assert verdict.get_attribute("class") in (None, "")
    v.page.evaluate(
        "var s=document.getElementById('factor-0');s.value='1';s.dispatchEvent(new Event('input'))"
    )
    assert v.page.locator(row).nth(4).inner_text() in ("met", "NOT met")
    assert v.errors == []
