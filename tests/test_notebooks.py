"""Every notebook under notebooks/ runs top to bottom without error."""

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs(path, monkeypatch):
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    monkeypatch.setenv("MPLBACKEND", "Agg")
    # The kernel imports this checkout's featimp even when it is not installed.
    path_parts = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in path_parts if p))
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute()


def test_there_are_notebooks():
    assert NOTEBOOKS, "notebooks/ should hold at least the quickstart"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_committed_with_its_outputs(path):
    """Readers see results without running anything (``make notebooks``
    refreshes them): every code cell ran, none failed, and figures are
    images, not ``<Figure size ...>`` text."""
    nbformat = pytest.importorskip("nbformat")
    notebook = nbformat.read(path, as_version=4)
    code = [c for c in notebook.cells if c.cell_type == "code"]
    assert all(c.execution_count for c in code), "cells that never ran"
    outputs = [o for c in code for o in c.outputs]
    assert outputs
    assert not [o for o in outputs if o.output_type == "error"]
    for output in outputs:
        data = output.get("data", {})
        if "<Figure size" in data.get("text/plain", ""):
            assert "image/png" in data, "a figure saved as text (Agg backend?)"
