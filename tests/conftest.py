from pathlib import Path

import pytest

# Fixtures for every test module.
from tests._shared import (  # noqa: F401
    german_paper,
    german_raw_explainer,
    numbers_only,
)

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
