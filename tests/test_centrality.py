"""EC-FS and Inf-FS: matrix-free == dense == a transcription of the reference."""

import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression

from featimp import _affinity
from featimp._affinity import feature_affinity, fisher_scores, symmetric_uncertainty
from featimp._base import BASE_PARAMETERS
from featimp._centrality import (
    EigenvectorCentralitySelector,
    InfFSSelector,
    eigenvector_centrality_importances,
    inffs_importances,
    leading_eigenpair,
)
from featimp.datasets import load_taiwan_credit

# --------------------------------------------------------------------------
# A line-by-line transcription of the reference MATLAB code (ECFS.m and its
# muteinf.m helper; infFS.m of FSLib 2016), loops and dense matrices included.
# --------------------------------------------------------------------------


def _matlab_bin_counts(a, keep, nbins):
    """The bin loop of muteinf.m: left edge stepped by xl = xl + rx."""
    rx = abs(a.max() - a.min()) / nbins
    xl = a.min()
    counts = np.zeros(nbins)
    for j in range(nbins):
        inside = (xl <= a) & keep
        if j < nbins - 1:
            inside &= a < xl + rx
        counts[j] = inside.sum()
        xl = xl + rx
    return counts


def matlab_muteinf(a, y):
    """muteinf.m for labels in {-1, +1}.

    MATLAB's ``hist`` rounds its bin edges slightly differently from the loop;
    on data that never sits within rounding of an edge the two agree, and we
    count the marginal with the loop.
    """
    n = a.size
    nbins = 20 if n / 10 > 20 else max(n // 10, 10)
    p_a = _matlab_bin_counts(a, np.ones(n, bool), nbins) / n
    p_a[p_a == 0] = 0.00001
    p_y = np.array([np.sum(y == 1), np.sum(y == -1)]) / n
    p = np.vstack(
        [_matlab_bin_counts(a, y == 1, nbins), _matlab_bin_counts(a, y == -1, nbins)]
    )
    p[p == 0] = 0.00001
    h_a = -np.sum(p_a * np.log(p_a))
    h_y = -np.sum(p_y * np.log(p_y))
    p = p / n
    info = np.sum(p * np.log(p / (p_a[None, :] * p_y[:, None])))
    return 2 * info / (h_a + h_y)


def matlab_sigma(X):
    std = X.std(axis=0, ddof=1)
    sd = np.maximum(std[None, :], std[:, None])
    sd = sd - sd.min()
    return sd / sd.max()


def matlab_separation(X, y, negative, positive):
    s_n, s_p = X[y == negative], X[y == positive]
    sep = (s_p.mean(axis=0) - s_n.mean(axis=0)) ** 2
    st = s_p.std(axis=0, ddof=1) ** 2 + s_n.std(axis=0, ddof=1) ** 2
    st[st == 0] = 10000
    return sep / st


def matlab_ecfs(X, y, alpha):
    """ECFS.m: returns |leading eigenvector| (eigs(A, 1, 'lm'))."""
    y = np.where(y == y.min(), -1, 1)
    mi = np.array([matlab_muteinf(X[:, i], y) for i in range(X.shape[1])])
    vec = np.abs(matlab_separation(X, y, -1, 1) + mi) / 2
    kernel = np.outer(vec, vec)
    kernel = kernel - kernel.min()
    kernel = kernel / kernel.max()
    A = alpha * kernel + (1 - alpha) * matlab_sigma(X)
    values, vectors = np.linalg.eig(A)
    return np.abs(vectors[:, np.argmax(np.abs(values))].real)


def matlab_inffs_2016(X, y, alpha):
    """infFS.m (FSLib 2016), supervised, labels 0/1."""
    corr = matlab_separation(X, y, 0, 1)
    corr = np.outer(corr, corr)
    corr = corr - corr.min()
    corr = corr / corr.max()
    A = alpha * corr + (1 - alpha) * matlab_sigma(X)
    eye = np.eye(A.shape[0])
    r = 0.99 / np.max(np.linalg.eigvals(A + np.finfo(float).eps).real)
    S = np.linalg.inv(eye - r * A) - eye
    return S.sum(axis=1)


def matlab_inffs_unsupervised(X, alpha, kernel, factor):
    """The unsupervised branch of rank_fir_infinite.m (``kernel="1-|rho|"``,
    factor 0.99, ``eig(A + eps)``) or infFS.m v4.0 (``"rho"``, 0.9)."""
    rho = pd.DataFrame(X).corr(method="spearman").to_numpy(copy=True)
    rho[~np.isfinite(rho)] = 0
    corr = 1 - np.abs(rho) if kernel == "1-|rho|" else rho
    A = alpha * corr + (1 - alpha) * matlab_sigma(X)
    eye = np.eye(A.shape[0])
    shift = np.finfo(float).eps if kernel == "1-|rho|" else 0.0
    r = factor / np.max(np.linalg.eigvals(A + shift).real)
    S = np.linalg.inv(eye - r * A) - eye
    return S.sum(axis=1)


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cancer_arrays(cancer):
    X, y = cancer
    return X.to_numpy(), y.to_numpy()


@pytest.fixture(scope="module")
def taiwan():
    X, y = load_taiwan_credit()
    X = X.sample(n=2000, random_state=0)
    return X.to_numpy(dtype=float), y.loc[X.index].to_numpy()


@pytest.fixture(scope="module")
def small():
    """Small enough for explicit inverses and O(d^2) loops."""
    X, y = make_classification(
        n_samples=120, n_features=12, n_informative=3, random_state=1
    )
    X *= np.linspace(0.5, 3.0, 12)
    return X, y


# --------------------------------------------------------------------------
# Matrix-free operator == dense matrix
# --------------------------------------------------------------------------


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


# --------------------------------------------------------------------------
# Matrix-free == dense eigh == the MATLAB transcription
# --------------------------------------------------------------------------


@pytest.mark.parametrize("alpha", [0.2, 0.5, 0.9])
@pytest.mark.parametrize("dataset", ["cancer_arrays", "taiwan"])
def test_ecfs_matches_dense_and_reference(dataset, alpha, request):
    X, y = request.getfixturevalue(dataset)
    fast = eigenvector_centrality_importances(X, y, alpha=alpha)
    dense = eigenvector_centrality_importances(X, y, alpha=alpha, solver="dense")
    reference = matlab_ecfs(X, y, alpha)
    np.testing.assert_allclose(fast, dense, rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(fast, reference, rtol=1e-8, atol=1e-12)
    np.testing.assert_array_equal(np.argsort(-fast), np.argsort(-reference))
    assert np.linalg.norm(fast) == pytest.approx(1.0)


def test_relevance_terms_match_reference(taiwan):
    X, y = taiwan
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


def test_results_are_deterministic(cancer_arrays):
    X, y = cancer_arrays
    first = eigenvector_centrality_importances(X, y)
    np.testing.assert_array_equal(first, eigenvector_centrality_importances(X, y))


# --------------------------------------------------------------------------
# Inf-FS
# --------------------------------------------------------------------------


@pytest.mark.parametrize("with_y", [True, False], ids=["supervised", "unsupervised"])
@pytest.mark.parametrize("decay", [0.5, 0.9])
def test_inffs_matches_explicit_inverse(small, with_y, decay):
    X, y = small
    y = y if with_y else None
    A = feature_affinity(X, y).dense()
    eye = np.eye(A.shape[0])
    r = decay / np.linalg.eigvalsh(A)[-1]
    expected = (np.linalg.inv(eye - r * A) - eye).sum(axis=1)
    fast = inffs_importances(X, y, decay=decay)
    np.testing.assert_allclose(fast, expected, rtol=1e-8)
    dense = inffs_importances(X, y, decay=decay, solver="dense")
    np.testing.assert_allclose(dense, expected, rtol=1e-10)


def test_inffs_original_affinity_matches_fslib_2016(small):
    X, y = small
    scores = inffs_importances(X, y, alpha=0.4, decay=0.99, affinity="inffs")
    np.testing.assert_allclose(scores, matlab_inffs_2016(X, y, 0.4), rtol=1e-8)


@pytest.mark.parametrize(
    ("affinity", "kernel", "decay"),
    [("inffs", "1-|rho|", 0.99), ("inffs_v4", "rho", 0.9)],
    ids=["rank_fir_infinite.m", "infFS.m-v4.0"],
)
def test_inffs_unsupervised_matches_both_fslib_codes(small, affinity, kernel, decay):
    X, _ = small
    scores = inffs_importances(X, alpha=0.4, decay=decay, affinity=affinity)
    expected = matlab_inffs_unsupervised(X, 0.4, kernel, decay)
    np.testing.assert_allclose(scores, expected, rtol=1e-8)


def test_inffs_original_unsupervised_kernel(small):
    X, _ = small
    graph = feature_affinity(X, alpha=1.0, affinity="inffs")
    expected = 1 - np.abs(pd.DataFrame(X).corr(method="spearman").to_numpy())
    np.testing.assert_allclose(graph.dense(), expected, atol=1e-12)


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


def test_unsupervised_refuses_huge_dense_graph(monkeypatch, rng):
    monkeypatch.setattr(_affinity, "_MAX_DENSE_FEATURES", 5)
    X = rng.standard_normal((10, 6))
    with pytest.raises(ValueError, match="dense 6 x 6"):
        eigenvector_centrality_importances(X)
    assert eigenvector_centrality_importances(X, np.arange(10) % 2).shape == (6,)


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


def _edge_heavy_columns(rng, n=3000):
    """Columns whose values sit on the accumulated bin edges (integers,
    multiples of tenths, a large offset where adding the width rounds), a
    constant, a near-constant, negative values and a wide span."""
    return np.column_stack(
        [
            rng.integers(0, 21, n),
            rng.integers(-7, 13, n) / 10,
            1e15 + rng.integers(0, 40, n),
            np.full(n, 3.0),
            np.where(rng.random(n) < 0.001, 1 + 1e-12, 1.0),
            rng.normal(-5, 3, n),
            rng.choice([-1e300, 0.0, 1e300], n),
            rng.lognormal(0, 4, n),
            rng.integers(0, 21, n) * 0.3,  # 1.8 is below its floor's edge
        ]
    ).astype(float)


@pytest.mark.parametrize("compiled", [False, True])
def test_equal_width_counts_are_the_reference_bins(rng, monkeypatch, compiled):
    from featimp import _mi_kernels

    if compiled and _mi_kernels._kernels() is None:
        pytest.skip("numba is not installed")
    X = _edge_heavy_columns(rng)
    codes = rng.integers(0, 3, X.shape[0])
    monkeypatch.setattr(_affinity, "_COMPILED_ENTRIES", 0 if compiled else np.inf)
    counts, constant = _affinity._equal_width_counts(X, slice(None), codes, 3, 20)
    assert constant.tolist() == [False] * 3 + [True] + [False] * 5
    for j in np.flatnonzero(~constant):
        expected = [_matlab_bin_counts(X[:, j], codes == k, 20) for k in range(3)]
        np.testing.assert_array_equal(counts[j].T, expected, err_msg=f"column {j}")


def test_ecfs_and_inffs_are_the_same_with_the_compiled_count(rng, monkeypatch):
    # Above the compiled limit; without the +-1e300 column, whose variance
    # overflows the Fisher score.
    X = np.column_stack([np.delete(_edge_heavy_columns(rng, 2000), 6, axis=1)] * 80)
    y = (X[:, 0] + rng.normal(0, 5, X.shape[0]) > 10).astype(int)
    fast = [eigenvector_centrality_importances(X, y), inffs_importances(X, y)]
    monkeypatch.setattr(_affinity, "_COMPILED_ENTRIES", np.inf)
    slow = [eigenvector_centrality_importances(X, y), inffs_importances(X, y)]
    for got, want in zip(fast, slow, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
        np.testing.assert_array_equal(np.argsort(-got), np.argsort(-want))


@pytest.mark.parametrize("n_classes", [2, 3])
def test_compiled_moments_are_numpys_to_rounding(rng, monkeypatch, n_classes):
    from featimp import _mi_kernels

    if _mi_kernels._kernels() is None:
        pytest.skip("numba is not installed")
    X = np.delete(_edge_heavy_columns(rng), 6, axis=1)
    X = np.column_stack([X, X[:, ::-1] * 3.7])
    codes = rng.integers(0, n_classes, X.shape[0])

    def statistics():
        return [
            _affinity._spread(X, standardize=False),
            fisher_scores(X, codes, n_classes, reference=n_classes == 2),
            fisher_scores(X, codes, n_classes, reference=False),
        ]

    monkeypatch.setattr(_affinity, "_COMPILED_ENTRIES", 0)
    compiled = statistics()
    monkeypatch.setattr(_affinity, "_COMPILED_ENTRIES", np.inf)
    for got, want in zip(compiled, statistics(), strict=True):
        # NumPy sums some reductions pairwise: the last bits may differ.
        np.testing.assert_allclose(got, want, rtol=1e-13, atol=0)
        np.testing.assert_array_equal(got == 0, want == 0)


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
