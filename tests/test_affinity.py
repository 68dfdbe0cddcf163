"""The feature graph of EC-FS and Inf-FS (featimp/_affinity.py): matrix-free ==
dense == a transcription of the reference."""

import warnings

import numpy as np
import pandas as pd
import pytest

from featimp import _affinity
from featimp._affinity import feature_affinity, fisher_scores, symmetric_uncertainty
from featimp._centrality import (
    eigenvector_centrality_importances,
    inffs_importances,
)
from tests._fslib import matlab_bin_counts, matlab_muteinf, matlab_separation
from tests._shared import edge_heavy_columns


def test_max_kernel_matvec_with_ties(rng):
    sigma = rng.choice([0.0, 0.5, 1.0, 2.5, 4.0], size=40)
    x = rng.standard_normal(40)
    kernel = _affinity._MaxKernel(sigma)
    expected = np.maximum.outer(sigma, sigma) - sigma.min()
    expected /= expected.max()
    np.testing.assert_allclose(kernel.matvec(x), expected @ x, rtol=1e-12)
    np.testing.assert_allclose(kernel.dense(), expected, rtol=1e-12)


@pytest.mark.parametrize("with_y", [True, False], ids=["supervised", "unsupervised"])
@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
def test_affinity_matvec_equals_dense_product(cancer_arrays, rng, with_y, alpha):
    X, y = cancer_arrays
    graph = feature_affinity(X, y if with_y else None, alpha=alpha)
    dense = graph.dense()
    np.testing.assert_allclose(dense, dense.T, atol=1e-15)
    for _ in range(3):
        x = rng.standard_normal(X.shape[1])
        np.testing.assert_allclose(graph.matvec(x), dense @ x, rtol=1e-10, atol=1e-12)


def test_relevance_terms_match_reference(taiwan_arrays):
    X, y = taiwan_arrays
    codes = (y == y.max()).astype(np.intp)
    signed = np.where(codes == 1, 1, -1)
    expected = [matlab_muteinf(X[:, j], signed) for j in range(X.shape[1])]
    np.testing.assert_allclose(
        symmetric_uncertainty(X, codes, 2), expected, rtol=1e-10, atol=1e-14
    )
    np.testing.assert_allclose(
        fisher_scores(X, codes, 2, reference=True),
        matlab_separation(X, signed, -1, 1),
        rtol=1e-10,
    )


def test_chunking_does_not_change_scores(cancer_arrays, monkeypatch):
    X, y = cancer_arrays
    whole = eigenvector_centrality_importances(X, y)
    # About 3 columns per chunk, so chunk edges fall everywhere.
    monkeypatch.setattr(_affinity, "_CHUNK_ENTRIES", 3 * X.shape[0])
    np.testing.assert_allclose(
        eigenvector_centrality_importances(X, y), whole, rtol=1e-12
    )


def test_inffs_original_unsupervised_kernel(small_classification):
    X, _ = small_classification
    graph = feature_affinity(X, alpha=1.0, affinity="inffs")
    expected = 1 - np.abs(pd.DataFrame(X).corr(method="spearman").to_numpy())
    np.testing.assert_allclose(graph.dense(), expected, atol=1e-12)


def test_multiclass_fisher_formula(rng):
    X = rng.standard_normal((90, 5))
    codes = np.repeat([0, 1, 2], 30)
    X[codes == 2, 0] += 2.0
    fisher = fisher_scores(X, codes, 3, reference=False)
    col = X[:, 0]
    groups = [col[codes == k] for k in range(3)]
    between = sum(g.size * (g.mean() - col.mean()) ** 2 for g in groups)
    within = sum(g.size * g.var() for g in groups)
    assert fisher[0] == pytest.approx(between / within, rel=1e-12)
    assert np.argmax(fisher) == 0


def test_unsupervised_refuses_huge_dense_graph(monkeypatch, rng):
    monkeypatch.setattr(_affinity, "_MAX_DENSE_FEATURES", 5)
    X = rng.standard_normal((10, 6))
    with pytest.raises(ValueError, match="dense 6 x 6"):
        eigenvector_centrality_importances(X)
    assert eigenvector_centrality_importances(X, np.arange(10) % 2).shape == (6,)


@pytest.mark.parametrize("compiled", [False, True])
def test_equal_width_counts_are_the_reference_bins(rng, monkeypatch, compiled):
    from featimp import _mi_kernels

    if compiled and _mi_kernels._kernels() is None:
        pytest.skip("numba is not installed")
    X = edge_heavy_columns(rng)
    codes = rng.integers(0, 3, X.shape[0])
    monkeypatch.setattr(_affinity, "_COMPILED_ENTRIES", 0 if compiled else np.inf)
    counts, constant = _affinity._equal_width_counts(X, slice(None), codes, 3, 20)
    assert constant.tolist() == [False] * 3 + [True] + [False] * 5
    for j in np.flatnonzero(~constant):
        expected = [matlab_bin_counts(X[:, j], codes == k, 20) for k in range(3)]
        np.testing.assert_array_equal(counts[j].T, expected, err_msg=f"column {j}")


@pytest.mark.parametrize(
    "score", [eigenvector_centrality_importances, inffs_importances]
)
def test_values_too_large_to_square_are_refused_naming_the_column(score):
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(200, 4)), columns=["a", "b", "c", "d"])
    y = (X["a"] > 0).astype(int)
    X["b"] *= 1e300  # finite, but its squares are not
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning first, only the error
        with pytest.raises(ValueError, match=r"column\(s\) 'b' hold values too large"):
            score(X, y)
    X["b"] /= 1e160  # large, but squares fit: scores as usual
    assert np.isfinite(score(X, y)).all()
