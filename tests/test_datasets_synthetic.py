"""make_ground_truth (featimp/datasets/_synthetic.py)."""

import hashlib

import numpy as np
import pandas as pd
import pytest

from featimp.datasets import make_ground_truth
from featimp.datasets._synthetic import CATEGORY_LABELS


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


def _fingerprint(X, y, truth):
    h = hashlib.sha256()
    h.update(",".join(X.columns).encode())
    h.update(np.ascontiguousarray(X.to_numpy(dtype=float)).tobytes())
    h.update(np.ascontiguousarray(y.to_numpy(dtype=float)).tobytes())
    h.update(",".join(truth.roles).encode())
    h.update(np.ascontiguousarray(truth.coef.to_numpy()).tobytes())
    return h.hexdigest()[:16]


# Hashes from make_ground_truth before n_categorical and missing_rate existed:
# leaving them at their defaults must reproduce the data bit for bit.
@pytest.mark.parametrize(
    "kwargs, expected",
    [
        (dict(n_samples=200, random_state=0), "e4f639da72ea16e5"),
        (
            dict(n_samples=300, task="regression", shuffle=True, random_state=1),
            "161dca22916f779a",
        ),
        (
            dict(
                n_samples=250,
                n_classes=3,
                n_suppressors=2,
                n_interaction_pairs=1,
                random_state=2,
            ),
            "6262ec00c9aefbc7",
        ),
    ],
)
def test_make_ground_truth_defaults_are_bit_identical(kwargs, expected):
    X, y, truth = make_ground_truth(**kwargs)
    assert _fingerprint(X, y, truth) == expected
    assert truth.categorical == () and truth.missing == {}


def test_categorical_and_missing_change_only_the_informative_columns():
    kwargs = dict(n_samples=1000, shuffle=True, random_state=4)
    X0, y0, _ = make_ground_truth(**kwargs)
    X, y, truth = make_ground_truth(n_categorical=2, missing_rate=0.2, **kwargs)
    pd.testing.assert_series_equal(y, y0)
    informative = truth.informative
    pd.testing.assert_frame_equal(
        X.drop(columns=informative), X0.drop(columns=informative)
    )
    assert truth.categorical == ("informative_3", "informative_4")
    for column in truth.categorical:
        assert X[column].dtype.kind in "OT"  # pandas' str dtype or object
        assert set(X[column].dropna()) == set(CATEGORY_LABELS)
    assert X[informative].isna().mean().tolist() == [0.2] * 5
    assert {c: m.mechanism for c, m in truth.missing.items()} == {
        "informative_0": "MAR",
        "informative_1": "MCAR",
        "informative_2": "MCAR",
        "informative_3": "MCAR",
        "informative_4": "MCAR",
    }
    driver = truth.missing["informative_0"].driver
    missing = X["informative_0"].isna()
    assert driver == "redundant_0" and X[driver].notna().all()
    assert X[driver][missing].mean() > X[driver][~missing].mean() + 0.2


def test_categorical_feature_is_informative_but_not_ordinal():
    kwargs = dict(n_samples=5000, n_informative=2, task="regression", random_state=0)
    X0, _, _ = make_ground_truth(**kwargs)
    X, y, truth = make_ground_truth(n_categorical=1, **kwargs)
    (column,) = truth.categorical
    # Per-level target means spread over several units of the target's scale.
    target_means = y.groupby(X[column]).mean()
    assert target_means.max() - target_means.min() > 2 * abs(truth.coef[column])
    # The latent value is the column with n_categorical=0 (same seed).
    latent_means = X0[column].groupby(X[column]).mean().sort_index()
    steps = np.diff(latent_means.to_numpy())
    assert (steps > 0).any() and (steps < 0).any()
    assert latent_means.sort_values().index.tolist() == list(CATEGORY_LABELS)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(n_categorical=-1), "n_categorical"),
        (dict(n_categorical=6), "n_categorical"),
        (dict(n_categorical=1.5), "n_categorical"),
        (dict(missing_rate=-0.1), "missing_rate"),
        (dict(missing_rate=1.0), "missing_rate"),
        (dict(missing_rate="0.1"), "missing_rate"),
        (
            dict(
                n_informative=1,
                n_redundant=0,
                n_noise=0,
                n_high_cardinality=0,
                missing_rate=0.1,
            ),
            "missing_rate",
        ),
    ],
)
def test_make_ground_truth_bad_real_table_params(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_ground_truth(100, **kwargs)
