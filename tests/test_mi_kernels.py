"""The compiled binning and counting (featimp/_mi_kernels.py and the jitted
functions of featimp/_mi_compiled.py) give NumPy's codes and scores."""

import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

from featimp import _affinity, _binning, _mi_kernels
from featimp._affinity import fisher_scores
from featimp._binning import (
    discretize,
    plugin_mi,
    resolve_discrete_mask,
)
from featimp._centrality import (
    eigenvector_centrality_importances,
    inffs_importances,
)
from featimp._mutual_info import (
    mrmr_importances,
    mutual_info_importances,
)
from tests._shared import edge_heavy_columns, mixed_columns

needs_numba = pytest.mark.skipif(
    _mi_kernels._kernels() is None, reason="numba is not installed"
)


@needs_numba
def test_compiled_count_gives_the_numpy_scores_to_the_bit(rng, monkeypatch):
    X = mixed_columns(rng)
    codes, cards = discretize(X, resolve_discrete_mask(X, "auto"), 16)
    targets = [codes[2], *(codes[2][rng.permutation(X.shape[0])] for _ in range(3))]
    columns = np.array([0, 1, 3, 4, 5, 6, 7, 8])
    compiled = plugin_mi(codes, cards, targets, int(cards[2]), columns, True)
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)
    numpy = plugin_mi(codes, cards, targets, int(cards[2]), columns, True)
    np.testing.assert_array_equal(compiled, numpy)


@needs_numba
def test_compiled_count_with_empty_codes_and_absent_target_values(rng, monkeypatch):
    # Tied values leave quantile codes empty; code 3 of the target never occurs.
    X = np.column_stack([rng.integers(0, 3, 500), rng.normal(size=500)])
    codes, cards = discretize(X.astype(float), np.zeros(2, dtype=bool), 8)
    target = rng.choice([0, 1, 2, 4], 500)
    targets = [target, target[rng.permutation(500)]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        compiled = plugin_mi(codes, cards, targets, 5, None, True)
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)
    np.testing.assert_array_equal(plugin_mi(codes, cards, targets, 5), compiled)


@pytest.mark.parametrize("criterion", ["mid", "miq"])
def test_mrmr_is_the_same_without_numba(rng, monkeypatch, criterion):
    X = mixed_columns(rng)
    y = (np.nan_to_num(X[:, 0]) + rng.normal(0, 1, X.shape[0]) > 0).astype(int)
    scores = mrmr_importances(X, y, criterion=criterion, random_state=0)
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)
    np.testing.assert_array_equal(
        mrmr_importances(X, y, criterion=criterion, random_state=0), scores
    )


def _awkward(rng, n=6000):
    """Continuous columns that stress the compiled binning: gaps, heavy ties,
    a heavy tail, one far outlier (nearly every value in one histogram
    cell), a span that overflows, subnormal values, a constant."""
    X, _ = make_classification(n, 4, n_informative=3, n_redundant=0, random_state=0)
    tail = rng.lognormal(0, 6, n)
    outlier = rng.normal(size=n)
    outlier[7] = 1e12
    wide = rng.choice([-1.7e308, 1.7e308, 0.5], n)
    tiny = rng.normal(size=n) * 1e-310
    columns = [
        X,
        np.round(X[:, :1], 1),  # ties
        tail[:, None],
        outlier[:, None],
        wide[:, None],
        tiny[:, None],
        np.full((n, 1), 0.5),
        rng.integers(0, 5, (n, 1)),  # discrete
    ]
    X = np.column_stack(columns).astype(float)
    X[rng.random(n) < 0.1, 1] = np.nan
    X[rng.random(n) < 0.5, 3] = np.nan
    return X


def _numpy_binned_mi(monkeypatch, *args, **kwargs):
    with monkeypatch.context() as patch:
        patch.setattr(_binning, "_COMPILED_ENTRIES", np.inf)
        return _binning.binned_mi(*args, **kwargs)


@needs_numba
@pytest.mark.parametrize("layout", ["narrow rows", "wide rows", "column-major"])
@pytest.mark.parametrize("n_target", [2, 3, 16])
def test_compiled_binning_gives_the_numpy_codes_and_mi(
    rng, monkeypatch, layout, n_target
):
    X = _awkward(rng)
    mask = resolve_discrete_mask(X, "auto")
    assert mask.sum() == 1  # the constant 0.5 and the rest are continuous
    y = rng.integers(0, n_target, X.shape[0])
    targets = [y, *(y[rng.permutation(y.size)] for _ in range(5))]
    expected = _numpy_binned_mi(monkeypatch, X, mask, 16, targets, n_target, True)
    monkeypatch.setattr(_binning, "_COMPILED_ENTRIES", 0)
    if layout == "wide rows":
        monkeypatch.setattr(_mi_kernels, "_NARROW_ROW", 0)  # copied to scratch
    if layout == "column-major":
        X = np.asfortranarray(X)  # read in place
    found = _binning.binned_mi(X, mask, 16, targets, n_target, keep_codes=True)
    for got, want in zip(found, expected, strict=True):
        np.testing.assert_array_equal(got, want)
    mi, *_ = _binning.binned_mi(X, mask, 16, targets, n_target)
    np.testing.assert_array_equal(mi, expected[0])


@needs_numba
def test_compiled_binning_does_not_depend_on_the_threads(rng, monkeypatch):
    import numba

    X = _awkward(rng, 3000)
    mask = resolve_discrete_mask(X, "auto")
    y = rng.integers(0, 2, X.shape[0])
    targets = [y, y[rng.permutation(y.size)]]
    monkeypatch.setattr(_binning, "_COMPILED_ENTRIES", 0)
    monkeypatch.setattr(_mi_kernels, "_THREAD_COLUMNS", 1)
    found = _binning.binned_mi(X, mask, 8, targets, 2, keep_codes=True)
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        alone = _binning.binned_mi(X, mask, 8, targets, 2, keep_codes=True)
    finally:
        numba.set_num_threads(threads)
    for got, want in zip(found, alone, strict=True):
        np.testing.assert_array_equal(got, want)


@needs_numba
def test_mi_and_mrmr_scores_are_the_numpy_ones_on_a_large_table(monkeypatch):
    # Large enough for the compiled path; the scores to the bit.
    X, y = make_classification(
        20000, 60, n_informative=8, n_redundant=8, random_state=0
    )
    X[::13, 5] = np.nan
    scores = [
        mutual_info_importances(X, y, random_state=0),
        mutual_info_importances(X, y, null_correction="zscore", random_state=0),
        mrmr_importances(X, y, n_features=8, random_state=0),
    ]
    monkeypatch.setattr(_binning, "_COMPILED_ENTRIES", np.inf)
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)
    expected = [
        mutual_info_importances(X, y, random_state=0),
        mutual_info_importances(X, y, null_correction="zscore", random_state=0),
        mrmr_importances(X, y, n_features=8, random_state=0),
    ]
    for got, want in zip(scores, expected, strict=True):
        np.testing.assert_array_equal(got, want)


def test_without_numba_every_path_gives_the_same_scores(monkeypatch):
    # As installed without the `fast` extra: the kernels are not there.
    from featimp._centrality import eigenvector_centrality_importances

    X, y = make_classification(20000, 60, n_informative=8, random_state=0)
    calls = [
        lambda: mutual_info_importances(X, y, random_state=0),
        lambda: mrmr_importances(X, y, n_features=5, random_state=0),
        lambda: eigenvector_centrality_importances(X, y),
    ]
    found = [call() for call in calls]
    monkeypatch.setattr(_mi_kernels, "_kernels", lambda: None)
    for call, want in zip(calls, found, strict=True):
        np.testing.assert_allclose(call(), want, rtol=1e-12, atol=1e-15)


def test_ecfs_and_inffs_are_the_same_with_the_compiled_count(rng, monkeypatch):
    # Above the compiled limit; without the +-1e300 column, whose variance
    # overflows the Fisher score.
    X = np.column_stack([np.delete(edge_heavy_columns(rng, 2000), 6, axis=1)] * 80)
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
    X = np.delete(edge_heavy_columns(rng), 6, axis=1)
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
