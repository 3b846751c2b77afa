"""The command line: short runs, run folders, validation and clear errors."""

import json
import subprocess
import sys

import pandas as pd
import pytest
from click.testing import CliRunner

from simulation import config as scenarios
from simulation.cli import main
from tests.conftest import CLINIC

SHORT = ["--replications", "2", "--weeks", "6", "--warmup-weeks", "2"]


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("runs") / "short"
    result = invoke("run", *SHORT, "--out", str(out))
    assert result.exit_code == 0, result.output
    return out, result.output


def test_run_writes_the_run_folder(run_dir):
    out, output = run_dir
    expected = {
        "manifest.json",
        "summary.csv",
        "kpis.csv",
        "weekly.parquet",
        "clients.parquet",
        "dashboard.html",
    }
    assert expected <= {p.name for p in out.iterdir()}
    assert not list(out.parent.glob(".*partial"))  # no temporary folder left behind
    summary = pd.read_csv(out / "summary.csv")
    assert list(summary.columns) == ["kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"]
    kpis = pd.read_csv(out / "kpis.csv")
    assert len(kpis) == 2 and "wait_to_iop_days_p90" in kpis
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == scenarios.load(scenarios.bundled("baseline")).seed
    assert manifest["scenario"]["horizon_weeks"] == 6 and manifest["replications"] == 2
    assert "Mean days from referral to the intake assessment" in output and "95% CI" in output


def test_manifest_alone_reproduces_the_run(run_dir, tmp_path):
    out, _ = run_dir
    manifest = json.loads((out / "manifest.json").read_text())
    sc = scenarios.validate(manifest["scenario"])
    from simulation.experiment import run_experiment

    again = run_experiment(sc, replications=manifest["replications"], seed=manifest["seed"]).kpis
    before = pd.read_csv(out / "kpis.csv")
    pd.testing.assert_frame_equal(
        before, again.reset_index(drop=True), check_dtype=False, atol=1e-9
    )


def test_existing_folder_is_not_overwritten_without_force(run_dir):
    out, _ = run_dir
    mtime = (out / "manifest.json").stat().st_mtime
    result = CliRunner().invoke(main, ["run", *SHORT, "--out", str(out)])
    assert result.exit_code == 2
    assert "already exists" in result.output and "--force" in result.output
    assert (out / "manifest.json").stat().st_mtime == mtime


def test_force_replaces_a_folder(tmp_path):
    out = tmp_path / "r"
    out.mkdir()
    (out / "old.txt").write_text("old")
    result = invoke("run", *SHORT, "--out", str(out), "--force", "--no-dashboard", "--seed", "3")
    assert result.exit_code == 0
    assert not (out / "old.txt").exists() and (out / "manifest.json").exists()


def test_json_output_for_scripts(tmp_path):
    result = invoke("run", *SHORT, "--out", str(tmp_path / "j"), "--json", "--no-dashboard")
    data = json.loads(result.output)
    assert data["replications"] == 2
    assert {row["kpi"] for row in data["summary"]} >= {"wait_to_iop_days_mean", "margin_per_week"}


def test_bad_override_exits_2_without_a_folder(tmp_path):
    out = tmp_path / "bad"
    result = CliRunner().invoke(
        main, ["run", "--set", "staff.therapists.cuont=3", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "did you mean 'count'" in result.output
    assert not out.exists() and not list(tmp_path.iterdir())
    assert "Traceback" not in result.output


def test_a_change_to_a_value_nothing_uses_is_warned_of(tmp_path):
    """--set finance.op_session_rate on the baseline, whose clients all pay their payer's
    rates: the run goes on (the change is valid) but says on stderr that it changes nothing;
    a change that matters says nothing of the kind."""
    quiet = [*SHORT, "--no-dashboard", "-q"]
    unused = invoke(
        "run", *quiet, "--set", "finance.op_session_rate=80", "--out", str(tmp_path / "a")
    )
    assert "WARNING: finance.op_session_rate: changing it changes no number" in unused.stderr
    assert "payers.<name>.op_session_rate" in unused.stderr
    used = invoke("run", *quiet, "--set", "referrals.per_week=9", "--out", str(tmp_path / "b"))
    assert "changes no number" not in used.stderr
    variant = invoke(
        "compare",
        *SHORT,
        "-q",
        "--variant",
        "finance.iop_per_diem=600",
        "--out",
        str(tmp_path / "c"),
    )
    assert "WARNING: finance.iop_per_diem: changing it changes no number" in variant.stderr


def test_a_target_few_replications_had_anyone_for_is_said_too_few_to_judge(tmp_path):
    """0.3 referrals a week for 6 weeks: most replications start nobody, so the share who
    started within 14 days rests on a couple of clients; the run does not call it met, says
    from how many replications each KPI comes, and the brief says the same."""
    out = tmp_path / "quiet"
    result = invoke(
        "run", "-r", "12", "--weeks", "6", "--warmup-weeks", "2", "--workers", "1",
        "--no-dashboard", "--set", "referrals.per_week=0.3", "--out", str(out),
    )  # fmt: skip
    line = next(x for x in result.output.splitlines() if "share_started_within_14_days" in x)
    assert "TOO FEW TO JUDGE (only" in line and "of 12 replications" in line
    assert "replications: the others had no one to count]" in result.output
    assert "Too few to judge: Share assessed as needing IOP" in (out / "brief.md").read_text()
    targets = pd.read_csv(out / "targets.csv").set_index("kpi")
    assert pd.isna(targets.loc["share_started_within_14_days", "met"])
    assert targets.loc["therapist_utilisation", "n"] == 12


def test_a_change_in_referrals_inside_the_period_replaces_the_warmup_check(tmp_path):
    """MSER-5 reads a step in referrals as the clinic still settling: with one inside the
    measured period the run says why it leaves the check out instead of asking for a longer
    warm-up; with none, the check runs as before."""
    step = "referrals.step_changes=[{from_week=4, multiplier=2}]"
    result = invoke("run", *SHORT, "--no-dashboard", "--set", step, "--out", str(tmp_path / "step"))
    assert "The warm-up check is left out: referrals change x2 from week 4" in result.output
    assert "may be too short" not in result.output


def test_bad_flag_value_exits_2():
    result = CliRunner().invoke(main, ["run", "--replications", "0"])
    assert result.exit_code == 2 and "--replications" in result.output


def test_validate_good_and_bad_files(tmp_path):
    good = invoke("validate", str(scenarios.bundled("baseline")), "referral_surge")
    assert good.exit_code == 0 and good.output.count("ok:") == 2
    bad = tmp_path / "bad.toml"
    bad.write_text(CLINIC.read_text().replace("seats = 12", "seats = -12"))
    result = CliRunner().invoke(main, ["validate", str(bad)])
    assert result.exit_code == 2
    assert "rooms.Group Room A.seats = -12" in result.output


def test_scenarios_lists_bundled_with_descriptions():
    result = invoke("scenarios")
    assert "baseline" in result.output and "referral_surge" in result.output
    assert "Mid-size adult IOP" in result.output


def test_dashboard_rebuilds_from_the_folder(run_dir):
    out, _ = run_dir
    (out / "dashboard.html").unlink()
    result = invoke("dashboard", str(out))
    assert result.exit_code == 0
    assert (out / "dashboard.html").stat().st_size > 100_000


def test_dashboard_of_a_non_run_folder_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["dashboard", str(tmp_path)])
    assert result.exit_code == 2 and "not a run folder" in result.output


def test_console_script_runs_in_a_real_process(tmp_path):
    bad = tmp_path / "broken.toml"
    bad.write_text('name = "x"\n[referrals\n')
    proc = subprocess.run(
        [sys.executable, "-m", "simulation.cli", "validate", str(bad)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "TOML syntax error" in proc.stderr and "line 2" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_auto_replications_from_the_command_line(tmp_path):
    out = tmp_path / "auto"
    result = invoke(
        "run",
        "--replications",
        "auto",
        "--precision",
        "0.3",
        "--max-replications",
        "8",
        "--weeks",
        "6",
        "--warmup-weeks",
        "2",
        "--out",
        str(out),
        "--no-dashboard",
    )
    assert result.exit_code == 0, result.output
    summary = pd.read_csv(out / "summary.csv")
    assert {"precision_target", "relative_half_width", "precision_met"} <= set(summary.columns)
    assert summary["n"].max() <= 8


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--replications", "many"], "'many' is not a whole number or 'auto'"),
        (
            ["--replications", "auto", "--precision-kpi", "speed"],
            "--precision-kpi 'speed': not a KPI",
        ),
        (["--workers", "0"], "--workers"),
    ],
)
def test_bad_experiment_flags_exit_2(args, message, tmp_path):
    result = CliRunner().invoke(main, ["run", *args, "--out", str(tmp_path / "x")])
    assert result.exit_code == 2 and message in result.output
    assert not (tmp_path / "x").exists()


def test_warmup_command_suggests_and_plots(tmp_path):
    out = tmp_path / "wu.html"
    result = invoke(
        "warmup", "--weeks", "40", "--replications", "2", "--workers", "1", "--out", str(out)
    )
    assert result.exit_code == 0, result.output
    assert "Suggested warm-up:" in result.output and "MSER-5 on iop_census" in result.output
    assert out.stat().st_size > 100_000 and "Welch" in out.read_text()


def test_a_run_from_a_clinics_state_is_not_asked_for_a_warm_up(tmp_path):
    """A state is the clinic as it is, not an empty one filling: its first weeks are what a
    forecast is for. MSER-5 read the move from the state as settling and the warm-up command
    called the 0 weeks "SHORTER than suggested"; it now says none applies, and a run leaves
    the check out."""
    import datetime as dt

    from simulation import clock
    from simulation.fit.writer import toml_text

    data = scenarios.to_data(scenarios.load(CLINIC))
    monday = clock.week_zero_monday(data["start_date"])
    since = monday - dt.timedelta(days=20)
    data |= {"warmup_weeks": 0, "horizon_weeks": 20}
    data["state"] = {
        "as_of": monday,
        "clients": [{"stage": "iop", "since": since, "track": "morning"}] * 12
        + [{"stage": "iop_waitlist", "since": since}] * 15,
    }
    path = tmp_path / "state.toml"
    path.write_text(toml_text(data, {}, ["a clinic's state"]))
    out = tmp_path / "wu.html"
    result = invoke("warmup", str(path), "--weeks", "20", "-r", "2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert f"No warm-up applies: the scenario starts from the clinic's state on {monday}" in (
        result.output
    )
    assert "SHORTER" not in result.output
    run = invoke("run", str(path), "-r", "2", "--no-dashboard", "--out", str(tmp_path / "r"))
    assert run.exit_code == 0, run.output
    assert "may be too short" not in run.output


def test_check_calibration_prints_published_against_simulated():
    result = invoke(
        "check-calibration", "--replications", "2", "--workers", "1", "--set", "horizon_weeks=20"
    )
    assert result.exit_code == 0, result.output
    assert "Discharges: completed" in result.output and "37.7%" in result.output
    assert "measures the model produces are within the published ranges" in result.output


QUICK = ["--replications", "2", "--weeks", "6", "--warmup-weeks", "2", "--workers", "1"]


def test_compare_scenarios_variants_and_run_folders(run_dir, tmp_path):
    out = tmp_path / "cmp"
    result = invoke(
        "compare",
        "baseline",
        "hire_therapist",
        "--variant",
        "referrals.per_week=9",
        *QUICK,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "comparison.csv")
    assert set(table["scenario"]) == {
        "baseline",
        "hire_therapist",
        "baseline + referrals.per_week=9",
    }
    assert table["paired"].all()
    first = table[table["scenario"] == "baseline"]
    assert (first["difference"].fillna(0) == 0).all()
    assert (out / "dashboard.html").stat().st_size > 100_000
    # a run folder can be compared too (no re-simulation)
    folder, _ = run_dir
    again = invoke("compare", str(folder), "baseline", *QUICK, "--out", str(tmp_path / "cmp2"))
    assert again.exit_code == 0, again.output


def test_a_variant_keeps_the_quotes_of_a_list_of_names_and_the_spaces_of_a_pool():
    """A variant's items are split at spaces outside quotes and brackets, quotes kept: a list
    of names is TOML (a shell's splitting stripped its quotes: 'Input should be a valid
    list'), and a pool's name may hold spaces, quoted or not."""
    from simulation import config as scenarios
    from simulation.cli.common import split_overrides

    text = 'staff.prescribers.members=["Dr Okafor", "NP Reyes"]  staff.evening therapists.count=2'
    items = split_overrides(text)
    assert items == [
        'staff.prescribers.members=["Dr Okafor", "NP Reyes"]',
        "staff.evening therapists.count=2",
    ]
    sc = scenarios.apply_overrides(scenarios.load(scenarios.bundled("baseline")), items)
    assert sc.staff["prescribers"].members == ["Dr Okafor", "NP Reyes"]
    assert split_overrides('staff."evening therapists".count=3 name="My clinic"') == [
        'staff."evening therapists".count=3',
        'name="My clinic"',
    ]


def test_compare_says_which_scenario_has_a_queue_that_climbs_without_end(tmp_path):
    """Level b of the Jackson network at 6 places (load 1.25) against unlimited places: the
    variant's waitlist at b climbs, so its waits mean little; the terminal, the brief and the
    page say so of the variant only."""
    out = tmp_path / "cmp"
    result = invoke(
        "compare",
        "scenarios/verification/jackson.toml",
        "--variant",
        "levels.b.places=6",
        *["--replications", "4", "--weeks", "40", "--warmup-weeks", "10", "--workers", "2"],
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    said = "OVERLOADED in jackson + levels.b.places=6: the waitlist for level b climbs"
    assert said in result.output
    assert "OVERLOADED in jackson:" not in result.output
    assert said in (out / "brief.md").read_text(encoding="utf-8")
    assert said in (out / "dashboard.html").read_text(encoding="utf-8")


def test_compare_needs_two(tmp_path):
    result = CliRunner().invoke(main, ["compare", "baseline", "--out", str(tmp_path / "c")])
    assert result.exit_code == 2 and "at least two" in result.output


def test_sweep_writes_a_long_table_and_resumes(tmp_path):
    out = tmp_path / "sw"
    args = ["sweep", "--grid", "staff.intake.count=1..2", *QUICK, "--out", str(out)]
    first = invoke(*args)
    assert first.exit_code == 0 and "2 run now, 0 already done" in first.output
    table = pd.read_csv(out / "sweep.csv")
    assert {"cell", "kpi", "mean", "ci_low", "ci_high", "n", "staff.intake.count"} <= set(
        table.columns
    )
    assert table["cell"].nunique() == 2
    second = invoke(*args)
    assert "0 run now, 2 already done" in second.output
    assert (out / "dashboard.html").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["sweep", "--grid", "staff.intake.cuont=1..2"], "did you mean 'count'"),
        (["sweep", "--grid", "tracks.evenin.seats=8,10"], "--grid tracks.evenin.seats:"),
        (["plan", "--vary", "staff.intak.count=1..2"], "--vary staff.intak.count: there is no"),
        (["sweep", "--grid", "staff.intake.count=5..1"], "LOW <= HIGH"),
        (["sweep", "--grid", "tracks.evening.seats=20..21"], "no combination is a valid clinic"),
        (
            ["plan", "--vary", "staff.intake.count=1..2", "--target", "speed<=3"],
            "'speed' is not a KPI",
        ),
        (["plan", "--vary", "staff.intake.count=1..2", "--cost", "money"], "--cost 'money'"),
        (  # (a traceback before: the bound was read as a number without a check)
            ["plan", "--vary", "staff.intake.count=1..2", "--target", "wait_to_iop_days_p90<=two"],
            "the bound 'two' is not a number",
        ),
    ],
)
def test_bad_planning_input_exits_2(args, message, tmp_path):
    result = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "o")])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert not (tmp_path / "o").exists()


def test_plan_prints_a_recommendation(tmp_path):
    out = tmp_path / "plan"
    result = invoke(
        "plan",
        "--set",
        "targets={}",
        "--vary",
        "staff.intake.count=1..3",
        "--target",
        "wait_to_intake_days_mean<=30",
        *QUICK,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    assert "Recommended: staff.intake.count=1" in result.output
    plan = pd.read_csv(out / "plan.csv")
    assert plan["recommended"].sum() == 1
