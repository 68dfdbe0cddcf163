"""Run every notebook here top to bottom and save it with its outputs.

    python notebooks/refresh.py [NAME.ipynb ...]      (or: make notebooks)

Each runs in this directory with this checkout's featimp first on the path
and matplotlib's inline backend, so figures are stored as images. The tests
run the notebooks too (tests/test_notebooks.py) without saving them, and
check that what is committed has its outputs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbclient
import nbformat

HERE = Path(__file__).resolve().parent


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(HERE)}},
    )
    client.execute()
    nbformat.write(notebook, path)


def main(argv: list[str]) -> int:
    os.environ.pop("MPLBACKEND", None)  # inline figures, not Agg text
    root = str(HERE.parent)
    os.environ["PYTHONPATH"] = os.pathsep.join(
        p for p in (root, os.environ.get("PYTHONPATH", "")) if p
    )
    paths = [HERE / name for name in argv] or sorted(HERE.glob("*.ipynb"))
    for path in paths:
        print(f"running {path.name} ...", flush=True)
        refresh(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
