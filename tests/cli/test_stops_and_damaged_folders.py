"""Stopping and damage: workers end with their parent, leftovers of dead processes are cleaned
up, signals at any moment are a clean stop, names shared across kinds, damaged run folders,
control characters, impossible dates and concurrent commands on one folder. The
kill tests use real signals on real processes and look for survivors in /proc."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from simulation import config as scenarios
from simulation import outputs
from simulation.cli import main
from tests.conftest import CLINIC, baseline

TINY = ["--replications", "2", "--weeks", "3", "--warmup-weeks", "1", "--workers", "1", "-q"]
CONTROL = ("\x1b", "\x07", "\x00", "\u202e")


def iopsim(*args, **popen) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "simulation.entry", *args],  # what the console script runs
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **popen,
    )


def children(pid: int) -> list[int]:
    """Live (not zombie) processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(entry.name))
    return found


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def wait_for(condition, seconds: float = 30.0, step: float = 0.02) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(step)
    return False


# 1. Workers outlive a killed parent ------------------------------------------------------------


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
@pytest.mark.parametrize("command", ["run", "sweep"])
def test_workers_end_with_their_parent(command, how, tmp_path):
    args = ["--replications", "6", "--weeks", "104", "--warmup-weeks", "52", "--workers", "2"]
    args += ["--out", str(tmp_path / "out")]
    if command == "sweep":
        args += ["--grid", "staff.intake.count=1..2"]
    parent = iopsim(command, *args)
    try:
        assert wait_for(lambda: len(children(parent.pid)) >= 2), "the pool never started"
        workers = children(parent.pid)
        parent.send_signal(how)
        parent.wait(timeout=30)
        # a parent-death signal (or the workers' watcher) ends every worker within seconds
        assert wait_for(lambda: not any(alive(w) for w in workers), seconds=10), [
            w for w in workers if alive(w)
        ]
    finally:
        parent.kill()
        parent.wait()
    if how == signal.SIGTERM:
        assert parent.returncode == 130
        assert "Traceback" not in parent.stderr.read()


@pytest.mark.parametrize("command", ["run", "sweep"])
def test_sigterm_to_the_whole_process_group_is_a_clean_stop(command, tmp_path):
    """`timeout`, batch schedulers and service managers signal the process group: workers
    and parent at once. The workers leave it to the parent (a worker ended by the signal
    broke the pool under cancelled work, and its thread died with InvalidStateError)."""
    import os

    args = ["--replications", "40", "--weeks", "104", "--warmup-weeks", "52", "--workers", "2"]
    args += ["--out", str(tmp_path / "out"), "--allow-long"]
    if command == "sweep":
        args += ["--grid", "staff.intake.count=1..2", "--grid", "referrals.per_week=8..12"]
    parent = iopsim(command, *args, start_new_session=True)
    try:
        assert wait_for(lambda: len(children(parent.pid)) >= 2), "the pool never started"
        workers = children(parent.pid)
        time.sleep(1.0)  # (replications under way and queued)
        os.killpg(parent.pid, signal.SIGTERM)
        parent.wait(timeout=60)
        assert wait_for(lambda: not any(alive(w) for w in workers), seconds=10)
    finally:
        parent.kill()
        parent.wait()
    err = parent.stderr.read()
    assert parent.returncode == 130, err
    assert "Traceback" not in err and "Exception in thread" not in err, err
    assert "interrupted" in err


# 2. A hard kill leaves a hidden partial folder ----------------------------------------------------


def test_a_pool_stopped_while_it_starts_ends_its_workers_without_a_traceback():
    """A signal between a pool forking its workers and starting its manager thread (a sweep
    sent SIGTERM as its pool started, on a busy machine) left a pool whose shutdown raised
    "cannot join thread before it is started": the command printed a traceback. That moment
    is made here as the standard library makes it; the shutdown ends the workers instead."""
    from concurrent.futures.process import _ExecutorManagerThread

    from simulation.workers import new_pool, shut_down

    pool = new_pool(2)
    pool._launch_processes()  # the workers forked ...
    pool._executor_manager_thread = _ExecutorManagerThread(pool)  # ... the thread not started
    workers = list(pool._processes.values())
    assert len(workers) == 2 and all(w.is_alive() for w in workers)
    shut_down(pool)
    assert not any(w.is_alive() for w in workers)


def test_leftovers_of_a_dead_process_are_removed_by_the_next_command(tmp_path):
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    pid = int(dead.stdout)  # that process has ended: its pid is free
    leftover = tmp_path / f".out.{pid}.abc123.partial"
    leftover.mkdir()
    (leftover / "summary.csv").write_text("half")
    old = tmp_path / f".out.old-{pid}"
    old.mkdir()
    lock = tmp_path / ".out.lock"
    lock.write_text(str(pid))  # a lock its dead owner never released
    result = CliRunner().invoke(main, ["run", *TINY, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_a_live_process_folder_is_never_touched(tmp_path):
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        theirs = tmp_path / f".out.{sleeper.pid}.xyz.partial"
        theirs.mkdir()
        assert outputs.remove_leftovers(tmp_path / "out") == []
        assert theirs.exists()
    finally:
        sleeper.kill()
        sleeper.wait()
    assert outputs.remove_leftovers(tmp_path / "out") == [theirs]


def test_a_real_kill_while_writing_is_cleaned_up_by_the_rerun(tmp_path):
    out = tmp_path / "out"
    args = ["run", "--replications", "3", "--weeks", "52", "--warmup-weeks", "4", "--workers", "1"]
    caught = False
    for _ in range(3):  # the window is short: try to land the kill inside it
        proc = iopsim(*args, "--out", str(out), "--force")
        caught = wait_for(lambda: any(tmp_path.glob(".out.*.partial")), seconds=60, step=0.002)
        proc.kill()
        proc.wait()
        if caught:
            break
    rerun = CliRunner().invoke(main, ["run", *TINY, "--force", "--out", str(out)])
    assert rerun.exit_code == 0, rerun.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


# 3. Signals at the wrong moment -------------------------------------------------------------------


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGTERM])
# from 0.15 s: before that the interpreter itself may still be starting (its code, not ours)
@pytest.mark.parametrize("after", [0.15, 0.25, 0.35])
def test_a_signal_while_starting_is_a_clean_stop(how, after, tmp_path):
    proc = iopsim("run", *TINY, "--out", str(tmp_path / "out"))
    time.sleep(after)
    proc.send_signal(how)
    _, err = proc.communicate(timeout=60)
    if proc.returncode == 0:  # it had already finished: nothing to check
        return
    # 130, or ended by the signal itself once the clean-up has run (a shell shows 130 for both)
    assert proc.returncode in (130, -how), (proc.returncode, err)
    assert "Traceback" not in err and "interrupted" in err
    assert not (tmp_path / "out").exists()


def test_an_interruption_a_library_wraps_is_still_a_clean_stop(tmp_path, monkeypatch):
    """pydantic turns a KeyboardInterrupt raised while it builds a schema into its own
    SchemaError (seen in CI: SIGTERM 0.35 s after start): once a signal has arrived, any
    exception is a clean stop; without one, the same exception is not hidden."""
    import simulation.cli as cli

    def wrapped(*args, **kwargs):
        cli.SIGNALLED.append(signal.SIGTERM)
        raise RuntimeError('Error building "literal" validator: Interrupted')

    monkeypatch.setattr(cli, "SIGNALLED", [])
    monkeypatch.setattr(outputs, "write_run", wrapped)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["run", *TINY, "--out", str(out)])
    assert result.exit_code == 130 and "interrupted" in result.output
    assert not out.exists()

    def broken(*args, **kwargs):
        raise RuntimeError("a real bug")

    monkeypatch.setattr(cli, "SIGNALLED", [])
    monkeypatch.setattr(outputs, "write_run", broken)
    result = CliRunner().invoke(main, ["run", *TINY, "--out", str(out)])
    assert isinstance(result.exception, RuntimeError)  # not passed off as an interruption


def test_a_signal_after_the_folder_is_complete_says_so(tmp_path, monkeypatch):
    real = outputs.write_run

    def then_interrupted(*args, **kwargs):
        path = real(*args, **kwargs)
        raise KeyboardInterrupt  # arrives just after the rename
        return path

    monkeypatch.setattr(outputs, "write_run", then_interrupted)
    result = CliRunner().invoke(main, ["run", *TINY, "--out", str(tmp_path / "out")])
    assert result.exit_code == 0
    assert "is complete" in result.output and "no partial output" not in result.output
    assert (tmp_path / "out" / "summary.csv").exists()


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_once_the_folder_is_complete_never_kills_a_finished_command(tmp_path, signum):
    """However late it comes (while the command prints, or while the interpreter shuts down,
    when Python's default handler would kill the process silently with 130), a signal after
    the folder is complete ends with exit 0 and the folder whole."""
    for attempt in range(3):  # (the signal lands at a different moment each time)
        out = tmp_path / f"out{attempt}"
        proc = iopsim("run", *TINY, "--out", str(out))
        deadline = time.monotonic() + 60
        while not out.exists() and time.monotonic() < deadline:
            time.sleep(0.005)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
        assert (out / "summary.csv").exists() and "Traceback" not in err


# 5. Names that collide across kinds ---------------------------------------------------------------


def test_a_name_used_by_a_room_and_a_person_is_refused():
    base = baseline()
    with pytest.raises(scenarios.ScenarioError, match="used by a room and a staff member"):
        scenarios.apply_overrides(base, ['staff.prescribers.members=["Group Room B"]'])
    with pytest.raises(scenarios.ScenarioError, match="used by a track and a room"):
        scenarios.apply_overrides(base, ["rooms.Group Room B.name=evening"])


# 6. Damaged or wrong folders ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("folders")
    run = CliRunner().invoke(main, ["run", *TINY, "--out", str(root / "run")])
    assert run.exit_code == 0, run.output
    cmp = CliRunner().invoke(
        main,
        [
            "compare",
            "baseline",
            "--variant",
            "staff.intake.count=2",
            *TINY,
            "--out",
            str(root / "cmp"),
        ],
    )
    assert cmp.exit_code == 0, cmp.output
    return root


def _damaged(root: Path, name: str, damage) -> Path:
    import shutil

    copy = root / name
    if not copy.exists():
        shutil.copytree(root / "run", copy)
        damage(copy)
    return copy


DAMAGE = {
    "truncated manifest": lambda f: (f / "manifest.json").write_text('{"scenario": {"na'),
    "manifest not an object": lambda f: (f / "manifest.json").write_text("[1, 2]"),
    "manifest without scenario": lambda f: (f / "manifest.json").write_text('{"seed": 1}'),
    "truncated parquet": lambda f: (f / "weekly.parquet").write_bytes(
        (f / "weekly.parquet").read_bytes()[:100]
    ),
    "empty summary": lambda f: (f / "summary.csv").write_text(""),
    "summary without columns": lambda f: (f / "summary.csv").write_text("a,b\n1,2\n"),
    "no kpis": lambda f: (f / "kpis.csv").unlink(),
    "not json at all": lambda f: (f / "manifest.json").write_bytes(b"\xff\xfe\x00"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
@pytest.mark.parametrize("command", ["dashboard", "compare"])
def test_a_damaged_run_folder_is_one_clear_line(folders, damage, command):
    folder = _damaged(folders, damage.replace(" ", "_"), DAMAGE[damage])
    args = (
        ["dashboard", str(folder)]
        if command == "dashboard"
        else [
            "compare",
            str(folders / "run"),
            str(folder),
            "--out",
            str(folders / f"c-{damage}"),
            "-q",
        ]
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    lines = [line for line in result.output.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and str(folder) in lines[0]


@pytest.mark.parametrize("command", ["dashboard", "compare"])
def test_a_comparison_folder_is_not_a_run_folder(folders, command):
    args = (
        ["dashboard", str(folders / "cmp")]
        if command == "dashboard"
        else [
            "compare",
            str(folders / "run"),
            str(folders / "cmp"),
            "--out",
            str(folders / "c2"),
            "-q",
        ]
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2
    assert "is a comparison folder (iopsim compare), not a run folder" in result.output


# 8. Terminal escapes --------------------------------------------------------------------------------

HOSTILE = "evil\x1b[2J\x1b]0;pwned\x07\u202eend\x00"


def hostile_scenario(tmp_path: Path) -> Path:
    text = CLINIC.read_text(encoding="utf-8")
    escaped = json.dumps(HOSTILE)  # a TOML basic string takes the same \\u escapes
    text = text.replace('name = "baseline"', f"name = {escaped}", 1)
    text = text.replace('name = "community"', f"name = {escaped}", 1)
    text = text.replace(
        'therapist_utilisation = "<= 0.85"',
        f'{json.dumps(f"wait_to_iop_days_p90[source={HOSTILE}]")} = "<= 14"',
    )
    path = tmp_path / "hostile.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _clean(text: str) -> bool:
    return not any(ch in text for ch in CONTROL)


def test_no_raw_control_character_reaches_the_terminal(tmp_path):
    sc = hostile_scenario(tmp_path)
    run = iopsim("run", str(sc), *TINY, "--no-dashboard", "--out", str(tmp_path / "r"))
    run_out, run_err = run.communicate(timeout=120)
    run = iopsim("run", str(sc), *TINY[:-1], "--no-dashboard", "--out", str(tmp_path / "r2"))
    loud_out, loud_err = run.communicate(timeout=120)
    assert run.returncode == 0, loud_err
    assert "\\x1b" in loud_out  # the hostile name is shown, escaped
    bad = tmp_path / "bad.toml"
    bad.write_text(
        sc.read_text(encoding="utf-8").replace(
            'pools = ["intake"]', f"pools = [{json.dumps(HOSTILE)}]"
        ),
        encoding="utf-8",
    )
    validate = iopsim("validate", str(bad))
    v_out, v_err = validate.communicate(timeout=60)
    assert validate.returncode == 2 and "\\x1b" in v_err
    plan = iopsim(
        "plan",
        str(sc),
        "--vary",
        "staff.intake.count=1..2",
        *TINY[:-1],
        "--out",
        str(tmp_path / "p"),
    )
    p_out, p_err = plan.communicate(timeout=120)
    assert plan.returncode == 0, p_err
    compare = iopsim(
        "compare",
        str(sc),
        "--variant",
        "staff.intake.count=2",
        *TINY[:-1],
        "--out",
        str(tmp_path / "c"),
    )
    c_out, c_err = compare.communicate(timeout=120)
    assert compare.returncode == 0, c_err
    for text in (run_out, run_err, loud_out, loud_err, v_out, v_err, p_out, p_err, c_out, c_err):
        assert _clean(text), repr(text[:300])
    csv = (tmp_path / "c" / "comparison.csv").read_text(encoding="utf-8")
    assert _clean(csv) and "\\x00" in csv


# 9. Dates at the edge ------------------------------------------------------------------------------


@pytest.mark.parametrize("date", ["9999-12-20", "0001-01-01"])
def test_a_start_date_whose_horizon_cannot_fit_is_refused(date, tmp_path):
    result = CliRunner().invoke(
        main, ["run", *TINY, "--set", f"start_date={date}", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "start_date" in result.output
    assert "Traceback" not in result.output and not (tmp_path / "r").exists()


# 10. Three identical sweeps on one folder at once ------------------------------------------------


def test_concurrent_sweeps_on_one_folder_are_refused_not_broken(tmp_path):
    args = ["sweep", "--grid", "staff.intake.count=1..3", *TINY, "--out", str(tmp_path / "s")]
    procs = [iopsim(*args) for _ in range(3)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = [code for code, _, _ in results]
    assert all(code in (0, 2) for code in codes), results
    assert 0 in codes
    for code, _, err in results:
        assert "Traceback" not in err and "No such file" not in err
        if code == 2:
            assert "being written by another iopsim command" in err
    again = iopsim(*args)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert not list((tmp_path / "s" / "cells").glob(".*"))
