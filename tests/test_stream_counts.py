import itertools

import numpy as np
import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")

from featimp import _stream_counts, _streaming  # noqa: E402
from featimp._stream_counts import (  # noqa: E402
    FINE_CELLS,
    ColumnCounts,
    fine_cells,
    low_octave,
    merge_counts,
)


def _settings(cap=50, sample_size=100, discrete="auto"):
    return _streaming._Settings(
        batch_size=1000, sample_size=sample_size, cap=cap, seed=0, discrete=discrete
    )


def _counted(values, y, *, settings, parts=1, kind="numeric", continuous=True):
    """Counts of ``values`` (an Arrow array) with targets ``y`` (n, k), fed
    in batches of 700 rows, in ``parts`` counted apart and merged."""
    numeric = kind == "numeric"
    finite = np.asarray(pd.Series(values.to_pandas()).dropna(), dtype=object)
    offset = float(np.median(finite.astype(float))) if numeric else 0.0
    spec = {
        "name": "x",
        "kind": kind,
        "n_target": int(y.max()) + 1,
        "n_targets": y.shape[1],
        "discrete": not numeric or settings.discrete is not False,
        "continuous": numeric and continuous,
        "cap": settings.cap,
        "sample_size": settings.sample_size,
        "offset": offset,
        "e_low": low_octave(finite.astype(float) - offset) if numeric else 0,
    }
    bounds = np.linspace(0, len(values), parts + 1).astype(int)
    totals = None
    for a, b in itertools.pairwise(bounds):
        counts = [ColumnCounts(**spec)]
        for start in range(a, b, 700):
            stop = min(start + 700, b)
            counts[0].add(values.slice(start, stop - start), y[start:stop])
        totals = counts if totals is None else merge_counts(totals, counts)
    return totals[0]


def _reference_table(coder, values, y, n_target):
    """The table of the codes that ``_streaming._codes`` gives the rows."""
    codes = _streaming._codes(coder, values)
    table = np.zeros((coder.card, y.shape[1] * n_target), dtype=np.int64)
    for k in range(y.shape[1]):
        np.add.at(table, (codes, k * n_target + y[:, k]), 1)
    return table


@pytest.fixture(params=["compiled", "numpy"])
def kernels(request, monkeypatch):
    if request.param == "numpy":
        monkeypatch.setattr(_stream_counts, "_kernels", lambda: None)
    elif _stream_counts._kernels() is None:
        pytest.skip("numba is not installed")
    return request.param


def _targets(n, rng, k=2):
    return rng.integers(0, 3, size=(n, k)).astype(np.intp)


def test_fine_cells_keep_the_order_of_the_values():
    rng = np.random.default_rng(0)
    values = np.concatenate(
        [rng.normal(1e9, 1e3, 5000), rng.standard_cauchy(5000), [0.0, -0.0, 1e9]]
    )
    offset = 1e9
    cells = fine_cells(values, offset, low_octave(values - offset))
    order = np.argsort(values, kind="stable")
    assert (np.diff(cells[order]) >= 0).all()
    assert cells.min() >= 0 and cells.max() < FINE_CELLS
    # -0.0 and 0.0 are one value, so one cell.
    zero = fine_cells(np.array([0.0, -0.0]), 0.0, 1000)
    assert zero[0] == zero[1]
    # A cell is at most 2**-8 of the distance from the offset wide.
    typical = fine_cells(np.array([1e9 + 1000.0, 1e9 + 1003.0]), offset, 1000)
    assert typical[1] - typical[0] >= 1


def test_continuous_counts_equal_the_codes_of_their_coder(kernels):
    rng = np.random.default_rng(1)
    n = 5000
    raw = rng.lognormal(3, 1.5, n)
    raw[rng.random(n) < 0.05] = np.nan
    values, y = pa.array(raw), _targets(n, rng)
    settings = _settings(sample_size=100)
    counts = _counted(values, y, settings=settings, parts=3)
    assert counts.fine is not None  # more values than sample_size
    coder, table = _streaming._finish_counts(counts, 10, settings)
    assert coder.how == "cells" and coder.has_missing
    np.testing.assert_array_equal(table, _reference_table(coder, values, y, 3))
    # Quantile bins from all the values: each holds a tenth of them, to the
    # width of a cell (0.4 % of the distance from the offset).
    observed = table[:-1, :3].sum(axis=1)
    share = observed / observed.sum()
    np.testing.assert_allclose(share, 0.1, atol=0.003)


def test_a_small_column_gets_the_in_memory_edges(kernels):
    rng = np.random.default_rng(2)
    raw = rng.normal(size=90)
    values, y = pa.array(raw), _targets(90, rng, k=1)
    settings = _settings(sample_size=100)
    counts = _counted(values, y, settings=settings, parts=2)
    coder, table = _streaming._finish_counts(counts, 5, settings)
    assert coder.how == "edges"
    column = _streaming._Column("x", "numeric", sample=raw, n_observed=90)
    expected = _streaming._edges_coder(column, 5, False)
    np.testing.assert_array_equal(coder.lookup, expected.lookup)
    np.testing.assert_array_equal(table, _reference_table(coder, values, y, 3))


def test_sorted_timestamps_are_binned_evenly(kernels):
    # The first rows of a sorted column span a few seconds of ten years:
    # its cells must still reach across the whole range.
    n = 20_000
    raw = np.sort(1.7e9 + np.random.default_rng(3).uniform(0, 3e8, n))
    values, y = pa.array(raw), np.zeros((n, 1), dtype=np.intp)
    settings = _settings(sample_size=100)
    head = raw[: _streaming._OFFSET_ROWS]
    offset = float(np.median(head))
    counts = _counted(values, y, settings=settings)
    counts.fine[:] = 0  # recount with the offset of the first rows only
    counts.offset, counts.e_low = offset, low_octave(head - offset)
    counts.fine += _stream_counts.bincount_rows(
        fine_cells(raw, offset, counts.e_low), y, 1, FINE_CELLS
    )
    _, table = _streaming._finish_counts(counts, 10, settings)
    np.testing.assert_allclose(table[:, 0] / n, 0.1, atol=0.01)


@pytest.mark.parametrize(
    "raw",
    [
        np.arange(400) % 120,  # dense integers, past the cap of 50
        (np.arange(400) % 120) * 10**12,  # too wide for a dense table
        np.arange(400) % 30,  # under the cap: by value
    ],
    ids=["dense", "sparse", "values"],
)
def test_integers_by_value_or_hashed_as_each_row_would_be(raw, kernels):
    rng = np.random.default_rng(4)
    raw = rng.permutation(raw)
    values = pa.array(raw, mask=rng.random(raw.size) < 0.1)
    y = _targets(raw.size, rng)
    settings = _settings(cap=50)
    one = _counted(values, y, settings=settings, continuous=False)
    parts = _counted(values, y, settings=settings, parts=4, continuous=False)
    for counts in (one, parts):
        coder, table = _streaming._finish_counts(counts, 10, settings)
        if np.unique(raw).size > settings.cap:
            assert coder.how == "hash"
        else:
            assert coder.how in {"values", "offsets"}
        np.testing.assert_array_equal(table, _reference_table(coder, values, y, 3))


def test_text_by_value_or_hashed_as_each_row_would_be(kernels):
    rng = np.random.default_rng(5)
    words = np.array([f"w{i}" for i in rng.integers(0, 80, 600)], dtype=object)
    words[rng.random(600) < 0.1] = None
    values, y = pa.array(words, type=pa.string()), _targets(600, rng)
    for cap in (50, 100):
        settings = _settings(cap=cap)
        for parts in (1, 3):
            counts = _counted(
                values, y, settings=settings, parts=parts, kind="categorical"
            )
            coder, table = _streaming._finish_counts(counts, 10, settings)
            assert coder.how == ("hash" if cap == 50 else "categories")
            reference = _reference_table(coder, values, y, 3)
            np.testing.assert_array_equal(table, reference)


def test_an_integer_valued_float_column_is_discrete_until_it_is_not(kernels):
    rng = np.random.default_rng(6)
    raw = rng.integers(0, 7, 3000).astype(float)
    y = _targets(3000, rng, k=1)
    settings = _settings(sample_size=100)
    counts = _counted(pa.array(raw), y, settings=settings, parts=2)
    coder, table = _streaming._finish_counts(counts, 10, settings)
    assert coder.how == "offsets"
    np.testing.assert_array_equal(table, _reference_table(coder, pa.array(raw), y, 3))
    raw[-1] = 0.5  # one fraction: binned by quantiles instead
    counts = _counted(pa.array(raw), y, settings=settings, parts=2)
    coder, _ = _streaming._finish_counts(counts, 10, settings)
    assert coder.how == "cells"


def test_infinity_is_named(kernels):
    raw = np.r_[np.arange(300.0), np.inf]
    with pytest.raises(ValueError, match="column 'x' contains infinity"):
        _counted(pa.array(raw), np.zeros((301, 1), np.intp), settings=_settings())


def test_booleans_with_missing_values_are_counted_by_value(kernels):
    flags = pa.array([True, False, None, True, True, None, False] * 40)
    y = np.tile([0, 1, 1, 0, 1, 0, 1], 40)[:, None].astype(np.intp)
    settings = _settings()
    counts = _counted(flags, y, settings=settings, continuous=False)
    coder, table = _streaming._finish_counts(counts, 10, settings)
    assert coder.card == 3 and coder.has_missing  # False, True, missing
    np.testing.assert_array_equal(table, _reference_table(coder, flags, y, 2))
