"""The documentation site builds from docs/ with no warning (a broken link, a page left out of
the navigation, a missing anchor fail the build), and its reference pages come from the code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]


def test_the_docs_site_builds_without_a_warning(tmp_path):
    try:
        import material  # noqa: F401
        import mkdocs  # noqa: F401
    except ImportError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the docs site must build in CI: {exc} (pip install -e '.[test]')")
        pytest.skip(f"{exc}: pip install -e '.[test]'")
    site = tmp_path / "site"
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    commands = (site / "reference" / "commands" / "index.html").read_text()
    from simulation.cli import main

    for name in main.commands:  # every command of the program has its section
        assert f"iopsim {name}" in commands
    python = (site / "reference" / "python" / "index.html").read_text()
    assert "iopsim.forecast" in python and "iopsim.run" in python
    assert (site / "studio" / "index.html").exists()
