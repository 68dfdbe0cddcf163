from pathlib import Path

import pytest

# Fixtures for every test module.
from tests._shared import (  # noqa: F401
    german_paper,
    german_raw_explainer,
    german_recourse,
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


@pytest.fixture(scope="module")
def cancer_arrays(cancer):
    """Breast cancer as arrays (X, y)."""
    X, y = cancer
    return X.to_numpy(), y.to_numpy()


@pytest.fixture(scope="module")
def taiwan_arrays():
    """2,000 rows of Taiwan credit as float arrays (X, y)."""
    from featimp.datasets import load_taiwan_credit

    X, y = load_taiwan_credit()
    X = X.sample(n=2000, random_state=0)
    return X.to_numpy(dtype=float), y.loc[X.index].to_numpy()


@pytest.fixture(scope="module")
def small_classification():
    """Small enough for explicit inverses and O(d^2) loops."""
    import numpy as np
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=120, n_features=12, n_informative=3, random_state=1
    )
    X *= np.linspace(0.5, 3.0, 12)
    return X, y


@pytest.fixture(scope="module")
def truth_data():
    """make_ground_truth: 3 informative columns (the first), 5 of noise."""
    from featimp.datasets import make_ground_truth

    return make_ground_truth(
        1500,
        n_informative=3,
        n_redundant=0,
        n_noise=5,
        n_high_cardinality=0,
        random_state=0,
    )


@pytest.fixture(scope="module")
def diabetes():
    from sklearn.datasets import load_diabetes

    return load_diabetes(return_X_y=True, as_frame=True)


@pytest.fixture(scope="module")
def german_credit():
    from featimp.datasets import load_german_credit

    return load_german_credit()


@pytest.fixture(scope="module")
def german_guessed():
    """German credit, its target, the action set with the immutables guessed
    from the column names and the warning that names them."""
    from featimp.datasets import load_german_credit
    from featimp.recourse import ActionSet

    X, y = load_german_credit()
    with pytest.warns(UserWarning, match="guessed from their names") as caught:
        A = ActionSet.from_data(X, guess_immutable=True)
    assert len(caught) == 1
    return X, y, A, str(caught[0].message)
