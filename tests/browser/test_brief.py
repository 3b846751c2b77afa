"""The decision brief at the top of run, compare and plan pages: its numbers
are summary.csv's, and printing the page prints the brief alone on one page."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation.cli import main
from simulation.kpis import describe, fmt_with_ci

QUICK = ["--weeks", "12", "--warmup-weeks", "6", "-r", "3", "--workers", "1", "-q"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("brief") / "run"
    result = CliRunner().invoke(
        main,
        [
            "run",
            *QUICK,
            "--set",
            'targets."wait_to_iop_days_p90[track=evening]"="<= 3"',
            "--out",
            str(folder),
        ],
    )
    assert result.exit_code == 0, result.output
    return folder


def _shown(summary: pd.DataFrame, kpi: str) -> str:
    row = summary.set_index("kpi").loc[kpi]
    unit = describe(kpi).unit
    return fmt_with_ci(row["mean"], row["ci_low"], row["ci_high"], unit, weeks=False)


def test_the_briefs_numbers_are_those_of_summary_csv(visit, run_folder):
    summary = pd.read_csv(run_folder / "summary.csv")
    v = visit(run_folder / "dashboard.html")
    brief = v.page.locator("#brief").inner_text()
    for kpi in (
        "referral_to_iop_days_p90",
        "wait_to_intake_days_mean",
        "share_started_within_14_days",
        "wait_to_iop_days_p90[track=evening]",
        "admissions_per_week",
        "revenue_per_week",
        "margin_per_week",
    ):
        assert _shown(summary, kpi) in brief, kpi
    markdown = (run_folder / "brief.md").read_text()
    assert _shown(summary, "margin_per_week") in markdown
    assert v.errors == []


def _pages_printed(v) -> dict[str, int]:
    out = {}
    for size in ("A4", "Letter"):
        pdf = v.page.pdf(format=size)
        out[size] = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    return out


def test_a_long_brief_still_prints_on_one_page(visit, tmp_path):
    """The continuum's brief (levels of care, how stays end, targets missed by group, notes)
    is among the longest a run writes: it too prints on one A4 or Letter page."""
    folder = tmp_path / "continuum"
    result = CliRunner().invoke(main, ["run", "continuum", *QUICK, "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert len((folder / "brief.md").read_text()) > 3500  # (the case: a long brief)
    v = visit(folder / "dashboard.html")
    v.page.emulate_media(media="print")
    assert _pages_printed(v) == {"A4": 1, "Letter": 1}


def test_printing_the_page_prints_the_brief_alone_on_one_page(visit, run_folder):
    v = visit(run_folder / "dashboard.html")
    v.page.emulate_media(media="print")
    assert v.page.locator("#brief").is_visible()
    assert not v.page.locator("table.kpis").first.is_visible()
    assert not v.page.locator(".js-plotly-plot").first.is_visible()
    assert _pages_printed(v) == {"A4": 1, "Letter": 1}


def test_compare_and_plan_pages_open_with_their_brief(visit, tmp_path):
    runner = CliRunner()
    compare = tmp_path / "c"
    result = runner.invoke(
        main, ["compare", "baseline", "hire_therapist", *QUICK, "--out", str(compare)]
    )
    assert result.exit_code == 0, result.output
    v = visit(compare / "dashboard.html")
    text = v.page.locator("#brief").inner_text()
    assert "hire_therapist" in text and "targets met" in text
    assert "hire_therapist" in (compare / "brief.md").read_text()
    plan = tmp_path / "p"
    result = runner.invoke(
        main,
        [
            "plan",
            *QUICK,
            "--vary",
            "staff.intake.count=1..2",
            "--set",
            "targets={}",
            "--target",
            "wait_to_intake_days_mean<=30",
            "--out",
            str(plan),
        ],
    )
    assert result.exit_code == 0, result.output
    v = visit(plan / "dashboard.html")
    text = v.page.locator("#brief").inner_text()
    chosen = pd.read_csv(plan / "plan.csv").query("recommended")["staff.intake.count"]
    assert len(chosen) == 1
    assert f"Recommended: staff.intake.count={int(chosen.iloc[0])}" in text
    assert v.errors == []
