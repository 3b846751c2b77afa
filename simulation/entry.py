"""The ``iopsim`` console script: stop cleanly on Ctrl-C or SIGTERM from the first instant,
even while the command line is still loading (no traceback, exit 130, nothing written)."""

from __future__ import annotations

import signal
import sys

SIGNALLED: list[int] = []  # the signals received (a library may wrap the exception they raise)


def _terminate(signum, frame):
    SIGNALLED.append(signum)
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGINT, _terminate)
    try:
        from simulation.cli import main as cli

        cli()
    except KeyboardInterrupt:
        _stopped()
    except Exception:
        # pydantic turns an interruption while it builds a schema into its own SchemaError
        if SIGNALLED:
            _stopped()
        raise


def _stopped() -> None:
    sys.stderr.write("\ninterrupted while starting: nothing was written\n")
    sys.exit(130)


if __name__ == "__main__":
    main()
