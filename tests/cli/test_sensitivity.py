"""``iopsim sensitivity`` on the command line: inputs from [uncertainty],
--vary and [E] marks; clean errors; the folder it writes."""

from __future__ import annotations

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation import config as scenarios
from simulation.cli import main
from simulation.uncertainty import estimates_in, uncertain_inputs
from tests.conftest import CLINIC, baseline

QUICK = ["--weeks", "8", "--warmup-weeks", "4", "-r", "2", "--workers", "1", "-q"]


def test_estimates_marked_in_the_file_are_the_default_inputs():
    path = scenarios.bundled("baseline")
    keys = estimates_in(path.read_text())
    assert "referrals.per_week" in keys and "intake.patience_days.mean" in keys
    assert "iop.attendance" in keys and "staff.therapists.absence_share" in keys
    inputs = {i.key: i for i in uncertain_inputs(baseline(), path.read_text())}
    # shares that sum to 1 with others cannot move alone; counts are decisions, not estimates
    assert not any(
        k.endswith(".share") and k.startswith(("payers.", "referrals.sources")) for k in inputs
    )
    assert not any(k.endswith((".count", ".seats")) for k in inputs)
    per_week = inputs["referrals.per_week"]
    assert (per_week.low, per_week.high) == (
        0.8 * 7.0,
        1.2 * 7.0,
    ) and per_week.source == "[E] +-20%"
    lost = inputs["intake.lost_share"]
    assert 0 <= lost.low < lost.base < lost.high <= 1


def test_estimates_nothing_uses_are_left_out_of_the_inputs_and_said(tmp_path):
    """A file with [[payers]] that marks the finance table's per diem [E]: varying it would
    move nothing (every client pays their payer's), so it is no uncertain input, and the
    command says it left it out; without payers it is one."""
    text = (
        scenarios.bundled("baseline")
        .read_text()
        .replace("[finance]\n", "[finance]\niop_per_diem = 300.0  # [E]\n", 1)
    )
    assert "finance.iop_per_diem" in estimates_in(text)
    marked = "[finance]\niop_per_diem = 300.0  # [E]\n"
    assert "finance.iop_per_diem" not in {i.key for i in uncertain_inputs(baseline(), marked)}
    alone = scenarios.apply_overrides(baseline(), ["payers=[]"])
    assert "finance.iop_per_diem" in {i.key for i in uncertain_inputs(alone, marked)}
    path = tmp_path / "paid.toml"
    path.write_text(text)
    result = CliRunner().invoke(
        main,
        ["sensitivity", str(path), *QUICK, "--points", "0", "--out", str(tmp_path / "s")],
    )
    assert result.exit_code == 0, result.output
    assert "Left out of the uncertain inputs" in result.output
    assert "finance.iop_per_diem" in result.output


def test_attendance_is_varied_only_as_far_as_its_spread_between_clients_allows():
    """The baseline's attendance 0.82 +-20% reaches 0.984, which its between-client sd of 0.15
    does not allow (the high level was reported 'not simulated'): the range stops where the
    scenario stays valid, says so, and both ends can be run."""
    path = scenarios.bundled("baseline")
    plain = scenarios.load(path)
    inputs = {i.key: i for i in uncertain_inputs(plain, path.read_text())}
    attendance = inputs["iop.attendance"]
    assert attendance.low == pytest.approx(0.656) and 0.97 < attendance.high < 0.984
    assert "what iop.attendance_sd = 0.15 allows" in attendance.source
    for end in (attendance.low, attendance.high):
        scenarios.apply_overrides(plain, [attendance.override(end)])  # (valid: no error)
    alike = scenarios.apply_overrides(plain, ["iop.attendance_sd=0"])
    wide = {i.key: i for i in uncertain_inputs(alike, path.read_text())}["iop.attendance"]
    assert wide.high == pytest.approx(0.984)  # clients alike: the whole +-20%


def test_an_uncertainty_table_replaces_the_estimates_and_vary_adds_to_it():
    sc = scenarios.apply_overrides(
        baseline(),
        [
            "uncertainty.referrals.per_week=[6, 9]",
            'uncertainty."iop.attendance"={dist = "triangular", low = 0.7, mode = 0.82, high = 0.9}',
        ],
    )
    inputs = {
        i.key: i for i in uncertain_inputs(sc, "x = 1.0  # [E]", ["intake.booking_lead_days=1..3"])
    }
    assert set(inputs) == {"referrals.per_week", "iop.attendance", "intake.booking_lead_days"}
    attendance = inputs["iop.attendance"]
    assert 0.7 < attendance.low < 0.82 < attendance.high < 0.9  # its 5th and 95th percentiles
    assert attendance.at(0.0) >= 0.7 - 1e-9 and attendance.at(1.0) <= 0.9 + 1e-9


def test_bad_ranges_are_refused_naming_the_field_and_what_is_allowed(tmp_path):
    runner = CliRunner()
    out = tmp_path / "s"
    bad_flag = runner.invoke(
        main, ["sensitivity", *QUICK, "--vary", "referrals.per_week=9..6", "--out", str(out)]
    )
    assert bad_flag.exit_code == 2 and "--vary 'referrals.per_week=9..6'" in bad_flag.output
    assert "LOW < HIGH" in bad_flag.output and "Traceback" not in bad_flag.output
    unknown = runner.invoke(
        main, ["sensitivity", *QUICK, "--vary", "referals.per_week=6..9", "--out", str(out)]
    )
    assert unknown.exit_code == 2 and "referals.per_week" in unknown.output
    text = CLINIC.read_text() + '\n[uncertainty]\n"iop.attendance" = "about right"\n'
    path = tmp_path / "c.toml"
    path.write_text(text)
    in_file = runner.invoke(main, ["validate", str(path)])
    assert in_file.exit_code == 2 and "uncertainty.iop.attendance" in in_file.output
    assert '"+-20%"' in in_file.output
    assert not out.exists()


def test_the_folder_holds_both_analyses_and_a_brief(tmp_path):
    out = tmp_path / "s"
    result = CliRunner().invoke(
        main,
        [
            "sensitivity",
            *QUICK,
            "--set",
            "uncertainty.referrals.per_week=[7, 12]",  # (the baseline's 9.6 within)
            "--vary",
            "finance.overhead_per_month.rent_and_it=1000..3000",
            "--kpi",
            "referrals_per_week",
            "--kpi",
            "margin_per_week",
            "--points",
            "8",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    oat = pd.read_csv(out / "one_at_a_time.csv")
    assert set(oat["input"]) == {"referrals.per_week", "finance.overhead_per_month.rent_and_it"}
    rent = oat[
        (oat["input"] == "finance.overhead_per_month.rent_and_it")
        & (oat["kpi"] == "referrals_per_week")
    ]
    assert (rent["delta"] == 0).all()  # rent does not change who is referred (same draws)
    more = oat[
        (oat["input"] == "referrals.per_week")
        & (oat["level"] == "high")
        & (oat["kpi"] == "referrals_per_week")
    ]
    assert more["delta"].iloc[0] > 0
    points = pd.read_csv(out / "global_points.csv")
    assert len(points) == 8 and points["referrals.per_week"].between(7, 12).all()
    assert "hinges most on referrals.per_week" in (out / "brief.md").read_text()
    again = CliRunner().invoke(main, ["sensitivity", *QUICK, "--out", str(out)])
    assert again.exit_code == 2 and "exists" in again.output  # never silently overwritten


def test_a_robust_plan_says_in_how_many_futures_each_target_holds(tmp_path):
    out = tmp_path / "p"
    args = [
        "plan",
        "scenarios/verification/mmc.toml",
        "--weeks",
        "30",
        "-r",
        "2",
        "--workers",
        "1",
        "-q",
        "--vary",
        "tracks.iop.seats=9..11",
        "--target",
        "wait_to_iop_days_mean<=0.5",
    ]
    alone = CliRunner().invoke(main, [*args, "--uncertain", "referrals.per_week=21..28"])
    assert alone.exit_code == 2 and "--robust" in alone.output
    result = CliRunner().invoke(
        main,
        [
            *args,
            "--robust",
            "0.5",
            "--futures",
            "6",
            "--uncertain",
            "referrals.per_week=21..28",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "plan.csv")
    simulated = table[table["futures_met_share"].notna()]
    assert len(simulated) >= 1
    assert (simulated["futures_met_ci_low"] <= simulated["futures_met_share"]).all()
    assert "wait_to_iop_days_mean_futures_met_share" in table
    page = (out / "dashboard.html").read_text()
    assert "data-figure='robust'" in page


def test_the_numbers_do_not_depend_on_the_workers():
    from simulation.sensitivity import sensitivity

    sc = scenarios.apply_overrides(
        scenarios.load("scenarios/verification/mmc.toml"), ["horizon_weeks=10", "warmup_weeks=2"]
    )
    inputs = uncertain_inputs(sc, None, ["referrals.per_week=21..28", "finance.iop_per_diem=1..2"])
    kpis = ["wait_to_iop_days_mean"]
    one = sensitivity(sc, inputs, kpis, replications=2, points=6, workers=1)
    two = sensitivity(sc, inputs, kpis, replications=2, points=6, workers=2)
    pd.testing.assert_frame_equal(one.one_at_a_time, two.one_at_a_time)
    pd.testing.assert_frame_equal(one.global_points, two.global_points)


def test_a_runs_brief_takes_the_hinges_and_the_cheapest_fix_from_their_folders(tmp_path):
    runner = CliRunner()
    run, sens, plan = tmp_path / "run", tmp_path / "sens", tmp_path / "plan"
    assert runner.invoke(main, ["run", *QUICK, "--out", str(run)]).exit_code == 0
    args = ["sensitivity", *QUICK, "--set", "uncertainty.referrals.per_week=[5, 9]"]
    result = runner.invoke(main, [*args, "--points", "0", "--out", str(sens)])
    assert result.exit_code == 0, result.output
    args = ["plan", *QUICK, "--vary", "staff.intake.count=1..2", "--set", "targets={}"]
    result = runner.invoke(
        main, [*args, "--target", "wait_to_intake_days_mean<=30", "--out", str(plan)]
    )
    assert result.exit_code == 0, result.output
    before = (run / "brief.md").read_text()
    assert "Not measured for this run" in before
    done = runner.invoke(
        main, ["dashboard", str(run), "--sensitivity", str(sens), "--plan", str(plan)]
    )
    assert done.exit_code == 0, done.output
    brief = (run / "brief.md").read_text()
    assert "hinges most on referrals.per_week" in brief
    chosen = pd.read_csv(plan / "plan.csv").query("recommended")["staff.intake.count"].iloc[0]
    assert f"Recommended: staff.intake.count={chosen}" in brief
    assert "hinges most on referrals.per_week" in (run / "dashboard.html").read_text()
    other = tmp_path / "other"
    assert (
        runner.invoke(main, ["run", "hire_therapist", *QUICK, "--out", str(other)]).exit_code == 0
    )
    wrong = runner.invoke(main, ["dashboard", str(other), "--plan", str(plan)])
    assert wrong.exit_code == 2 and "it is of scenario 'baseline'" in wrong.output
    not_one = runner.invoke(main, ["dashboard", str(run), "--sensitivity", str(plan)])
    assert not_one.exit_code == 2 and "not a folder written by iopsim sensitivity" in not_one.output


def test_futures_that_are_no_valid_clinic_count_as_failed():
    from simulation import planning
    from simulation.robust import Futures

    sc = scenarios.apply_overrides(
        scenarios.load("scenarios/verification/mmc.toml"), ["horizon_weeks=10", "warmup_weeks=1"]
    )
    futures = Futures.draw(uncertain_inputs(sc, None, ["iop.attendance=1.5..2"]), 5, 0.5, 1)
    factor = planning.parse_factor("tracks.iop.seats=9..10", "--vary")
    result = planning.plan(
        sc, [factor], [("wait_to_iop_days_mean", "<=", 0.5)], 2, 1, futures=futures
    )
    top = next(c for c in result.candidates if c.values == (10,))
    assert top.status == "not met" and top.verdict.invalid == 5 and top.verdict.share == 0
    assert result.recommendation is None
