"""The ``iopsim`` console script: stop cleanly on Ctrl-C or SIGTERM from the first instant,
even while the command line is still loading (no traceback, exit 130, nothing written)."""

from __future__ import annotations

import signal
import sys


def _terminate(signum, frame):
    raise KeyboardInterrupt


def main() -> None:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        from simulation.cli import main as cli

        cli()
    except KeyboardInterrupt:
        sys.stderr.write("\ninterrupted while starting: nothing was written\n")
        sys.exit(130)


if __name__ == "__main__":
    main()
