"""torch and numba, the dependencies of the kan extra (featimp/kan/_config.py)."""

import subprocess
import sys

import pytest
from sklearn.datasets import load_wine

pytest.importorskip("torch")

from featimp.kan import KANClassifier


def test_import_does_not_load_torch():
    code = (
        "import sys, featimp, featimp.kan, featimp.methods; "
        "print('torch' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "False"


@pytest.mark.parametrize("missing, named", [("torch", "PyTorch"), ("numba", "numba")])
def test_missing_dependency_names_the_extra(monkeypatch, missing, named):
    import featimp.kan._config as config

    real = config.importlib.import_module

    def fake(name, *args):
        if name == missing:
            raise ImportError(f"No module named '{missing}'")
        return real(name, *args)

    monkeypatch.setattr(config.importlib, "import_module", fake)
    X, y = load_wine(return_X_y=True)
    with pytest.raises(ImportError, match=rf"{named}.*featimp-toolkit\[kan\]"):
        KANClassifier().fit(X, y)
