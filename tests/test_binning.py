"""Binning and counting for MI, mRMR and EC-FS (featimp/_binning.py)."""

import numpy as np
import pytest

from featimp._binning import (
    code_dtype,
    constant_columns,
    discretize,
    plugin_mi,
    quantile_codes,
    resolve_discrete_mask,
)
from featimp._encoding import constant_columns as encoding_constant_columns
from tests._shared import mixed_columns


def test_codes_take_the_smallest_type_that_holds_them(rng):
    X = mixed_columns(rng)
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
    X = mixed_columns(rng)
    codes, cards = discretize(X, resolve_discrete_mask(X, "auto"), 16)
    targets = [rng.integers(0, n_target, X.shape[0]) for _ in range(4)]
    together = plugin_mi(codes, cards, targets, n_target)
    one_by_one = [plugin_mi(codes, cards, [t], n_target)[0] for t in targets]
    np.testing.assert_array_equal(together, one_by_one)
    columns = np.array([5, 0, 3])
    np.testing.assert_array_equal(
        plugin_mi(codes, cards, targets, n_target, columns), together[:, columns]
    )


def _reference_quantile_codes(row, n_bins):
    edges = np.quantile(row, np.arange(1, n_bins) / n_bins, method="inverted_cdf")
    return np.searchsorted(edges, row, side="right")


@pytest.mark.parametrize("n_bins", [2, 5, 27, 64])
def test_quantile_codes_equal_sorting_reference(rng, n_bins):
    rows = [
        rng.normal(size=1000),
        rng.integers(0, 3, 1000).astype(float),  # heavy ties
        np.zeros(1000),  # constant
        np.exp(rng.normal(0, 10, 1000)),  # heavy tail
        np.r_[rng.normal(size=999), 1e12],  # one outlier
        np.tile([0.0, -1e300, 1e300, 5.0], 250),  # the range overflows
        np.tile([0.0, 1e-310, 2e-310, 3e-310], 250),  # subnormal range
        np.round(rng.normal(size=1000), 1),
    ]
    V = np.vstack(rows)
    expected = np.vstack([_reference_quantile_codes(r, n_bins) for r in rows])
    np.testing.assert_array_equal(quantile_codes(V, n_bins), expected)


def test_auto_treats_integer_valued_columns_as_discrete(rng):
    X = np.column_stack([rng.normal(size=50), rng.integers(0, 5, 50), np.ones(50)])
    assert resolve_discrete_mask(X, "auto").tolist() == [False, True, True]
    assert resolve_discrete_mask(X, [0]).tolist() == [True, False, False]
    codes, cards = discretize(X, np.array([False, True, True]), n_bins=4)
    assert codes.shape == (3, 50)
    assert cards[0] == 4
    assert cards[2] == 1


def _table_margins(rng, n, n_codes, n_classes):
    x = rng.integers(0, n_codes, n)
    t = rng.integers(0, n_classes, n)
    return x, t, np.bincount(x, minlength=n_codes), np.bincount(t, minlength=n_classes)


@pytest.mark.parametrize("compiled", [True, False])
def test_expected_mi_is_the_hypergeometric_mean_of_the_plugin_mi(
    rng, monkeypatch, compiled
):
    import scipy.sparse as sp
    from sklearn.metrics.cluster._expected_mutual_info_fast import (
        expected_mutual_information,
    )

    from featimp import _mi_kernels
    from featimp._binning import expected_plugin_mi

    if not compiled:
        monkeypatch.setattr(_mi_kernels, "_kernels", lambda: None)
    elif _mi_kernels._kernels() is None:
        pytest.skip("numba is not installed")
    for n, n_codes, n_classes in [(40, 3, 2), (500, 9, 4), (3000, 33, 2), (800, 1, 3)]:
        x, t, n_x, n_t = _table_margins(rng, n, n_codes, n_classes)
        table = np.zeros((n_codes, n_classes), dtype=int)
        np.add.at(table, (x, t), 1)
        reference = expected_mutual_information(sp.csr_matrix(table), n)
        got = expected_plugin_mi(n_x, [n_codes], n_t, n)[0]
        np.testing.assert_allclose(got, reference, rtol=1e-9, atol=1e-16)


def test_expected_mi_is_the_mean_over_permutations(rng):
    from featimp._binning import expected_plugin_mi, plugin_mi

    x, t, n_x, n_t = _table_margins(rng, 300, 12, 3)
    codes = x[None, :].astype(np.uint8)
    permuted = plugin_mi(
        codes, np.array([12]), [rng.permutation(t) for _ in range(4000)], 3
    )
    expected = expected_plugin_mi(n_x, [12], n_t, 300)[0]
    standard_error = permuted.std() / np.sqrt(permuted.size)
    assert abs(permuted.mean() - expected) < 4 * standard_error
