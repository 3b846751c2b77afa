"""Every run, comparison and plan folder has a results workbook (results.xlsx) that planners
open in Excel: its numbers are the summary's, as numbers with formats by unit, headers frozen,
a sheet of what each KPI means, and a user's text never runs as a formula."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from simulation.cli import main

SHORT = ["--weeks", "8", "--warmup-weeks", "4", "-r", "2", "--workers", "1", "-q"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "run"
    hostile = 'tracks.evening.name="=HYPERLINK(\\"http://x\\",\\"y\\")"'
    result = CliRunner().invoke(main, ["run", *SHORT, "--set", hostile, "--out", str(folder)])
    assert result.exit_code == 0, result.output
    return folder


def test_the_summary_sheet_holds_the_summary_as_formatted_numbers(run_folder):
    book = load_workbook(run_folder / "results.xlsx")
    assert book.sheetnames[:2] == ["Brief", "Summary"] and "KPI meanings" in book.sheetnames
    sheet = book["Summary"]
    header = [c.value for c in sheet[1]]
    rows = {r[0]: dict(zip(header, r, strict=True)) for r in sheet.iter_rows(2, values_only=True)}
    summary = pd.read_csv(run_folder / "summary.csv").set_index("kpi")
    for kpi in ("referrals_per_week", "therapist_utilisation", "margin_per_week"):
        assert rows[kpi]["mean"] == pytest.approx(summary.loc[kpi, "mean"], rel=1e-12)
        assert isinstance(rows[kpi]["mean"], float)
    formats = {sheet.cell(i, 1).value: sheet.cell(i, 3).number_format for i in range(2, 400)}
    assert formats["therapist_utilisation"] == "0.0%"
    assert formats["margin_per_week"].startswith('"$"')
    assert sheet.freeze_panes == "A2"
    meanings = [r[0] for r in book["KPI meanings"].iter_rows(2, values_only=True)]
    assert "wait_to_iop_days_p90" in meanings


def test_groups_are_rows_by_kind_and_a_users_text_never_runs_as_a_formula(run_folder):
    book = load_workbook(run_folder / "results.xlsx")
    groups = book["By group"]
    assert [c.value for c in groups[1]][:3] == ["by", "group", "kpi"]
    tracks = {r[1] for r in groups.iter_rows(2, values_only=True) if r[0] == "track"}
    assert any(t.startswith("=HYPERLINK") for t in tracks)
    cell = next(c for row in groups.iter_rows(2) for c in row if str(c.value).startswith("="))
    assert cell.data_type == "s"  # (stored as text: Excel shows it, never runs it)
    assert "client_id" not in [c.value for c in book["Weekly"][1]]


def _ok(*args) -> None:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def test_compare_and_plan_folders_have_their_workbooks(tmp_path):
    _ok("compare", "baseline", "hire_therapist", *SHORT, "--out", tmp_path / "compare")
    book = load_workbook(tmp_path / "compare" / "results.xlsx")
    assert book.sheetnames == ["Brief", "Comparison", "KPI meanings"]
    _ok("plan", "--vary", "staff.therapists.count=1..2", *SHORT, "--out", tmp_path / "plan")
    rows = list(
        load_workbook(tmp_path / "plan" / "results.xlsx")["Plan"].iter_rows(values_only=True)
    )
    assert rows[0][0] == "staff.therapists.count" and {r[0] for r in rows[1:]} == {1, 2}
