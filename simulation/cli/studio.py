"""``iopsim studio``: the what-if studio in the browser (the optional ``studio`` extra)."""

from __future__ import annotations

import socket
import sys

import click

from simulation.cli import main
from simulation.cli.common import EXIT_BAD_INPUT, say


def free_port(host: str) -> int:
    """A port nothing listens on now (the system's choice)."""
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


@main.command()
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8050,
    show_default=True,
    help="Port on 127.0.0.1 (0: any free port).",
)
@click.option("--no-browser", is_flag=True, help="Do not open the page in a browser.")
@click.option(
    "--workers",
    type=click.IntRange(1, 1024),
    default=None,
    help="Local processes for each run (default: all CPUs).",
)
def studio(port, no_browser, workers):
    """Open the what-if studio: change a scenario in forms, run, compare and plan in the
    browser (only on this computer: it listens on 127.0.0.1)."""
    try:
        from simulation.studio.app import make_app
    except ImportError as exc:
        say(
            f"error: the studio needs its extra ({exc.name} is missing): "
            "pip install 'iopsim[studio]'",
            err=True,
        )
        sys.exit(EXIT_BAD_INPUT)
    import logging
    import os
    import webbrowser

    host = "127.0.0.1"
    port = port or free_port(host)
    try:  # a port another program listens on: say so before starting
        with socket.socket() as probe:
            probe.bind((host, port))
    except OSError as exc:
        say(f"error: --port {port}: {exc.strerror or exc} (choose another port, or 0)", err=True)
        sys.exit(EXIT_BAD_INPUT)
    app = make_app(workers=workers or max(os.cpu_count() or 1, 1))
    url = f"http://{host}:{port}/"
    say(f"iopsim studio on {url} (Ctrl-C to stop)")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    if not no_browser:
        webbrowser.open(url)
    try:
        app.run(host=host, port=port, debug=False)
    except KeyboardInterrupt:
        say("studio stopped")
