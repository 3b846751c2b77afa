"""Reliability: malformed input never crashes, interruptions lose nothing, nothing is half-written."""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import signal
import subprocess
import sys
import time
import tomllib

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from simulation.cli import main
from tests.conftest import CLINIC

BASELINE_TEXT = CLINIC.read_text()
BASELINE = tomllib.loads(BASELINE_TEXT)
FAST = [
    "--replications",
    "1",
    "--weeks",
    "3",
    "--warmup-weeks",
    "1",
    "--workers",
    "1",
    "--no-dashboard",
    "-q",
]


def _paths(data, prefix=()):
    """Every key path in nested TOML data (tables and lists of tables)."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))
    elif isinstance(data, list):
        for i, value in enumerate(data):
            if isinstance(value, dict):
                yield from _paths(value, (*prefix, i))


PATHS = list(_paths(BASELINE))
EXTREMES = [
    0,
    -1,
    1e308,
    -1e308,
    2**63,
    10**30,
    1e-300,
    math.inf,
    -math.inf,
    math.nan,
    "",
    "x" * 5000,
    [],
    {},
    True,
]


def _parent(data, path):
    for part in path[:-1]:
        data = data[part]
    return data


@st.composite
def mutated(draw):
    data = copy.deepcopy(BASELINE)
    for _ in range(draw(st.integers(1, 2))):
        path = draw(st.sampled_from(PATHS))
        try:
            parent = _parent(data, path)
            key = path[-1]
            if key not in parent if isinstance(parent, dict) else key >= len(parent):
                continue
        except (KeyError, IndexError, TypeError):
            continue
        action = draw(st.sampled_from(["delete", "retype", "rename", "extreme", "scale", "scale"]))
        value = parent[key]
        if action == "scale":
            if isinstance(value, int | float) and not isinstance(value, bool):
                factor = draw(st.sampled_from([0, 0.5, 2, 10]))
                parent[key] = type(value)(value * factor)
        elif action == "delete":
            del parent[key]
        elif action == "rename" and isinstance(parent, dict):
            parent[key + draw(st.sampled_from(["s", "_x", "X"]))] = parent.pop(key)
        elif action == "retype":
            value = parent[key]
            parent[key] = (
                str(value)
                if not isinstance(value, str)
                else draw(st.sampled_from([1, [1], {"a": 1}]))
            )
        else:
            parent[key] = draw(st.sampled_from(EXTREMES))
    return data


def _toml(data) -> str:
    """A tiny TOML writer (tomllib cannot write): inline tables keep it simple."""

    def value(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, float):
            return (
                "nan"
                if math.isnan(v)
                else ("inf" if v == math.inf else "-inf" if v == -math.inf else repr(v))
            )
        if isinstance(v, int):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v)  # JSON string escapes are valid TOML basic-string escapes
        if isinstance(v, dt.date):
            return v.isoformat()
        if isinstance(v, list):
            return "[" + ", ".join(value(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f'"{k}" = {value(x)}' for k, x in v.items()) + "}"
        return '"' + str(v) + '"'

    return "\n".join(f'"{k}" = {value(v)}' for k, v in data.items()) + "\n"


@settings(
    max_examples=100,
    deadline=20_000,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(data=mutated(), duplicate=st.booleans())
def test_mutated_scenarios_give_a_clean_run_or_a_clean_error(data, duplicate, tmp_path_factory):
    folder = tmp_path_factory.mktemp("fuzz")
    text = _toml(data)
    if duplicate:
        text += (
            "\n[finance]\niop_per_diem = 1.0\n[finance]\niop_per_diem = 2.0\n"  # a duplicated table
        )
    path = folder / "s.toml"
    path.write_text(text)
    out = folder / "run"
    result = CliRunner().invoke(main, ["run", str(path), *FAST, "--out", str(out)])
    assert result.exit_code in (0, 2), result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 2:
        assert "error" in result.output and not out.exists()
    else:
        assert (out / "manifest.json").exists()
    assert not list(folder.glob(".*partial"))


def test_bundled_fuzz_writer_round_trips():
    assert tomllib.loads(_toml(BASELINE)) == BASELINE


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (("seats = 12", "seatz = 12"), "did you mean 'seats'"),
        (("attendance = 0.82", "attendance = 1.5"), "iop.attendance = 1.5"),
        (("count = 2\nroster", "count = -2\nroster"), "staff.therapists.count = -2"),
        (
            ("min = 21, max = 180", "min = 200, max = 180"),
            "min (200.0) must not be above max (180.0)",
        ),
        (("per_week = 7.0", "per_week = nan"), "referrals.per_week"),
        (('start = "17:30"', 'start = "27:30"'), "not a time of day"),
        (("iop = 0.75, higher_care", "iop = 0.95, higher_care"), "intake.outcomes must sum to 1"),
        (('pools = ["intake"]', "pools = []"), "no one can do intake assessments"),
        (("[finance]", "[finance]\n[finance]"), "TOML syntax error"),
    ],
)
def test_each_malformed_scenario_has_a_clear_error(edit, message, tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BASELINE_TEXT.replace(*edit, 1))
    result = CliRunner().invoke(main, ["run", str(path), *FAST, "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert message in result.output
    assert not (tmp_path / "out").exists()


def test_oversized_runs_are_refused_with_an_estimate_and_a_way_to_force(tmp_path):
    result = CliRunner().invoke(
        main, ["run", "--replications", "10000", "--weeks", "1040", "--out", str(tmp_path / "big")]
    )
    assert result.exit_code == 2
    assert "estimated to take" in result.output and "--allow-long" in result.output
    assert not (tmp_path / "big").exists()


def test_a_full_disk_is_caught_before_simulating(tmp_path, monkeypatch):
    import shutil as shutil_module

    from simulation import workload

    monkeypatch.setattr(
        workload.shutil, "disk_usage", lambda p: shutil_module._ntuple_diskusage(1, 1, 1000)
    )
    result = CliRunner().invoke(main, ["run", *FAST, "--out", str(tmp_path / "full")])
    assert result.exit_code == 2 and "MB free" in result.output


def test_an_output_path_under_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["run", *FAST, "--out", str(blocker / "run")])
    assert result.exit_code == 2 and "not a folder" in result.output


def _start(args, cwd):
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_run_leaves_no_folder(sig, tmp_path):
    out = tmp_path / "run"
    proc = _start(["run", "--replications", "800", "--workers", "2", "--out", str(out)], tmp_path)
    time.sleep(
        5.0
    )  # past start-up (imports take 1-2 s) and well into the replications (~50 s in all)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert not out.exists()
    assert not list(tmp_path.glob(".*partial"))


def test_an_interrupted_sweep_resumes(tmp_path):
    out = tmp_path / "sweep"
    args = [
        "sweep",
        "--grid",
        "staff.intake.count=1..4",
        "--grid",
        "tracks.evening.seats=8..10",
        "--replications",
        "3",
        "--workers",
        "1",
        "--out",
        str(out),
        "-q",
    ]
    proc = _start(args, tmp_path)
    deadline = time.monotonic() + 120

    def cells() -> int:  # finished cells (not their weekly waitlists)
        return sum("." not in p.stem for p in (out / "cells").glob("*.parquet"))

    while time.monotonic() < deadline and cells() < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    kept = cells()
    assert 2 <= kept < 12
    again = CliRunner().invoke(main, [*args[:-1]])
    assert again.exit_code == 0
    result = CliRunner().invoke(main, [a for a in args if a != "-q"])
    assert "0 run now, 12 already done" in result.output


def test_a_disk_filling_up_while_writing_leaves_nothing(tmp_path, monkeypatch):
    import errno

    import pandas as pd

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device", "weekly.parquet")

    monkeypatch.setattr(pd.DataFrame, "to_parquet", full)
    result = CliRunner().invoke(main, ["run", *FAST, "--out", str(tmp_path / "run")])
    assert result.exit_code == 2
    assert "No space left on device" in result.output
    assert list(tmp_path.iterdir()) == []
