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
from featimp._mutual_info import mrmr_importances, mrmr_order

needs_numba = pytest.mark.skipif(
    _mi_kernels._kernel() is None, reason="numba is not installed"
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
