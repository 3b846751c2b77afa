"""Run folders: written atomically, never silently overwritten, and read back.

A run folder holds ``manifest.json`` (everything needed to reproduce the run), ``summary.csv``
(one row per KPI with its CI), ``kpis.csv`` (one row per replication), the Parquet tables and
any extra files (the dashboard). It is written into a hidden temporary sibling and renamed into
place in one step, so a crash or Ctrl-C never leaves a half-written run folder behind.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import platform
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from simulation import __version__
from simulation.config import Scenario, to_data
from simulation.config import validate as validate_scenario
from simulation.text import shown

LIBRARIES = ("simpy", "numpy", "pandas", "scipy", "pydantic", "plotly", "pyarrow", "click")


class OutputError(Exception):
    """A run folder that cannot be written (exists, not writable, ...)."""


def safe_name(text: str, limit: int = 60) -> str:
    """A folder-name-safe version of ``text``: no separators, no '..', no odd characters."""
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")
    return cleaned[:limit] or "scenario"


def default_run_dir(scenario: Scenario, base: str | Path = "outputs") -> Path:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    return Path(base) / f"{safe_name(scenario.name)}-{stamp}"


def check_writable(folder: Path, force: bool = False) -> None:
    """Fail early, before any simulation, if ``folder`` cannot be written."""
    folder = Path(folder)
    if folder.exists() and not force:
        raise OutputError(
            f"{folder} already exists; choose another --out or add --force to replace it"
        )
    if folder.exists() and not folder.is_dir():
        raise OutputError(f"{folder} exists and is not a folder")
    parent = folder.parent
    probe = parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"cannot write {folder}: {probe} is a file, not a folder")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"cannot write into {probe}: permission denied")


_HELD_LOCKS: dict[Path, object] = {}  # lock file -> its descriptor (flock) or filelock


def lock_folder(folder: str | Path) -> None:
    """Hold an exclusive lock on writing ``folder`` until this process ends.

    The lock is ``.<name>.lock`` beside the folder, locked with flock: the kernel releases it
    when the process ends, however it ends, so a lock left by a killed process is taken over
    by the next command and never blocks anyone. A second command on the same folder while
    the first runs is refused at once (OutputError naming the holder's pid), instead of both
    reporting success while only one result is kept."""
    import atexit

    folder = Path(folder)
    lock = folder.parent / f".{folder.name}.lock"
    if lock in _HELD_LOCKS:
        return
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # check_writable reports an unwritable place
    try:
        import fcntl
    except ImportError:  # no flock here (Windows): the portable lock
        _lock_portably(folder, lock)
        return
    while True:
        try:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError:
            return  # a read-only place: check_writable reports it
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise OutputError(
                f"{folder} is being written by another iopsim command (pid {holder}); "
                "wait for it to finish or choose another --out"
            ) from None
        try:
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino
        except FileNotFoundError:
            same = False
        if not same:  # its previous holder removed it between our open and flock: again
            os.close(fd)
            continue
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        _HELD_LOCKS[lock] = fd
        atexit.register(_release_lock, lock)
        remove_leftovers(folder)
        return


_PID = re.compile(r"\.(\d+)\.[^.]*\.?partial$|\.old-(\d+)$|\.(\d+)\.partial$")


def pid_alive(pid: int) -> bool:
    """True if a process with this id exists (it may belong to another user)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers(target: str | Path) -> list[Path]:
    """Remove what a killed iopsim left beside ``target``: hidden temporary folders and files
    (``.<name>.<pid>...partial``, ``.<name>.old-<pid>``) whose process no longer exists. A live
    process's are never touched. Returns what was removed."""
    import glob

    target = Path(target)
    return _remove_dead(target.parent.glob(f".{glob.escape(target.name)}.*"))


def remove_leftovers_in(directory: str | Path) -> list[Path]:
    """Remove every temporary file or folder of a killed iopsim inside ``directory``."""
    return _remove_dead(Path(directory).glob(".*"))


def _remove_dead(paths) -> list[Path]:
    removed = []
    for path in paths:
        match = _PID.search(path.name)
        if match is None:
            continue
        pid = int(next(g for g in match.groups() if g))
        if pid == os.getpid() or pid_alive(pid):
            continue
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
        removed.append(path)
    return removed


COMPLETED: list[Path] = []
"""Folders this process has finished writing (so an interruption after that can say so)."""


@contextlib.contextmanager
def signals_held():
    """Ctrl-C and SIGTERM wait until the block is done (a folder swap is never half-done)."""
    import signal

    held = {signal.SIGINT, signal.SIGTERM}
    try:
        previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    except (AttributeError, ValueError):  # not the main thread, or no such call here
        yield
        return
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def _lock_portably(folder: Path, lock: Path) -> None:
    """``lock_folder`` where the system has no flock: filelock's lock (the system's own
    file locking, released when the process ends). Its lock file stays beside the folder
    (removing a lock file while others may have opened it is the race filelock avoids)."""
    import atexit

    from filelock import FileLock, Timeout

    handle = FileLock(str(lock), timeout=0)
    try:
        handle.acquire()
    except Timeout:
        raise OutputError(
            f"{folder} is being written by another iopsim command; "
            "wait for it to finish or choose another --out"
        ) from None
    _HELD_LOCKS[lock] = handle
    atexit.register(_release_lock, lock)
    remove_leftovers(folder)


def release_locks() -> None:
    """Release every folder this process holds (a command has finished)."""
    for lock in list(_HELD_LOCKS):
        _release_lock(lock)


def _release_lock(lock: Path) -> None:
    fd = _HELD_LOCKS.pop(lock, None)
    if fd is not None and not isinstance(fd, int):  # filelock's
        fd.release()
    elif fd is not None:
        with contextlib.suppress(OSError):
            lock.unlink()
        os.close(fd)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version(), "iopsim": __version__}
    for name in LIBRARIES:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = "not installed"
    return found


def _json_default(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if hasattr(value, "item"):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def manifest(result, command: list[str] | None = None, extra: dict | None = None) -> dict:
    """Everything needed to reproduce a run: ``iopsim run`` on the scenario below with the seed."""
    scenario = result.scenario
    data = {
        "iopsim_version": __version__,
        "scenario": to_data(scenario),
        "seed": result.seed,
        "replications": result.replications,
        "warmup_weeks": scenario.warmup_weeks,
        "horizon_weeks": scenario.horizon_weeks,
        "started": result.started,
        "finished": result.finished,
        "executor": result.executor,
        "command": command if command is not None else sys.argv,
        "versions": versions(),
        "platform": platform.platform(),
        "notes": list(result.notes),
        "targets": result.targets.to_dict(orient="records") if not result.targets.empty else [],
    }
    data.update(extra or {})
    return data


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _inert(value):
    if not isinstance(value, str):
        return value
    value = shown(value)  # NUL, ESC and bidi overrides written out, never raw
    return "'" + value if value.startswith(_FORMULA_START) else value


def csv_text(table: pd.DataFrame) -> str:
    """A table as CSV with user text made inert: a text cell starting with = + - @ (a formula
    to Excel or LibreOffice) gets a leading apostrophe, and control characters are escaped."""
    safe = table.copy()
    for column in safe.columns:
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(_inert)
    safe.columns = [_inert(c) if isinstance(c, str) else c for c in safe.columns]
    return safe.to_csv(index=False)


def write_folder(folder: str | Path, files: dict[str, object], force: bool = False) -> Path:
    """Write a folder of files atomically: DataFrames as .csv or .parquet by their name,
    dicts as JSON, text and bytes as they are; a callable gives its content when its turn
    comes (a page built elsewhere while the tables before it are written). Built in a hidden
    temporary sibling, then renamed into place; an existing folder is replaced only with
    ``force``."""
    folder = Path(folder)
    check_writable(folder, force)
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(
            prefix=f".{folder.name}.{os.getpid()}.", suffix=".partial", dir=folder.parent
        )
    )
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a run folder is an ordinary folder
    try:
        for name, content in files.items():
            path = tmp / name
            if callable(content):
                content = content()
            if isinstance(content, pd.DataFrame):
                if name.endswith(".parquet"):
                    content.to_parquet(path, index=False)
                else:
                    path.write_text(csv_text(content), encoding="utf-8")
            elif isinstance(content, dict | list):
                path.write_text(
                    json.dumps(content, indent=2, default=_json_default), encoding="utf-8"
                )
            elif isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(str(content), encoding="utf-8")
        replace_dir(tmp, folder, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return folder


def write_run(
    result,
    folder: str | Path,
    force: bool = False,
    command: list[str] | None = None,
    extra_files: dict[str, object] | None = None,
    extra_manifest: dict | None = None,
    pool=None,
) -> Path:
    """Write a run folder atomically and return its path. With ``pool`` (an executor whose
    workers are idle now that the replications are done) the workbook is built there while
    this process writes the tables; ``extra_files`` come last (a dashboard built in a worker
    is collected after the tables are written)."""
    files: dict[str, object] = {
        "manifest.json": manifest(result, command, extra_manifest),
        "summary.csv": result.summary,
        "kpis.csv": result.kpis,
    }
    if not result.targets.empty:
        files["targets.csv"] = result.targets
    from simulation.brief import as_markdown, run_brief
    from simulation.workbook import run_workbook

    brief = run_brief(result.summary, result.scenario.target_list(), result.notes)
    files["brief.md"] = as_markdown(f"Brief: {result.scenario.name}", brief)
    workbook = (
        result.summary,
        brief,
        f"iopsim: {result.scenario.name}",
        result.targets,
        _weekly_means(result.tables.get("weekly")),
    )
    for name, table in result.tables.items():
        files[f"{name}.parquet"] = table
    files["results.xlsx"] = built_by(pool, run_workbook, *workbook)
    files.update(extra_files or {})
    return write_folder(folder, files, force)


def built_by(pool, build, *args):
    """A file's content: built now, or (with an executor) sent to a worker at once and
    collected when the folder writer reaches it."""
    if pool is None:
        return build(*args)
    return pool.submit(build, *args).result


def _weekly_means(weekly: pd.DataFrame | None) -> pd.DataFrame | None:
    """The weekly table's mean over replications, week by week (after the warm-up)."""
    if weekly is None or weekly.empty or "week" not in weekly:
        return None
    kept = weekly[~weekly["warmup"]] if "warmup" in weekly else weekly
    numbers = kept.select_dtypes("number").drop(columns=["replication"], errors="ignore")
    means = numbers.groupby(kept["week"]).mean(numeric_only=True)
    means = means.drop(columns=["week"], errors="ignore").reset_index()
    if "date" in kept:
        means.insert(1, "date", kept.groupby("week")["date"].first().to_numpy())
    return means


def replace_dir(tmp: Path, folder: Path, force: bool) -> None:
    """Move a finished temporary folder into place (replacing ``folder`` only with force).
    Signals wait until the swap is done, and the folder is then recorded as complete."""
    with signals_held():
        if folder.exists():
            if not force:
                raise OutputError(f"{folder} already exists; add --force to replace it")
            old = folder.with_name(f".{folder.name}.old-{os.getpid()}")
            os.rename(folder, old)
            os.rename(tmp, folder)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, folder)
        COMPLETED.append(folder)


def write_file_atomic(path: str | Path, content: str) -> Path:
    """Write one file through a temporary sibling and a rename (never half-written)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.partial")
    try:
        tmp.write_text(content, encoding="utf-8")
        with signals_held():
            tmp.replace(path)
            COMPLETED.append(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def write_files_atomic(files: dict[Path, str]) -> list[Path]:
    """Write several files as one unit: every one to a temporary sibling first, then all
    renamed together with signals held, the last one given last (a reader takes the last as
    the mark that the unit is complete). Nothing is left half-written."""
    temps = {Path(p): Path(p).with_name(f".{Path(p).name}.{os.getpid()}.partial") for p in files}
    try:
        for path, content in files.items():
            path = Path(path)
            path.parent.mkdir(parents=True, exist_ok=True)
            temps[path].write_text(content, encoding="utf-8")
        with signals_held():
            for path, tmp in temps.items():
                tmp.replace(path)
                COMPLETED.append(path)
    except BaseException:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)
        raise
    return list(temps)


def fit_report_path(scenario_path: str | Path) -> Path:
    """Where ``iopsim fit`` writes the report of a fitted scenario: beside it, named after it
    (two fits into one folder never share a report)."""
    path = Path(scenario_path)
    return path.with_name(f"{path.stem}.fit-report.html")


@dataclass
class RunData:
    """A run folder read back: manifest, scenario, summary, KPIs and tables."""

    folder: Path
    manifest: dict
    scenario: Scenario
    summary: pd.DataFrame
    kpis: pd.DataFrame
    tables: dict[str, pd.DataFrame]

    def table(self, name: str) -> pd.DataFrame:
        return self.tables.get(name, pd.DataFrame())


KINDS = {
    "compare": "a comparison folder (iopsim compare)",
    "plan": "a plan folder (iopsim plan)",
    "sweep": "a sweep folder (iopsim sweep)",
    "sensitivity": "a sensitivity folder (iopsim sensitivity)",
}
SUMMARY_COLUMNS = ["kpi", "unit", "mean", "std", "ci_low", "ci_high", "n"]


def _read_table(path: Path, what: str, columns: list[str] | None = None) -> pd.DataFrame:
    """A CSV or Parquet file of a run folder, or OutputError saying which and what is wrong."""
    if not path.is_file():
        raise OutputError(f"{path} is missing: a run folder holds {what}")
    try:
        table = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # pyarrow, pandas and OS errors alike: the file is unreadable
        kind = "Parquet" if path.suffix == ".parquet" else "CSV"
        raise OutputError(
            f"{path} is damaged: it cannot be read as {kind} ({type(exc).__name__}); "
            f"expected {what}"
        ) from None
    if columns is not None and not set(columns) <= set(table.columns):
        raise OutputError(f"{path} is damaged: expected {what} with columns {', '.join(columns)}")
    return table


def read_run(folder: str | Path) -> RunData:
    """Read a run folder written by ``write_run``; OutputError (one line: which file, what was
    expected) for anything else: another kind of folder, a damaged or truncated file."""
    folder = Path(folder)
    path = folder / "manifest.json"
    if not folder.is_dir():
        raise OutputError(f"{folder} is not a folder")
    if not path.is_file():
        raise OutputError(f"{folder} is not a run folder (no manifest.json)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise OutputError(
            f"{path} is damaged: not valid JSON ({exc.__class__.__name__}); expected the run's "
            "manifest"
        ) from None
    if not isinstance(data, dict):
        raise OutputError(f"{path} is damaged: expected a JSON object, found {type(data).__name__}")
    if data.get("kind") in KINDS:
        raise OutputError(f"{folder} is {KINDS[data['kind']]}, not a run folder (iopsim run)")
    if not isinstance(data.get("scenario"), dict):
        raise OutputError(f"{path} is damaged: expected a 'scenario' table in the manifest")
    scenario = validate_scenario(data["scenario"], str(path))
    tables = {
        p.stem: _read_table(p, f"the {p.stem} table") for p in sorted(folder.glob("*.parquet"))
    }
    return RunData(
        folder=folder,
        manifest=data,
        scenario=scenario,
        summary=_read_table(folder / "summary.csv", "one row per KPI", SUMMARY_COLUMNS),
        kpis=_read_table(folder / "kpis.csv", "one row per replication", ["replication"]),
        tables=tables,
    )
