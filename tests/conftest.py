from pathlib import Path

import pytest

from tests._shared import numbers_only  # noqa: F401  (a fixture for every test)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


@pytest.fixture(scope="session")
def cancer():
    """Breast cancer as (DataFrame, Series); tests must not change it."""
    from sklearn.datasets import load_breast_cancer

    return load_breast_cancer(return_X_y=True, as_frame=True)


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
