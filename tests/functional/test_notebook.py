"""The example notebook runs, top to bottom, in a fresh kernel (as a reader would run it)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).parents[2] / "examples" / "quickstart.ipynb"


def _tools():
    try:
        import nbclient
        import nbformat
    except ImportError as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"the notebook must run in CI: {exc} (pip install -e '.[test]')")
        pytest.skip(f"{exc}: pip install -e '.[test]'")
    return nbclient, nbformat


def test_the_example_notebook_runs_and_shows_its_answers(tmp_path):
    nbclient, nbformat = _tools()
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": tmp_path}}
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "\n".join(
        o.get("text", "") + str(o.get("data", {}).get("text/plain", "")) for o in outputs
    )
    assert "baseline" in text and "wait_to_iop_days_mean" in text
    assert "difference_ci_low" in text
