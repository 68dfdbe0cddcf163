"""The README's benchmark tables are the committed JSON's (benchmarks/tables.py)."""

from pathlib import Path

from tests._shared import load_benchmark

ROOT = Path(__file__).resolve().parents[1]


def _tables():
    return load_benchmark("tables")


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
