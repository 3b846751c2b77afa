"""The what-if studio: a local web page (Dash) where a planner changes a scenario in forms,
runs it, compares it with where they started and plans against targets, without writing
TOML. ``form`` turns a scenario into fields and the fields back into ``--set`` changes;
``jobs`` runs work in the background; ``app`` is the page. Installed with the ``studio``
extra; started by ``iopsim studio``."""

from __future__ import annotations

import os
import subprocess
import sys


def launch(workers: int = 1, cwd: str | None = None) -> tuple[subprocess.Popen, str]:
    """Start ``iopsim studio`` in its own process on a free port, without opening a browser:
    (the process, the page's address). Stop it with ``process.terminate()``."""
    process = subprocess.Popen(
        [sys.executable, "-m", "simulation.cli", "studio", "--port", "0", "--no-browser"]
        + ["--workers", str(workers)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=cwd,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    line = process.stdout.readline()
    if " on http://" not in line:
        process.kill()
        raise RuntimeError(f"the studio did not start: {line.strip()}")
    return process, line.split(" on ", 1)[1].split()[0]
