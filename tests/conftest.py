import os

import pytest

# Notebooks and joblib workers see the same, deterministic BLAS threading.
os.environ.setdefault("OMP_NUM_THREADS", "1")


@pytest.fixture
def rng():
    import numpy as np

    return np.random.default_rng(0)
