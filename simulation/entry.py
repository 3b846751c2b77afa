"""The ``iopsim`` console script: stop cleanly on Ctrl-C or SIGTERM from the first instant,
even while the command line is still loading (no traceback, exit 130, nothing written)."""

from __future__ import annotations

import signal
import sys

SIGNALLED: list[int] = []  # the signals received (a library may wrap the exception they raise)


def _terminate(signum, frame):
    cli = sys.modules.get("simulation.cli")
    if cli is not None and getattr(cli, "FINISHED", None):
        return  # the command has finished: nothing to stop
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        from simulation.cli import main as cli

        cli()
    except SystemExit as done:
        if done.code in (0, None):
            _hold_signals()
            _finish()
        raise
    except KeyboardInterrupt:
        _stopped()
    except Exception:
        # pydantic turns an interruption while it builds a schema into its own SchemaError
        if SIGNALLED:
            _stopped()
        raise


def _hold_signals() -> None:
    """A command that has finished has nothing left to stop: a Ctrl-C or SIGTERM now could only
    interrupt the interpreter's shutdown, where Python's default handler is back and the process
    would die by the signal (exit 130, no word) after writing its output whole. Such a signal is
    ignored from here on, and the finished command exits 0 as finished."""
    # ignored (a process-wide disposition that Python keeps through its shutdown), not
    # blocked: a mask holds only this thread, and library threads would take the signal
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _finish() -> None:
    """End a finished command at once: run the exit handlers (the worker pool's shutdown),
    flush the output, and skip tearing down every module and object the run built (a third of
    a second after a 20-replication run; everything is written and closed by now)."""
    import atexit
    import os

    if sys.getprofile() is not None or sys.gettrace() is not None:
        return  # a profiler or coverage tool writes its results as the interpreter ends
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def _stopped() -> None:
    outputs = sys.modules.get("simulation.outputs")
    done = [p for p in (outputs.COMPLETED if outputs else []) if p.is_dir()]
    if done:  # the signal came as a finished command was returning: its folder is whole
        sys.stderr.write(f"\ninterrupted after finishing: {done[-1]} is complete\n")
        sys.exit(0)
    sys.stderr.write("\ninterrupted while starting: nothing was written\n")
    sys.exit(130)


if __name__ == "__main__":
    main()
