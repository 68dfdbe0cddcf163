"""EC-FS and Inf-FS: matrix-free == dense == a transcription of the reference."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression

from featimp._affinity import feature_affinity
from featimp._base import BASE_PARAMETERS
from featimp._centrality import (
    EigenvectorCentralitySelector,
    InfFSSelector,
    eigenvector_centrality_importances,
    inffs_importances,
    leading_eigenpair,
)
from tests._fslib import matlab_ecfs, matlab_inffs_2016, matlab_inffs_unsupervised

# The graph itself (matrix-free operator == dense matrix, its statistics
# against the reference) is tested in tests/test_affinity.py.


# --------------------------------------------------------------------------
# Matrix-free == dense eigh == the MATLAB transcription
# --------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("dataset", ["cancer_arrays", "taiwan_arrays"])
def test_ecfs_matches_dense_and_reference(dataset, alpha, request):
    X, y = request.getfixturevalue(dataset)
    fast = eigenvector_centrality_importances(X, y, alpha=alpha)
    dense = eigenvector_centrality_importances(X, y, alpha=alpha, solver="dense")
    reference = matlab_ecfs(X, y, alpha)
    np.testing.assert_allclose(fast, dense, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fast, reference, rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(np.argsort(-fast), np.argsort(-reference))
    assert np.linalg.norm(fast) == pytest.approx(1.0)


def test_results_are_deterministic(cancer_arrays):
    X, y = cancer_arrays
    first = eigenvector_centrality_importances(X, y)
    np.testing.assert_array_equal(first, eigenvector_centrality_importances(X, y))


# --------------------------------------------------------------------------
# Inf-FS
# --------------------------------------------------------------------------


@pytest.mark.parametrize("with_y", [True, False], ids=["supervised", "unsupervised"])
@pytest.mark.parametrize("decay", [0.5, 0.9])
def test_inffs_matches_explicit_inverse(small_classification, with_y, decay):
    X, y = small_classification
    y = y if with_y else None
    A = feature_affinity(X, y).dense()
    eye = np.eye(A.shape[0])
    r = decay / np.linalg.eigvalsh(A)[-1]
    expected = (np.linalg.inv(eye - r * A) - eye).sum(axis=1)
    fast = inffs_importances(X, y, decay=decay)
    np.testing.assert_allclose(fast, expected, rtol=1e-8)
    dense = inffs_importances(X, y, decay=decay, solver="dense")
    np.testing.assert_allclose(dense, expected, rtol=1e-10)


def test_inffs_original_affinity_matches_fslib_2016(small_classification):
    X, y = small_classification
    scores = inffs_importances(X, y, alpha=0.4, decay=0.99, affinity="inffs")
    np.testing.assert_allclose(scores, matlab_inffs_2016(X, y, 0.4), rtol=1e-8)


@pytest.mark.parametrize(
    ("affinity", "kernel", "decay"),
    [("inffs", "1-|rho|", 0.99), ("inffs_v4", "rho", 0.9)],
    ids=["rank_fir_infinite.m", "infFS.m-v4.0"],
)
def test_inffs_unsupervised_matches_both_fslib_codes(
    small_classification, affinity, kernel, decay
):
    X, _ = small_classification
    scores = inffs_importances(X, alpha=0.4, decay=decay, affinity=affinity)
    expected = matlab_inffs_unsupervised(X, 0.4, kernel, decay)
    np.testing.assert_allclose(scores, expected, rtol=1e-8)


# --------------------------------------------------------------------------
# Extensions beyond the binary reference
# --------------------------------------------------------------------------


def _informative_first(n_classes=2, random_state=0):
    return make_classification(
        n_samples=400,
        n_features=20,
        n_informative=4,
        n_redundant=0,
        n_classes=n_classes,
        n_clusters_per_class=1,
        shuffle=False,
        random_state=random_state,
    )


BOTH = [eigenvector_centrality_importances, inffs_importances]


@pytest.mark.parametrize("score", BOTH)
def test_multiclass_ranks_informative_features_first(score):
    X, y = _informative_first(n_classes=4)
    scores = score(X, y, standardize=True)
    assert set(np.argsort(-scores)[:4]) == {0, 1, 2, 3}


def test_mode_extended_differs_from_reference_on_binary(cancer_arrays):
    X, y = cancer_arrays
    reference = eigenvector_centrality_importances(X, y, mode="reference")
    extended = eigenvector_centrality_importances(X, y, mode="extended")
    np.testing.assert_array_equal(
        reference, eigenvector_centrality_importances(X, y, mode="auto")
    )
    assert not np.allclose(reference, extended)


@pytest.mark.parametrize("score", BOTH)
def test_regression_ranks_informative_features_first(score):
    X, y, coef = make_regression(
        n_samples=300,
        n_features=15,
        n_informative=3,
        noise=1.0,
        coef=True,
        random_state=0,
    )
    scores = score(X, y, standardize=True)
    assert set(np.argsort(-scores)[:3]) == set(np.flatnonzero(coef))


@pytest.mark.parametrize("score", BOTH)
def test_unsupervised_ranks_correlated_block_first(score, rng):
    latent = rng.standard_normal((300, 1))
    block = latent + 0.3 * rng.standard_normal((300, 5))
    noise = rng.standard_normal((300, 10))
    X = np.hstack([noise[:, :5], block, noise[:, 5:]])
    scores = score(X, standardize=True)
    assert set(np.argsort(-scores)[:5]) == set(range(5, 10))


# --------------------------------------------------------------------------
# Scale, degenerate columns, bad input
# --------------------------------------------------------------------------


@pytest.mark.parametrize("score", BOTH)
def test_scale_dependence_and_standardize(cancer_arrays, score):
    X, y = cancer_arrays
    # Powers of two rescale exactly, so equal-width bins keep their members.
    exact = X * 2.0 ** np.arange(-15, 15)
    # The reference is scale-dependent through sigma ...
    assert not np.allclose(score(X, y), score(exact, y), rtol=1e-3)
    # ... standardize=True is not.
    np.testing.assert_allclose(
        score(X, y, standardize=True),
        score(exact, y, standardize=True),
        rtol=1e-10,
    )
    # Other factors move bin edges by rounding; values sitting on an edge
    # (repeated values, zeros) may change bin, so agreement is approximate.
    rescaled = X * np.geomspace(1e-3, 1e3, X.shape[1])
    np.testing.assert_allclose(
        score(X, y, standardize=True),
        score(rescaled, y, standardize=True),
        rtol=1e-2,
    )


def test_standardize_ignores_rounding_noise_in_sigma(cancer_arrays):
    X, y = cancer_arrays
    # After StandardScaler all sigma agree to ~1e-16; min-max scaling would
    # blow that noise up to [0, 1] if it were not treated as a tie.
    scaled = (X - X.mean(axis=0)) / X.std(axis=0)
    np.testing.assert_allclose(
        eigenvector_centrality_importances(scaled, y),
        eigenvector_centrality_importances(X, y, standardize=True),
        rtol=1e-3,
    )


@pytest.mark.parametrize("score", BOTH)
@pytest.mark.parametrize("with_y", [True, False], ids=["supervised", "unsupervised"])
def test_constant_columns_score_lowest_without_warnings(cancer_arrays, score, with_y):
    X, y = cancer_arrays
    X = np.hstack([X[:, :10], np.full((X.shape[0], 1), 3.7), X[:, 10:]])
    X[:, 20] = 0.1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        scores = score(X, y if with_y else None)
    assert np.all(np.isfinite(scores))
    others = np.delete(scores, [10, 20])
    assert scores[10] <= others.min() + 1e-12
    assert scores[20] <= others.min() + 1e-12


@pytest.mark.parametrize("solver", ["matrix_free", "dense"])
def test_degenerate_graphs(rng, solver):
    one = rng.standard_normal((20, 1))
    y = np.repeat([0, 1], 10)
    np.testing.assert_allclose(
        eigenvector_centrality_importances(one, y, solver=solver), [1.0]
    )
    same = np.hstack([one] * 4)  # all features alike: A == 0
    np.testing.assert_allclose(
        eigenvector_centrality_importances(same, y, solver=solver), np.full(4, 0.5)
    )
    np.testing.assert_array_equal(inffs_importances(same, y, solver=solver), 0.0)
    three = rng.standard_normal((20, 3))
    np.testing.assert_allclose(
        eigenvector_centrality_importances(three, y, solver=solver),
        eigenvector_centrality_importances(three, y, solver="dense"),
        rtol=1e-10,
    )


def test_infinite_column_is_named_and_missing_values_are_used(cancer_arrays):
    X, y = cancer_arrays
    frame = pd.DataFrame(X[:, :4], columns=["a", "b", "c", "d"])
    frame.loc[3, "c"] = np.inf
    with pytest.raises(ValueError, match="'c'"):
        eigenvector_centrality_importances(frame, y)
    with pytest.raises(ValueError, match="'c'"):
        InfFSSelector().fit(frame, y)
    frame.loc[3, "c"] = np.nan
    assert InfFSSelector().fit(frame, y).importances_.shape == (4,)


def test_missingness_that_carries_the_signal_is_central(rng):
    # Column "m" is observed exactly when y == 1: its indicator node is the
    # most relevant one, and the column gets that node's score.
    y = rng.integers(0, 2, 400)
    frame = pd.DataFrame(rng.standard_normal((400, 4)), columns=list("abcm"))
    frame.loc[y == 0, "m"] = np.nan
    scores = eigenvector_centrality_importances(frame, y)
    assert np.argmax(scores) == 3


def test_one_hot_columns_are_not_outranked_by_raw_spread(rng):
    # A strong 3-level categorical and pure-noise numeric columns of large
    # scale: with raw standard deviations the noise wins, with the default
    # ("auto" standardises encoded tables) the categorical one does.
    n = 600
    level = rng.integers(0, 3, n)
    y = (level == 1) ^ (rng.random(n) < 0.1)
    frame = pd.DataFrame(rng.standard_normal((n, 5)) * 100, columns=list("abcde"))
    frame["grade"] = np.array(["lo", "mid", "hi"], dtype=object)[level]
    assert np.argmax(eigenvector_centrality_importances(frame, y)) == 5
    raw = eigenvector_centrality_importances(frame, y, standardize=False)
    assert np.argmax(raw) != 5


def test_single_class_and_one_row_are_rejected(cancer_arrays):
    X, y = cancer_arrays
    with pytest.raises(ValueError, match="only one class"):
        eigenvector_centrality_importances(X, np.zeros(len(X), dtype=int))
    with pytest.raises(ValueError, match="1 sample"):
        eigenvector_centrality_importances(X[:1], y[:1])
    with pytest.raises(ValueError, match="1 sample"):
        EigenvectorCentralitySelector().fit(X[:1])


def test_bad_parameters_are_named(cancer_arrays):
    X, y = cancer_arrays
    three = np.arange(len(y)) % 3
    with pytest.raises(ValueError, match=r"mode='reference'.*3 classes"):
        eigenvector_centrality_importances(X, three, mode="reference")
    with pytest.raises(ValueError, match="mode='reference' needs y"):
        eigenvector_centrality_importances(X, mode="reference")
    with pytest.raises(ValueError, match="alpha"):
        eigenvector_centrality_importances(X, y, alpha=1.5)
    with pytest.raises(ValueError, match="decay"):
        inffs_importances(X, y, decay=1.0)
    with pytest.raises(ValueError, match="solver"):
        eigenvector_centrality_importances(X, y, solver="power")
    with pytest.raises(ValueError, match="alpha"):
        EigenvectorCentralitySelector(alpha=-0.1).fit(X, y)
    with pytest.raises(ValueError, match="affinity='inffs'"):
        inffs_importances(X, X[:, 0], affinity="inffs", task="regression")


# --------------------------------------------------------------------------
# Selectors
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "selector, score",
    [
        (EigenvectorCentralitySelector(alpha=0.3), eigenvector_centrality_importances),
        (InfFSSelector(alpha=0.3, decay=0.5), inffs_importances),
    ],
    ids=["ecfs", "inffs"],
)
def test_selectors_wrap_score_functions(cancer_arrays, selector, score):
    X, y = cancer_arrays
    params = {
        k: v for k, v in selector.get_params().items() if k not in BASE_PARAMETERS
    }
    fitted = clone(selector).set_params(n_features_to_select=5).fit(X, y)
    np.testing.assert_array_equal(fitted.importances_, score(X, y, **params))
    assert fitted.transform(X).shape == (len(X), 5)
    unsupervised = clone(selector).fit(X)
    np.testing.assert_array_equal(unsupervised.importances_, score(X, **params))


def test_leading_eigenpair_value_matches_eigvalsh(cancer_arrays):
    X, y = cancer_arrays
    graph = feature_affinity(X, y)
    value, _ = leading_eigenpair(graph)
    assert value == pytest.approx(np.linalg.eigvalsh(graph.dense())[-1], rel=1e-10)
