"""What every command shares: failing cleanly, loading scenarios, the options declared once,
the workload guard, progress and text safe for a terminal.

Nothing here imports pandas, scipy or plotly: ``iopsim --help`` and ``validate`` stay fast.
"""

from __future__ import annotations

import functools
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import click

EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def fail(message: str) -> None:
    """Print a message for a person and leave with exit code 2 (no traceback)."""
    click.echo(f"error: {safe_text(message)}", err=True)
    sys.exit(EXIT_BAD_INPUT)


def say(text: str = "", err: bool = False) -> None:
    """Print a line for a person: every line printed goes through ``safe_text``."""
    click.echo(safe_text(text), err=err)


_KEEP = {"\n", "\t"}


def safe_text(text: str) -> str:
    """Text for the terminal: control characters (escape sequences, BEL, NUL, bidi overrides)
    are shown escaped, never obeyed; line breaks and tabs are kept."""
    return "".join(ch if ch.isprintable() or ch in _KEEP else repr(ch)[1:-1] for ch in str(text))


def load_scenario(name_or_path: str | None, overrides: tuple[str, ...] = (), **flags):
    """Resolve, load and override a scenario; flags (weeks, seed, ...) become overrides."""
    from simulation import config as scenarios

    try:
        scenario = scenarios.load(scenarios.resolve(name_or_path))
        settings = [f"{key}={value}" for key, value in flags.items() if value is not None]
        scenario = scenarios.apply_overrides(scenario, [*overrides, *settings])
    except scenarios.ScenarioError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits
    warn_unused_changes(scenario, overrides)
    return scenario


def warn_unused_changes(scenario, changes) -> None:
    """On stderr: each changed key (``KEY=VALUE``, ``KEY=LOW..HIGH`` or a key) that nothing in
    the scenario uses, so that a run which does not move is not read as an answer."""
    from simulation.config import unused_change_warnings

    keys = [str(change).split("=", 1)[0].strip() for change in changes]
    for note in unused_change_warnings(scenario, keys):
        say(f"WARNING: {note}", err=True)


def scenario_inputs(name: str | None, scenario, extra: tuple[str, ...] = ()) -> list:
    """The uncertain inputs of a scenario given by name or file (its [uncertainty], else the
    values its file marks [E]) plus ``extra`` (KEY=LOW..HIGH); exit 2 on a bad one."""
    from simulation import config as scenarios
    from simulation.uncertainty import estimates_in, uncertain_inputs

    path = scenarios.resolve(name)
    text = path.read_text(encoding="utf-8") if path.is_file() else None
    try:
        inputs = uncertain_inputs(scenario, text, extra)
    except scenarios.ScenarioError as exc:
        fail(str(exc))
        raise  # unreachable: fail exits
    warn_unused_changes(scenario, [*extra, *scenario.uncertainty])
    if not scenario.uncertainty and text is not None:
        left = [key for key in estimates_in(text) if scenarios.why_unused(scenario, key)]
        if left:
            say(
                f"Left out of the uncertain inputs (marked [E], but nothing uses them): "
                f"{', '.join(left)}",
                err=True,
            )
    return inputs


def split_overrides(text: str) -> list[str]:
    """'staff.evening therapists.count=3 tracks.evening.seats=12' -> two overrides.

    Space-separated KEY=VALUE items, where a key may itself hold spaces (pool names do): words
    before a word with '=' belong to that word's key. Spaces inside quotes or [brackets] do not
    separate, and the quotes stay (a list of names, ``members=["Dr A", "Dr B"]``, is TOML)."""
    from simulation.config.paths import _split_outside

    items: list[str] = []
    pending: list[str] = []
    spaced = " ".join(text.split("\n")).replace("\t", " ").strip()  # (any space separates)
    for word in (w for w in _split_outside(spaced, " ") if w):
        pending.append(word)
        if "=" in word:
            items.append(" ".join(pending))
            pending = []
    if pending:
        items.append(" ".join(pending))  # no '=': apply_overrides explains what is wrong
    return items


# ---------------------------------------------------------------------------------------------
# Options, declared once
# ---------------------------------------------------------------------------------------------


class Replications(click.ParamType):
    """A number of replications, or 'auto' (add replications until precise enough)."""

    name = "N|auto"

    def convert(self, value, param, ctx):
        if isinstance(value, int) or value == "auto":
            return value
        try:
            number = int(value)
        except ValueError:
            self.fail(f"{value!r} is not a whole number or 'auto'", param, ctx)
        if not 1 <= number <= 10000:
            self.fail(f"{number} is not between 1 and 10000", param, ctx)
        return number


def _check_out(ctx, param, value: Path | None) -> Path | None:
    if value is not None and "\\" in str(value):
        raise click.BadParameter(
            f"{safe_text(str(value))!r} holds a backslash; write folders with '/' "
            "(a backslash would become part of the folder's name here)",
            ctx,
            param,
        )
    return value


def compose(*decorators):
    """Several click decorators as one (applied in the order listed, top first)."""

    def apply(function):
        for decorator in reversed(decorators):
            function = decorator(function)
        return function

    return apply


set_option = click.option(
    "--set",
    "overrides",
    multiple=True,
    metavar="KEY=VALUE",
    help="Change a scenario value, e.g. staff.therapists.count=5 (repeatable).",
)
seed_option = click.option(
    "--seed", type=click.IntRange(0, 2**63 - 1), help="Random seed (default: the scenario's)."
)
workers_option = click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Local processes (default: all CPUs).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")


def out_option(help_text: str):
    return click.option(
        "--out", type=click.Path(path_type=Path), callback=_check_out, help=help_text
    )


def force_option(help_text: str = "Replace the folder if it exists."):
    return click.option("--force", is_flag=True, help=help_text)


def replications_option(default: int, low: int, help_text: str):
    """--replications for commands that take a plain number (warm-up pilot, calibration)."""
    return click.option(
        "--replications",
        "-r",
        type=click.IntRange(low, 10000),
        default=default,
        show_default=True,
        help=help_text,
    )


_experiment_options = compose(
    click.option(
        "--replications",
        "-r",
        type=Replications(),
        help="Replications (default: the scenario's), or 'auto' with --precision (run only).",
    ),
    seed_option,
    click.option("--weeks", type=click.IntRange(1, 1040), help="Weeks measured after the warm-up."),
    click.option(
        "--warmup-weeks", type=click.IntRange(0, 520), help="Weeks simulated before measuring."
    ),
    set_option,
    workers_option,
    click.option(
        "--scheduler",
        envvar="IOPSIM_SCHEDULER",
        help="Dask scheduler address tcp://HOST:PORT (env IOPSIM_SCHEDULER).",
    ),
    click.option(
        "--quiet", "-q", is_flag=True, help="Print nothing but errors (and --json output)."
    ),
    click.option(
        "--allow-long",
        is_flag=True,
        help="Run even if estimated to take over 2 hours or half the memory.",
    ),
)

EXPERIMENT_FIELDS = (
    "replications",
    "seed",
    "weeks",
    "warmup_weeks",
    "overrides",
    "workers",
    "scheduler",
    "quiet",
    "allow_long",
)


@dataclass
class Experiment:
    """The options shared by run, compare, sweep and plan, as one value."""

    replications: int | str | None
    seed: int | None
    weeks: int | None
    warmup_weeks: int | None
    overrides: tuple[str, ...]
    workers: int | None
    scheduler: str | None
    quiet: bool
    allow_long: bool

    def load(self, name: str | None, with_replications: bool = False):
        """The scenario with --set, --weeks, --warmup-weeks and --seed (and a fixed
        --replications when asked) applied."""
        fixed = self.replications if isinstance(self.replications, int) else None
        return load_scenario(
            name,
            self.overrides,
            horizon_weeks=self.weeks,
            warmup_weeks=self.warmup_weeks,
            seed=self.seed,
            replications=fixed if with_replications else None,
        )

    def fixed_replications(self) -> int | None:
        """--replications for commands that take a number only."""
        if isinstance(self.replications, str):
            fail("--replications auto is for run; give a number")
        return self.replications

    @property
    def worker_count(self) -> int:
        return workers_or_default(self.workers)

    def guard(self, work, folder: Path | None, what: str, event_log: bool = False) -> None:
        guard(work, self.worker_count, self.allow_long, folder, what, event_log)


def experiment_options(function):
    """Add the options of ``Experiment`` and pass them to the command as ``exp``."""

    @functools.wraps(function)
    def command(*args, **kwargs):
        exp = Experiment(**{name: kwargs.pop(name) for name in EXPERIMENT_FIELDS})
        return function(*args, exp=exp, **kwargs)

    return _experiment_options(command)


# ---------------------------------------------------------------------------------------------
# Workload, progress, folders
# ---------------------------------------------------------------------------------------------


def workers_or_default(workers: int | None) -> int:
    from simulation.experiment import default_workers

    return workers or default_workers()


def guard(
    scenarios_and_replications,
    workers: int,
    allow_long: bool,
    folder: Path | None = None,
    what: str = "this run",
    event_log: bool = False,
) -> None:
    """Refuse, before anything runs, work estimated too long or too large (exit 2)."""
    from simulation import workload

    works = [workload.estimate(sc, n, event_log) for sc, n in scenarios_and_replications]
    if not works:
        return
    total = workload.Workload(
        max(w.referrals for w in works),
        sum(w.cpu_seconds for w in works),
        sum(w.memory_bytes for w in works),
        sum(w.output_bytes for w in works),
    )
    try:
        workload.check(total, workers, allow_long, what)
        if folder is not None:
            workload.check_disk(folder, total)
    except workload.WorkloadError as exc:
        fail(str(exc))


class Progress:
    """A progress bar on stderr: replications done, elapsed and remaining time."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.start = time.monotonic()
        self.shown = False

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.start
        left = elapsed / done * (total - done) if done else 0.0
        filled = int(30 * done / max(total, 1))
        bar = "#" * filled + "-" * (30 - filled)
        click.echo(
            f"\r[{bar}] {done}/{total} replications, {elapsed:.0f} s elapsed, ~{left:.0f} s left ",
            err=True,
            nl=False,
        )
        self.shown = True

    def close(self) -> None:
        if self.shown:
            click.echo("", err=True)


def progress_for(quiet: bool) -> Progress:
    return Progress(enabled=not quiet and sys.stderr.isatty())


def folder_or_default(out: Path | None, prefix: str) -> Path:
    from simulation.outputs import safe_name

    return out or Path("outputs") / f"{safe_name(prefix)}-{time.strftime('%Y%m%d-%H%M%S')}"


def check_folder(folder: Path, force: bool) -> None:
    """Refuse (exit 2) a folder that exists (without --force), cannot be written, or is being
    written by another iopsim command; then hold it until this command ends."""
    from simulation.outputs import OutputError, check_writable, lock_folder

    try:
        lock_folder(folder)
        check_writable(folder, force)
    except OutputError as exc:
        fail(str(exc))


def write_folder(folder: Path, files: dict, force: bool) -> None:
    """Write a result folder atomically, or fail with exit 2."""
    from simulation.outputs import OutputError
    from simulation.outputs import write_folder as write

    try:
        write(folder, files, force)
    except OutputError as exc:
        fail(str(exc))
