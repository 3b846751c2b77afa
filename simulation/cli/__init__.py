"""The ``iopsim`` command line: parse, call, print. No modelling here.

One module per command; the options they share are declared once in ``common.py``. Commands
import the heavy libraries (pandas, scipy, plotly) only when they run, so ``iopsim --help``
and ``iopsim validate`` start fast.
"""

from __future__ import annotations

import os
import signal
import sys

import click

from simulation.cli.common import EXIT_BAD_INPUT, EXIT_INTERRUPTED, safe_text


class Interrupted(KeyboardInterrupt):
    """SIGTERM, turned into the same clean stop as Ctrl-C."""


SIGNALLED: list[int] = []  # signals received: a library may wrap the exception they raise
FINISHED: list[bool] = []  # the command has finished: a signal now has nothing to stop


def _terminate(signum, frame):
    if FINISHED:
        return
    SIGNALLED.append(signum)
    raise Interrupted()


def _interrupt(signum, frame):
    if FINISHED:
        return
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


def _signalled() -> bool:
    """Whether Ctrl-C or SIGTERM arrived, here or while the entry point was loading."""
    entry = sys.modules.get("simulation.entry")
    return bool(SIGNALLED or (entry is not None and entry.SIGNALLED))


class Commands(click.Group):
    """Commands that stop cleanly on Ctrl-C or SIGTERM: temporary output is removed, finished
    sweep cells are kept, and the exit code is 130."""

    def main(self, args=None, prog_name=None, complete_var=None, standalone_mode=True, **extra):
        """As click's, except that an interruption while the command line is being read is a
        clean stop too (click's own handling says 'Aborted!' and exits 1)."""
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode, **extra)
        try:
            code = super().main(args, prog_name, complete_var, False, **extra)
        except click.exceptions.Abort:  # Ctrl-C or SIGTERM before the command started ...
            if _finished_folder() is not None:  # ... or as a finished one was returning
                _stopped()
            click.echo("\ninterrupted while starting: nothing was written", err=True)
            sys.exit(EXIT_INTERRUPTED)
        except click.ClickException as exc:
            exc.show()
            sys.exit(exc.exit_code)
        code = code if isinstance(code, int) else 0
        if code == 0:
            FINISHED.append(True)  # a late signal must not turn a finished command into a stop
        sys.exit(code)

    def invoke(self, ctx):
        outputs = sys.modules.get("simulation.outputs")
        if outputs is not None:  # what an earlier command (in this process) finished is not ours
            outputs.COMPLETED.clear()
        FINISHED.clear()
        signal.signal(signal.SIGTERM, _terminate)
        if signal.getsignal(signal.SIGINT) is signal.default_int_handler:
            signal.signal(signal.SIGINT, _interrupt)
        from simulation.workers import one_pool

        try:
            with one_pool():  # every experiment of the command shares one worker pool
                return super().invoke(ctx)
        except KeyboardInterrupt:
            _stopped()
        except BrokenPipeError:  # the reader went away (| head): nothing more to say
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115
            sys.exit(0)
        except OSError as exc:  # a full disk or an unwritable folder met while writing
            if _signalled():
                _stopped()
            click.echo(
                safe_text(
                    f"error: {exc.strerror or exc}: {exc.filename or ''} "
                    "(nothing was left half-written)"
                ),
                err=True,
            )
            sys.exit(EXIT_BAD_INPUT)
        except Exception:
            # pydantic turns an interruption while it builds a schema into its own SchemaError:
            # a signal received means a stop, whatever exception carried it
            if _signalled():
                _stopped()
            raise
        finally:
            outputs = sys.modules.get("simulation.outputs")
            if outputs is not None:
                outputs.release_locks()


def _finished_folder():
    """The last folder this command finished, or None."""
    outputs = sys.modules.get("simulation.outputs")
    done = [p for p in (outputs.COMPLETED if outputs else []) if p.is_dir()]
    return done[-1] if done else None


def _stopped() -> None:
    """The clean stop after Ctrl-C or SIGTERM: say what was kept, exit 130 (0 if the output was
    complete before the signal)."""
    done = _finished_folder()
    if done is not None:  # finished is finished: the folder is whole and kept
        click.echo(safe_text(f"\ninterrupted after finishing: {done} is complete"), err=True)
        sys.exit(0)
    click.echo(
        "\ninterrupted: no partial output was left (finished sweep cells are kept)", err=True
    )
    sys.exit(EXIT_INTERRUPTED)


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="iopsim")
def main() -> None:
    """iopsim: capacity planning for Intensive Outpatient Programs.

    Run a scenario (a TOML file, or the name of a bundled one) and get waits, utilisation,
    flows and money with confidence intervals, a run folder and a dashboard.
    """


from simulation.cli import (  # noqa: E402  (commands register themselves on main)
    animate,
    calibration,
    compare,
    dashboard,
    data,
    explore,
    forecast,
    plan,
    run,
    sensitivity,
    studio,
    sweep,
    validate,
    warmup,
)

__all__ = [
    "main",
    "safe_text",
    "animate",
    "calibration",
    "compare",
    "dashboard",
    "data",
    "explore",
    "forecast",
    "plan",
    "run",
    "sensitivity",
    "studio",
    "sweep",
    "validate",
    "warmup",
]
