"""The README's benchmark tables are the committed JSON's (benchmarks/tables.py)."""

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _tables():
    path = ROOT / "benchmarks" / "tables.py"
    spec = importlib.util.spec_from_file_location("tables", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_readme_tables_are_generated_from_the_results():
    tables = _tables()
    assert tables.main(["--check"]) == 0, "run: python benchmarks/tables.py --write"


def test_a_changed_figure_is_caught():
    tables = _tables()
    text = tables.README.read_text()
    assert "<!-- bench-table: kan-paper -->" in text
    stale = text.replace("| wine F1 | ", "| wine F1 | .111 (.111) | ", 1)
    assert tables.render(stale) == text
    assert stale != text
