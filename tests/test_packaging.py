"""What each install gives: the extras in pyproject.toml as the README states them."""

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
TEST_TOOLS = {"pytest", "pytest-xdist", "ruff", "nbclient", "nbformat", "ipykernel"}


def _names(requirements) -> set[str]:
    return {re.match(r"[A-Za-z0-9_.-]+", r).group(0).lower() for r in requirements}


def _extras_of(extra: str) -> set[str]:
    """The extras that ``featimp-toolkit[extra]`` names, recursively."""
    (self_reference,) = PROJECT["optional-dependencies"][extra]
    named = re.search(r"\[(.*)\]", self_reference).group(1).split(",")
    return {e.strip() for e in named}


def test_the_default_install_has_every_method_but_kan():
    names = _names(PROJECT["dependencies"])
    assert {"xgboost-cpu", "lightgbm", "shap", "scikit-learn"} <= names
    assert "torch" not in names and "xgboost" not in names  # no NCCL, no CUDA


def test_all_is_every_runtime_extra_and_no_test_tool():
    extras = PROJECT["optional-dependencies"]
    runtime = set(extras) - {"all", "test", "dev", "bench", "boost", "shap"}
    assert _extras_of("all") == runtime
    for extra in runtime:
        assert not _names(extras[extra]) & TEST_TOOLS, extra
    assert TEST_TOOLS <= _names(extras["test"])
    assert _extras_of("dev") == {"all", "test"}


def test_ci_installs_what_the_readme_says():
    readme = (ROOT / "README.md").read_text()
    command = 'pip install -c constraints.txt -e ".[all,test]"'
    assert command in readme
    assert (
        command.replace("pip install", "pip install --quiet")
        in (ROOT / ".ci" / "run").read_text()
    )
