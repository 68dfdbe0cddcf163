import warnings

import numpy as np
import pytest
from sklearn.datasets import make_classification

from featimp import _binning, _mi_kernels
from featimp._binning import (
    code_dtype,
    constant_columns,
    discretize,
    plugin_mi,
    resolve_discrete_mask,
)
from featimp._encoding import constant_columns as encoding_constant_columns
from featimp._mutual_info import (
    mrmr_importances,
    mrmr_order,
    mutual_info_importances,
)

needs_numba = pytest.mark.skipif(
    _mi_kernels._kernels() is None, reason="numba is not installed"
)


@pytest.fixture
def no_numba(monkeypatch):
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)


def _mixed(rng, n=3000):
    X, _ = make_classification(n, 6, n_informative=3, random_state=0)
    X = np.column_stack(
        [X, rng.integers(0, 4, n), rng.integers(0, 1000, n), X[:, 0]]
    ).astype(float)
    X[rng.random(n) < 0.1, 1] = np.nan  # a continuous column with gaps
    X[rng.random(n) < 0.1, 6] = np.nan  # a discrete one
    return X


def test_codes_take_the_smallest_type_that_holds_them(rng):
    X = _mixed(rng)
    mask = resolve_discrete_mask(X, "auto")
    codes, cards = discretize(X, mask, 32)
    assert codes.dtype == np.uint16  # column 7 has ~950 values
    codes, cards = discretize(X, mask & (np.arange(X.shape[1]) != 7), 32)
    assert codes.dtype == np.uint8
    assert (codes.max(axis=1) < cards).all()
    assert [code_dtype(k) for k in (1, 256, 257, 65537)] == [
        np.uint8,
        np.uint8,
        np.uint16,
        np.uint32,
    ]


def test_constant_columns_match_the_encoding_layer():
    big = np.finfo(float).max
    X = np.array(
        [
            [1.0, np.nan, 2.0, np.nan, big, 0.0, -big],
            [1.0, np.nan, 2.0, 3.0, big, 1.0, big],
            [1.0, np.nan, np.nan, 3.0, big, 0.0, big],
        ]
    )
    expected = encoding_constant_columns(X)
    assert expected.tolist() == [True, True, False, False, True, False, False]
    np.testing.assert_array_equal(constant_columns(X), expected)


def test_auto_mask_checks_every_row_not_only_the_first(rng):
    X = rng.integers(0, 5, (500, 3)).astype(float)
    X[400, 1] = 0.5  # integer-valued in the first rows only
    X[::7, 2] = np.nan
    expected = np.all((X == np.round(X)) | np.isnan(X), axis=0)
    np.testing.assert_array_equal(resolve_discrete_mask(X, "auto"), expected)
    assert expected.tolist() == [True, False, True]


@pytest.mark.parametrize("n_target", [2, 5, 32])
def test_counting_targets_together_equals_one_at_a_time(rng, n_target):
    X = _mixed(rng)
    codes, cards = discretize(X, resolve_discrete_mask(X, "auto"), 16)
    targets = [rng.integers(0, n_target, X.shape[0]) for _ in range(4)]
    together = plugin_mi(codes, cards, targets, n_target)
    one_by_one = [plugin_mi(codes, cards, [t], n_target)[0] for t in targets]
    np.testing.assert_array_equal(together, one_by_one)
    columns = np.array([5, 0, 3])
    np.testing.assert_array_equal(
        plugin_mi(codes, cards, targets, n_target, columns), together[:, columns]
    )


@needs_numba
def test_compiled_count_gives_the_numpy_scores_to_the_bit(rng, monkeypatch):
    X = _mixed(rng)
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
    X = _mixed(rng)
    y = (np.nan_to_num(X[:, 0]) + rng.normal(0, 1, X.shape[0]) > 0).astype(int)
    scores = mrmr_importances(X, y, criterion=criterion, random_state=0)
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)
    np.testing.assert_array_equal(
        mrmr_importances(X, y, criterion=criterion, random_state=0), scores
    )


def test_mrmr_order_redundancy_against_the_last_pick_only(rng, no_numba):
    X, y = make_classification(800, 8, n_informative=3, random_state=0)
    codes, cards = discretize(X, np.zeros(8, dtype=bool), 8)
    relevance = plugin_mi(codes, cards, [y], 2)[0]
    order = mrmr_order(codes, cards, relevance, 8, "miq", [])
    pairwise = plugin_mi(codes, cards, list(codes), 8)  # cards are all 8
    expected = [int(np.argmax(relevance))]
    while len(expected) < 8:
        rest = [j for j in range(8) if j not in expected]
        redundancy = pairwise[np.ix_(expected, rest)].mean(axis=0)
        gain = relevance[rest] / (redundancy + 1e-12)
        expected.append(rest[int(np.argmax(gain))])
    assert order.tolist() == expected


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


def test_mi_does_not_copy_or_change_a_float_array(rng):
    X, y = make_classification(2000, 5, random_state=0)
    before = X.copy()
    mutual_info_importances(X, y, random_state=0)
    mrmr_importances(X, y, random_state=0)
    np.testing.assert_array_equal(X, before)
    assert X.flags.writeable


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
