import numpy as np
import pandas as pd
import pytest

from featimp.datasets import (
    dataset_names,
    load_dataset,
    load_german_credit,
    make_ground_truth,
)

from .conftest import SHARED_DATA


@pytest.mark.parametrize("name", dataset_names())
def test_every_bundled_dataset_loads(name):
    X, y = load_dataset(name)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert len(X) == len(y) > 100
    assert y.name not in X.columns


def test_bundled_copies_match_shared_data():
    if not (SHARED_DATA / "german_credit.csv").exists():
        pytest.skip("shared data folder not beside the checkout")
    shared = pd.read_csv(SHARED_DATA / "german_credit.csv")
    X, y = load_german_credit()
    pd.testing.assert_frame_equal(X, shared.drop(columns="creditability"))
    assert (y == shared["creditability"]).all()


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        load_dataset("nope")


@pytest.mark.parametrize("task", ["classification", "regression"])
def test_make_ground_truth_roles(task):
    X, y, truth = make_ground_truth(
        2000,
        n_informative=3,
        n_redundant=2,
        n_noise=4,
        n_high_cardinality=1,
        cardinality=500,
        task=task,
        random_state=0,
    )
    assert X.shape == (2000, 10)
    assert truth.roles.value_counts().to_dict() == {
        "noise": 4,
        "informative": 3,
        "redundant": 2,
        "high_cardinality_noise": 1,
    }
    assert X["high_cardinality_noise_0"].nunique() > 400
    # Informative features carry signal, noise does not.
    target = y.to_numpy(dtype=float)
    corr = X.corrwith(pd.Series(target)).abs()
    assert corr[truth.informative].min() > 0.15
    assert corr[truth.features("noise")].max() < 0.08


def test_make_ground_truth_is_seeded_and_balanced():
    a = make_ground_truth(300, n_classes=3, shuffle=True, random_state=1)
    b = make_ground_truth(300, n_classes=3, shuffle=True, random_state=1)
    pd.testing.assert_frame_equal(a[0], b[0])
    assert np.bincount(a[1]).tolist() == [100, 100, 100]
    assert list(a[0].columns) == a[2].roles.index.tolist()


def test_make_ground_truth_bad_input():
    with pytest.raises(ValueError, match="n_informative"):
        make_ground_truth(n_informative=0)
    with pytest.raises(ValueError, match="task"):
        make_ground_truth(task="ranking")
