"""Compiled binning and counting of contingency tables, when numba is installed.

Two kernels:

``count``
    The tables of code columns against several targets. mRMR counts, at
    every pick, the table of each remaining column against the picked
    column and each of its permutations; in NumPy every target costs a few
    passes over the codes (offset, combine, count), the compiled loop reads
    each code once for all targets.
``bin_count``
    Quantile-binning continuous columns and counting their tables, a column
    at a time, in three reads of the column: its range; a fine histogram
    that locates every quantile edge in one of its cells; then one read
    that codes every value by its cell and counts it. Only the values that
    share a cell with an edge (a few dozen per edge) are kept aside, sorted
    and coded exactly afterwards. The codes are exactly those of
    :func:`featimp._binning.quantile_codes`, and they are only stored when
    asked for (mRMR needs them, MI does not).

    A column of a C-ordered table is strided, and the three reads would each
    wait on memory row after row, so a block of columns is first copied
    into a small scratch array (at most an eighth of the table per thread);
    the columns of an F-ordered table are read in place.

The counts are integers, so the MI computed from them is the same to the
last bit as from the NumPy count. The kernels release the GIL, and the
wrappers split the columns between threads (:func:`n_threads`).

numba is optional: the wrappers return None without it, and the caller
counts with NumPy. It is imported on first use only, as it takes longer to
import (0.35 s) than a small MI takes to compute.
"""

from __future__ import annotations

import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Cells of the histogram that locates the edges of a column. The finer it
# is, the fewer values share a cell with an edge (n / _CELLS per edge, sorted
# afterwards); 4,096 int32 counts (16 KiB) stay in the fastest cache.
_CELLS = 4096
# Rows of at most this many bytes are read whole, in order, a block of
# columns at a time (their histograms, 16 KiB each, stay in cache); wider
# rows would each start on a new page, where reads stall, so their columns
# are copied to a scratch array, a few at a time, and read as columns.
_NARROW_ROW = 4096
_ROW_BLOCK = 128
# Columns per scratch copy (two cache lines of a row), and the scratch's
# largest share of the table, per thread.
_SCRATCH_COLUMNS = 16
_SCRATCH_SHARE = 1 / 8
# Columns per block of the equal-width count: a row's slice (32 KiB) and the
# block's counts stay in cache.
_EQUAL_WIDTH_BLOCK = 4096
# Fewest columns worth a thread of their own.
_THREAD_COLUMNS = 4
# Fewest cells of the exact-mean null worth splitting over the threads.
_THREAD_CELLS = 4096


@functools.cache
def _kernels():
    """``(count, bin_count, bin_count_rows, equal_width_counts,
    column_moments, expected_cells)``, or None without numba."""
    try:
        from featimp._mi_compiled import (
            bin_count,
            bin_count_rows,
            column_moments,
            count,
            equal_width_counts,
            expected_cells,
        )
    except ImportError:
        return None
    return (
        count,
        bin_count,
        bin_count_rows,
        equal_width_counts,
        column_moments,
        expected_cells,
    )


def n_threads() -> int:
    """Threads the kernels split their columns over: numba's own setting
    (``NUMBA_NUM_THREADS`` or :func:`numba.set_num_threads`; the number of
    CPUs by default). Each thread counts its own columns, so the counts do
    not depend on it."""
    import numba

    return int(numba.get_num_threads())


def _chunks(size: int, most: int | None = None) -> list[slice]:
    """One slice of ``range(size)`` per thread (fewer for few columns), or
    more if a slice would be wider than ``most``."""
    parts = max(1, min(n_threads(), size // _THREAD_COLUMNS))
    if most is not None:
        parts = max(parts, -(-size // most))
    step = -(-size // parts)
    return [slice(s, min(s + step, size)) for s in range(0, size, step)]


def _run(calls):
    """Results of the zero-argument ``calls``, in threads if more than one."""
    if len(calls) == 1:
        return [calls[0]()]
    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(lambda call: call(), calls))


def count_tables(codes, columns, first_code, targets, n_target: int, n_x_codes: int):
    """Dense joint tables ``(len(targets), n_x_codes * n_target)`` of the
    rows ``columns`` of ``codes`` (offset by ``first_code``) with each target,
    or None when numba is not installed."""
    kernels = _kernels()
    # The kernel counts in int32, which holds any count of fewer entries.
    if kernels is None or codes.shape[1] > np.iinfo(np.int32).max:
        return None
    codes = np.ascontiguousarray(codes)
    columns = np.asarray(columns, dtype=np.intp)
    first_code = np.asarray(first_code, dtype=np.intp)
    targets = np.column_stack(targets).astype(np.intp, copy=False)
    if not columns.size:
        return np.zeros((targets.shape[1], 0), dtype=np.int64)
    ends = np.append(first_code[1:], n_x_codes)

    def part(chunk):
        first = first_code[chunk]
        return lambda: kernels[0](
            codes,
            columns[chunk],
            first - first[0],
            targets,
            int(n_target),
            int(ends[chunk][-1] - first[0]),
        )

    tables = np.concatenate(_run([part(chunk) for chunk in _chunks(columns.size)]))
    return tables.T.astype(np.int64)


def bin_count_tables(X, columns, n_bins: int, targets, n_comb: int, codes=None):
    """Quantile-bin the continuous ``columns`` of ``X`` and count their tables.

    ``targets`` (n_samples, n_groups) holds combined target codes below
    ``n_comb``. Returns ``(tables, lo, hi, n_nan)``: ``tables[j, code, g, t]``
    for the j-th of ``columns`` (codes ``0 .. n_bins - 1``, and ``n_bins``
    for NaN), and each column's smallest and largest observed value and
    number of NaN. With ``codes`` (n_features, n_samples), C-ordered, the
    codes of ``columns`` are written to it. None when numba is not installed.
    """
    kernels = _kernels()
    columns = np.asarray(columns, dtype=np.intp)
    if kernels is None or not columns.size:
        return None
    n, d = X.shape
    n_cells = int(np.clip(n // 4, 16, _CELLS))
    targets = np.ascontiguousarray(targets, dtype=np.intp)
    out = codes if codes is not None else np.empty((0, 0), dtype=np.uint8)
    in_place = X.T.flags.c_contiguous and not X.flags.c_contiguous
    if not in_place and d * X.itemsize <= _NARROW_ROW:
        X = np.ascontiguousarray(X, dtype=float)
        calls = []
        # Runs of adjacent columns, read as slices of each row.
        for run in np.split(columns, np.flatnonzero(np.diff(columns) != 1) + 1):
            for chunk in _chunks(run.size, _ROW_BLOCK):
                block = run[chunk]
                calls.append(
                    functools.partial(
                        kernels[2],
                        X,
                        block[0],
                        block.size,
                        n_bins,
                        n_cells,
                        targets,
                        n_comb,
                        out,
                    )
                )
    else:
        source = X.T if in_place else np.ascontiguousarray(X, dtype=float)
        threads = _chunks(columns.size)
        share = int(X.size * _SCRATCH_SHARE / len(threads))
        block = max(1, min(_SCRATCH_COLUMNS, share // max(n, 1)))
        calls = [
            functools.partial(
                kernels[1],
                source,
                in_place,
                columns[chunk],
                block,
                n_bins,
                n_cells,
                targets,
                n_comb,
                out,
            )
            for chunk in threads
        ]
    return tuple(np.concatenate(p) for p in zip(*_run(calls), strict=True))


def equal_width_tables(X, n_bins: int, codes, n_classes: int, columns=None):
    """``(counts, constant)`` of the equal-width bins of the ``columns`` (a
    slice, default all) of ``X`` (n, d), C-ordered, with the class
    ``codes``, as :func:`featimp._affinity._bin_index` and ``_joint_counts``
    count them: ``counts`` (width, n_bins, n_classes). One read for the
    ranges and one for the counts, a block of columns at a time, the blocks
    split between threads. None without numba."""
    return _by_blocks(3, X, columns, n_bins, codes, n_classes)


def class_moments(X, codes, n_classes: int, columns=None):
    """Per-class sizes (k,) and, for the ``columns`` of ``X`` (n, d),
    C-ordered, the per-class means, sums of squared deviations, smallest
    and largest values (k, width), and the sums of squared deviations from
    the mean of all rows (width,), in two reads of each block of columns.
    The rows are added in order; NumPy adds the same terms, sometimes
    pairwise, so the sums agree to rounding. None without numba."""
    found = _by_blocks(4, X, columns, codes, n_classes)
    if found is None:
        return None
    sizes, *per_column, total = found
    return (sizes[:n_classes], *(a.T for a in per_column), total)


def _by_blocks(kernel: int, X, columns, *args):
    """Kernel ``kernel`` on each block of ``_EQUAL_WIDTH_BLOCK`` of the
    ``columns`` (a slice) of ``X``, the blocks split between the threads;
    each result concatenated over the blocks in column order. None without
    numba."""
    kernels = _kernels()
    if kernels is None:
        return None
    X = np.ascontiguousarray(X, dtype=float)
    args = tuple(np.asarray(a, dtype=np.intp) if np.ndim(a) else a for a in args)
    first, stop, _ = (columns or slice(None)).indices(X.shape[1])
    calls = [
        functools.partial(
            kernels[kernel], X, s, min(_EQUAL_WIDTH_BLOCK, stop - s), *args
        )
        for s in range(first, stop, _EQUAL_WIDTH_BLOCK)
    ]
    groups = [calls[t :: n_threads()] for t in range(min(n_threads(), len(calls)))]
    found = _run([functools.partial(_serially, group) for group in groups])
    parts = sorted(
        (start, result) for group_found in found for start, result in group_found
    )
    return tuple(np.concatenate(p) for p in zip(*(r for _, r in parts), strict=True))


def _serially(calls):
    """``(first column, result)`` of each call, one after the other."""
    return [(call.args[1], call()) for call in calls]


def expected_cells(a, b, n: float, tail: float):
    """The hypergeometric mean of each cell's plug-in MI term (see
    :func:`featimp._binning.expected_plugin_mi`), or None without numba."""
    kernels = _kernels()
    if kernels is None:
        return None
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    # Each cell on its own, and a cell's walk costs about its count's
    # standard deviation (a million rows: ~0.2 s for 30,000 cells): split
    # over the threads when there are many.
    cells = _chunks(a.size) if a.size >= _THREAD_CELLS else [slice(0, a.size)]
    parts = _run([lambda s=s: kernels[5](a[s], b[s], float(n), tail) for s in cells])
    return np.concatenate(parts) if len(parts) > 1 else parts[0]
