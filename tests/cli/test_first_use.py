"""What a new user meets on the first day: misspelt pools, infeasible grid cells, heatmaps that
say what missed, the binding constraint named, KPIs by group, money rules, terminal output that
fits, and commands that load only what they need."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from simulation import config as scenarios
from simulation import planning, results
from simulation.cli import main
from simulation.cli.text import comparison_lines, target_lines
from simulation.config.overrides import _models_in
from simulation.dashboard import figures
from simulation.experiment import run_experiment
from tests.conftest import CLINIC, baseline, plain_short, run, short, variant

TINY = ["--replications", "2", "--weeks", "4", "--warmup-weeks", "1", "--workers", "1"]


def invoke(*args):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def baseline_text() -> str:
    return CLINIC.read_text(encoding="utf-8")


# 1. A misspelt staff pool becomes a phantom pool ---------------------------------------------


@pytest.mark.parametrize("key", ["staff.therapist.count=3", "staff.Therapists.count=3"])
def test_an_override_never_creates_a_pool(key):
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.apply_overrides(baseline(), [key])
    assert "did you mean 'therapists'" in str(info.value)
    assert "never creates a pool" in str(info.value)


@pytest.mark.parametrize(
    "args",
    [
        ["run", "--set", "staff.therapist.count=3"],
        ["sweep", "--grid", "staff.therapist.count=1..2"],
        ["plan", "--vary", "staff.therapist.count=1..2", "--target", "wait_to_iop_days_p90<=14"],
    ],
)
def test_misspelt_pool_on_the_command_line_exits_2(args, tmp_path):
    result = invoke(*args, *TINY, "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert "did you mean 'therapists'" in result.output
    assert not (tmp_path / "out").exists()


def test_a_pool_nothing_refers_to_is_an_error_in_a_file(tmp_path):
    text = baseline_text().replace(
        "[staff.intake]", "[staff.therapist]\ncount = 3\n\n[staff.intake]"
    )
    path = tmp_path / "phantom.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(scenarios.ScenarioError) as info:
        scenarios.load(path)
    assert "staff.therapist: no track, intake, therapist, prescriber, step-down or level" in str(
        info.value
    )


# 2. plan crashes on an infeasible cell --------------------------------------------------------


def test_plan_marks_infeasible_combinations_and_goes_on(tmp_path):
    out = tmp_path / "plan"
    result = invoke(
        "plan",
        "--vary",
        "tracks.evening.seats=12..13",  # no room has 13 seats
        "--target",
        "wait_to_iop_days_p90<=60",
        *TINY,
        "--out",
        str(out),
    )
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "plan.csv")
    row = table[table["tracks.evening.seats"] == 13].iloc[0]
    assert row["status"].startswith("infeasible: ") and "13 seats" in row["status"]
    assert table.loc[table["tracks.evening.seats"] == 12, "status"].iloc[0] in ("met", "not met")
    assert "1 infeasible" in result.output


def test_sweep_marks_infeasible_cells_and_runs_the_rest(tmp_path):
    out = tmp_path / "sweep"
    result = invoke("sweep", "--grid", "tracks.evening.seats=12..13", *TINY, "--out", str(out))
    assert result.exit_code == 0, result.output
    table = pd.read_csv(out / "sweep.csv")
    bad = table[table["tracks.evening.seats"] == 13]
    assert bad["status"].str.startswith("infeasible").all() and bad["mean"].isna().all()
    good = table[table["tracks.evening.seats"] == 12]
    assert (good["status"] == "ok").all() and good["mean"].notna().any()
    assert "combination(s) are not a valid clinic" in (out / "dashboard.html").read_text()


def test_a_grid_with_no_valid_combination_is_an_error():
    with pytest.raises(scenarios.ScenarioError, match="no combination is a valid clinic"):
        planning.cells(baseline(), [planning.parse_factor("tracks.evening.seats=20..21")])


def test_a_grid_value_that_is_a_word_leaves_the_numbers_numbers():
    """'1,x': the 1 is a number and its cell a valid clinic; only the word is not (both were
    read as text, and the grid refused as having no valid combination)."""
    factor = planning.parse_factor("staff.therapists.count=1,x")
    assert factor.values == (1, "x")
    one, word = planning.cells(baseline(), [factor])
    assert one.scenario is not None and one.scenario.staff["therapists"].size == 1
    assert word.scenario is None and "valid integer" in word.problem


# 3. The sweep heatmap flatters failure --------------------------------------------------------


def _sweep_table(means: dict[tuple, float], keys: list[str]) -> pd.DataFrame:
    rows = []
    for i, (values, mean) in enumerate(means.items()):
        row = {"cell": f"c{i}", "status": "ok", "kpi": "wait_to_iop_days_p90", "mean": mean}
        row.update(ci_low=mean - 1, ci_high=mean + 1, n=5)
        row.update(dict(zip(keys, values, strict=True)))
        rows.append(row)
    return pd.DataFrame(rows)


def test_cells_that_all_miss_the_target_are_red_and_the_title_says_so():
    keys = ["a", "b"]
    table = _sweep_table({(x, y): 17.5 + 4 * x + y for x in range(3) for y in range(3)}, keys)
    fig = figures.sweep_heatmap(table, keys, "wait_to_iop_days_p90", ("<=", 14.0))
    z = np.array(fig.data[0].z, dtype=float)
    assert (z < 0).all()  # every cell on the red side of the scale
    assert "NO cell meets the target <= 14" in fig.layout.title.text
    assert "black line" not in fig.layout.title.text


def test_met_means_the_pessimistic_end_of_the_ci():
    table = _sweep_table({(0, 0): 13.5, (0, 1): 12.0}, ["a", "b"])  # 13.5 + 1 > 14: not met
    fig = figures.sweep_heatmap(table, ["a", "b"], "wait_to_iop_days_p90", ("<=", 14.0))
    assert fig.data[0].z[0][0] < 0 < fig.data[0].z[1][0]


def test_a_third_factor_gets_panels_never_an_average():
    keys = ["a", "b", "c"]
    table = _sweep_table(
        {(x, y, c): x + y + 10 * c for x in range(2) for y in range(2) for c in range(3)}, keys
    )
    fig = figures.sweep_heatmap(table, keys, "wait_to_iop_days_p90", None)
    assert len(fig.data) == 3  # one heatmap per value of c
    assert sorted(float(np.nanmax(np.array(t.z, dtype=float))) for t in fig.data) == [2, 12, 22]


# 4. Nothing says what limits admissions -------------------------------------------------------


def test_caseload_caps_are_reported_as_the_binding_constraint():
    k = run(
        plain_short(
            "staff.therapists.iop_caseload_cap=2", "staff.evening therapists.iop_caseload_cap=2"
        )
    ).kpis
    # 8 caseload places for 20 seats: caseloads, not seats, hold admissions up
    assert k["admission_blocked_by_caseload_share"] > 0.5
    assert k["admission_blocked_by_seats_share"] < 0.05
    assert k["caseload_occupancy"] > 0.9


def test_seats_are_reported_when_they_bind():
    k = run(
        plain_short(
            "staff.therapists.iop_caseload_cap=10",
            "staff.evening therapists.iop_caseload_cap=10",
            "tracks.morning.seats=4",
            "tracks.evening.seats=4",
        )
    ).kpis
    assert k["admission_blocked_by_seats_share"] > 0.5
    assert k["admission_blocked_by_caseload_share"] < 0.05


def test_losses_that_absorb_demand_are_warned_about():
    result = run_experiment(plain_short("referrals.per_week=14"), replications=2)
    assert any(n.startswith("DEMAND ABSORBED BY LOSSES") for n in result.notes)
    calm = run_experiment(plain_short(), replications=2)
    assert not any(n.startswith("DEMAND ABSORBED") for n in calm.notes)
    lines = results.limiting_factors(result.summary)
    admissions = next(line for line in lines if line.startswith("Admissions were held up"))
    assert "caseload cap" in admissions and "no free seat" in admissions


# 5. Results for everyone hide who waits --------------------------------------------------------

TEENS = [
    'referrals.sources=[{name = "community", share = 0.6}, {name = "schools", share = 0.4, '
    'age_group = "adolescent"}]',
    'tracks=[{name = "morning", days = ["mon", "wed", "fri"], start = "09:00", session_hours = 3.0,'
    ' seats = 10, facilitator_pools = ["therapists"]}, {name = "after school", days = ["mon", '
    '"tue", "thu"], start = "17:30", session_hours = 3.0, seats = 6, facilitator_pools = '
    '["evening therapists"], age_group = "adolescent"}]',
]


def test_kpis_by_age_group_track_and_source_show_who_waits():
    sc = short(*TEENS)
    k = run_experiment(sc, replications=2).summary.set_index("kpi")["mean"]
    teens = "wait_to_iop_days_p90[age_group=adolescent]"
    for name in (
        teens,
        "wait_to_iop_days_p90[age_group=adult]",
        "lost_from_waitlist_share[source=schools]",
        "iop_census_mean[track=after school]",
        "client_weeks_meeting_hours_share[track=morning]",
    ):
        assert name in k.index, name
    # the census by track adds up to the whole census (time-weighted, same period)
    by_track = k["iop_census_mean[track=morning]"] + k["iop_census_mean[track=after school]"]
    assert by_track == pytest.approx(k["iop_census_mean"], rel=1e-9)


def test_targets_may_name_a_group_and_a_wrong_group_is_refused():
    sc = short(*TEENS, 'targets."wait_to_iop_days_p90[age_group=adolescent]"="<= 14"')
    result = run_experiment(sc, replications=2)
    row = result.targets.set_index("kpi").loc["wait_to_iop_days_p90[age_group=adolescent]"]
    assert row["met"] in (True, False)
    with pytest.raises(scenarios.ScenarioError, match="no age group 'teens'"):
        short(*TEENS, 'targets."wait_to_iop_days_p90[age_group=teens]"="<= 14"')


def test_the_headline_puts_losses_next_to_the_wait(tmp_path):
    result = invoke("run", *TINY, "--out", str(tmp_path / "r"))
    lines = result.output.splitlines()
    wait = next(i for i, line in enumerate(lines) if "90th percentile of days" in line)
    assert "gave up waiting" in lines[wait + 1]
    assert "By group" in result.output and "source=community" in result.output


# 6. Money that cannot be defended --------------------------------------------------------------


def test_the_per_diem_is_paid_only_on_billable_days():
    one = "payers=[]"  # the finance table's rule (each payer has its own: test_payers.py)
    any_day = run(short(one, 'finance.billable_day.requires="any_service"')).kpis
    group_day = run(short(one)).kpis
    medicare = run(short(one, "finance.billable_day.min_services=3")).kpis
    # same seed, same clients: the rule moves money and nothing else
    assert any_day["revenue_per_week"] > group_day["revenue_per_week"] > 0
    assert medicare["revenue_per_week"] <= group_day["revenue_per_week"]
    assert any_day["wait_to_iop_days_p90"] == group_day["wait_to_iop_days_p90"]
    assert group_day["billable_days_per_week"] < any_day["billable_days_per_week"]


def test_cost_follows_the_roster_unless_fte_is_given():
    rostered = variant("staff.intake.fte=0.3")
    without = scenarios.validate(
        {
            **scenarios.to_data(rostered),
            "staff": {
                name: {k: v for k, v in pool.items() if k != "fte"}
                for name, pool in scenarios.to_data(rostered)["staff"].items()
            },
        }
    )
    # the baseline's fte values match its rosters (25/40, 30/40, 16/40, 12/40 h)
    assert results.weekly_cost(without) == pytest.approx(results.weekly_cost(rostered))
    wrong = variant("staff.intake.fte=0.1")
    assert any("staff.intake.fte = 0.1" in w for w in scenarios.warnings(wrong))
    assert [w for w in scenarios.warnings(rostered) if w.startswith("staff.")] == []


# 7. Smaller things -----------------------------------------------------------------------------


def test_targets_print_bound_and_value_in_one_unit():
    targets = pd.DataFrame(
        [
            {
                "kpi": "wait_to_iop_days_p90",
                "target": "<= 14",
                "value": 30.5,
                "worst_case": 33.0,
                "met": False,
            }
        ]
    )
    line = target_lines(targets)[1]
    assert "<= 14.0 d: NOT MET (mean 30.5 d" in line and "wk" not in line


def test_compare_prints_a_table_that_fits_a_terminal(tmp_path):
    result = invoke(
        "compare",
        "baseline",
        "--variant",
        "staff.evening therapists.count=3",
        *TINY,
        "--out",
        str(tmp_path / "c"),
    )
    assert result.exit_code == 0, result.output
    assert max(len(line) for line in result.output.splitlines()) <= 100
    assert " pp" in result.output  # share differences in percentage points


def test_comparison_lines_show_share_differences_in_points():
    table = pd.DataFrame(
        [
            {
                "kpi": "seat_occupancy",
                "scenario": s,
                "mean": m,
                "difference": d,
                "difference_ci_low": d - 0.01,
                "difference_ci_high": d + 0.01,
            }
            for s, m, d in (("a", 0.9, 0.0), ("b", 0.8, -0.1))
        ]
    )
    text = "\n".join(comparison_lines(table, ["a", "b"], kpis=("seat_occupancy",)))
    assert "-10.0 pp*" in text


def test_a_string_is_not_a_number():
    with pytest.raises(scenarios.ScenarioError, match="tracks.evening.seats"):
        scenarios.apply_overrides(baseline(), ['tracks.evening.seats="8"'])


def test_every_problem_of_a_timetable_is_reported_at_once():
    with pytest.raises(scenarios.ScenarioError) as info:
        variant("tracks.evening.start=18:30")  # past the rooms' 21:00 and the roster's end
    text = str(info.value)
    assert "cannot get any room" in text and "facilitator(s)" in text


def test_a_session_no_room_can_hold_says_which_room_is_closed_and_which_taken():
    """A Saturday group in rooms open Monday to Friday: the problem names each room, that it
    is closed then and the key of its hours; a room busy with another track is said to be
    taken."""
    with pytest.raises(scenarios.ScenarioError) as info:
        variant('tracks.evening.days=["sat"]')
    text = str(info.value)
    assert "the session on Sat 17:30-20:30 cannot get any room with 10 seats" in text
    assert "'Group Room A' is closed then (rooms.Group Room A.available: mon, tue, wed" in text
    with pytest.raises(scenarios.ScenarioError) as info:
        variant(  # the morning track moved onto the evening's times, with one room
            'rooms=[{name = "Group Room A", seats = 12}]',
            'tracks.morning.days=["mon", "tue", "thu"]',
            "tracks.morning.start=17:30",
            'tracks.morning.facilitator_pools=["evening therapists"]',
        )
    text = str(info.value)
    assert "tracks.morning: the session on Mon 17:30-20:30 cannot get any room" in text
    assert "'Group Room A' is taken by another track then" in text


def test_an_out_path_with_backslashes_is_refused(tmp_path):
    result = CliRunner().invoke(main, ["run", *TINY, "--out", "runs\\win_out"])
    assert result.exit_code == 2 and "backslash" in result.output


def test_a_second_command_on_a_folder_in_use_is_refused(tmp_path):
    folder = tmp_path / "busy"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from simulation import outputs
                outputs.lock_folder({str(folder)!r})
                print("locked", flush=True)
                time.sleep(30)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        result = CliRunner().invoke(main, ["run", *TINY, "--force", "--out", str(folder)])
        assert result.exit_code == 2
        assert f"being written by another iopsim command (pid {holder.pid})" in result.output
    finally:
        holder.kill()
        holder.wait()
    # the lock of a process that died is taken over: nothing blocks the next run
    result = CliRunner().invoke(main, ["run", *TINY, "--force", "--out", str(folder)])
    assert result.exit_code == 0, result.output
    assert not (tmp_path / ".busy.lock").exists()


def test_hours_bars_side_by_side_and_sankey_labels_apart():
    weeks = pd.DataFrame(
        {"week": [5] * 4, "rule_hours": [9.0, 9.0, 6.0, 6.0], "hours": [9.0, 7.0, 6.0, 3.0]}
    )
    assert figures.hours_attended(weeks, 0).layout.barmode == "group"
    res = run(short())
    fig = figures.flow(res.clients, 4 * 168.0, 20 / 52, 1)
    sankey = fig.data[0]
    final = sorted(y for x, y in zip(sankey.node.x, sankey.node.y, strict=True) if x > 0.99)
    assert len(final) >= 4
    assert min(np.diff(final)) >= 0.05  # a label's height apart


def test_share_cis_stay_within_0_and_1():
    kpis = pd.DataFrame({"replication": [0, 1], "seat_occupancy": [0.01, 0.3]})
    row = results.summarise(kpis).iloc[0]
    assert 0.0 <= row["ci_low"] < 0.01 and row["ci_high"] <= 1.0  # (the logit scale: never below 0)


def test_every_scenario_key_is_documented():
    from pydantic import BaseModel

    with open("docs/parameters.md", encoding="utf-8") as handle:
        documented = handle.read()
    missing = []

    def walk(model: type[BaseModel]) -> None:
        for name, field in model.model_fields.items():
            if f"`{name}`" not in documented and f".{name}`" not in documented:
                missing.append(f"{model.__name__}.{name}")
            for sub in _models_in(field.annotation):
                if sub.__module__.startswith("simulation.config."):
                    walk(sub)

    walk(scenarios.Scenario)
    assert missing == []


# 8. The CLI: one module per command, fast start ------------------------------------------------


@pytest.mark.parametrize("args", [["--help"], ["validate", "baseline"]])
def test_help_and_validate_import_no_pandas_scipy_or_plotly(args):
    code = textwrap.dedent(
        f"""
        import sys
        from simulation.cli import main
        try:
            main({args!r})
        except SystemExit:
            pass
        print(sorted(m for m in ("pandas", "scipy", "plotly") if m in sys.modules))
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_run_does_not_import_scipy_stats(tmp_path):
    code = textwrap.dedent(
        f"""
        import sys
        from simulation.cli import main
        try:
            main(["run", "--replications", "2", "--weeks", "3", "--warmup-weeks", "1",
                  "--workers", "1", "-q", "--out", {str(tmp_path / "r")!r}])
        except SystemExit:
            pass
        print(json.dumps("scipy.stats" in sys.modules))
        """
    ).replace("import sys", "import json, sys")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False
