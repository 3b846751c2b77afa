"""``iopsim studio`` as a command: its extra missing, a port taken."""

from __future__ import annotations

import socket
import sys

from click.testing import CliRunner

from simulation.cli import main


def test_without_its_extra_the_studio_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "dash", None)  # as if Dash were not installed
    monkeypatch.delitem(sys.modules, "simulation.studio.app", raising=False)
    result = CliRunner().invoke(main, ["studio", "--no-browser"])
    assert result.exit_code == 2
    assert "pip install 'iopsim[studio]'" in result.output
    assert "Traceback" not in result.output


def test_a_port_in_use_is_a_clear_error():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = CliRunner().invoke(main, ["studio", "--no-browser", "--port", str(port)])
    assert result.exit_code == 2, result.output
    assert f"--port {port}" in result.output
    assert "Traceback" not in result.output


def test_a_port_out_of_range_is_refused():
    result = CliRunner().invoke(main, ["studio", "--no-browser", "--port", "70000"])
    assert result.exit_code == 2
    assert "70000" in result.output
