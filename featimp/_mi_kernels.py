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
# Fewest columns worth a thread of their own.
_THREAD_COLUMNS = 4


@functools.cache
def _kernels():
    try:
        import numba
    except ImportError:
        return None
    jit = numba.njit(cache=True, nogil=True)

    @jit
    def count(codes, columns, first_code, targets, n_target, n_x_codes):
        # Targets side by side (n, k) and tables cell-major (cells, k): the
        # k counts of one entry land in one cache line.
        n, n_targets = targets.shape
        tables = np.zeros((n_x_codes * n_target, n_targets), dtype=np.int32)
        for c in range(columns.size):
            row = codes[columns[c]]
            offset = first_code[c]
            for i in range(n):
                cell = (offset + row[i]) * n_target
                for k in range(n_targets):
                    tables[cell + targets[i, k], k] += 1
        return tables

    @jit
    def edge_cells(hist, n_obs, n_bins, lut, cell_of, rank_in, ranks):
        # The cell of each edge of a column (rank ceil(k m / n_bins) - 1 of
        # its m observed values, as np.quantile's "inverted_cdf") and the
        # edge's rank inside its cell; in ``lut`` the code of the values of
        # each cell without an edge, -1 for the cells with one. Returns how
        # many values the cells with an edge hold.
        n_edges = n_bins - 1
        for k in range(n_edges):
            ranks[k] = ((k + 1) * n_obs + n_bins - 1) // n_bins - 1
        ranks[n_edges] = n_obs  # a sentinel no cell reaches
        k = 0
        below = 0
        held = 0
        for c in range(hist.size):
            count = hist[c]
            first = k
            while ranks[k] < below + count:
                cell_of[k] = c
                rank_in[k] = ranks[k] - below
                k += 1
            if k > first:
                lut[c] = -1
                held += count
            else:
                lut[c] = first
            below += count
        return held

    @jit
    def code_kept(
        kept, kept_row, hist, cell_of, rank_in, targets, tables, codes, store
    ):
        # Code and count the values kept from the cells with an edge. Sorted,
        # they run cell after cell: an edge is its cell's offset plus its
        # rank in the cell.
        if kept.size == 0:  # every value is NaN: no edges
            return
        n_edges = cell_of.size
        ordered = np.sort(kept)
        edges = np.empty(n_edges)
        offset = 0
        previous = cell_of[0]
        for k in range(n_edges):
            if cell_of[k] != previous:
                offset += hist[previous]
                previous = cell_of[k]
            edges[k] = ordered[offset + rank_in[k]]
        for q in range(kept.size):
            code = np.searchsorted(edges, kept[q], side="right")
            i = kept_row[q]
            for g in range(targets.shape[1]):
                tables[code, g, targets[i, g]] += 1
            if store:
                codes[i] = code

    @jit
    def bin_column(column, n_bins, hist, lut, targets, tables, codes, store):
        # Codes of one column and its table against the combined targets
        # (n, n_groups): tables[code, group, target]; NaN gets code n_bins.
        # Returns the smallest and largest observed value and the NaNs.
        n = column.size
        n_groups = targets.shape[1]
        lo, hi, n_nan = np.inf, -np.inf, 0
        for i in range(n):
            v = column[i]
            lo = min(lo, v) if v == v else lo
            hi = max(hi, v) if v == v else hi
            n_nan += v != v
        n_cells = hist.size
        top = n_cells - 1
        shift, scale = 0.0, 0.0
        span = hi - lo
        # A span too small to divide by, or one that overflows, gets one
        # cell: still exact, as every value is then compared exactly.
        if np.isfinite(span) and span > n_cells * np.finfo(np.float64).tiny:
            shift, scale = lo, n_cells / span
        hist[:] = 0
        for i in range(n):
            v = column[i]
            if v == v:
                # Monotone in v (rounding is), so cells order as values do.
                hist[min(np.int64((v - shift) * scale), top)] += 1
        cell_of = np.empty(n_bins - 1, np.int64)
        rank_in = np.empty(n_bins - 1, np.int64)
        ranks = np.empty(n_bins, np.int64)
        held = edge_cells(hist, n - n_nan, n_bins, lut, cell_of, rank_in, ranks)
        kept = np.empty(held)
        kept_row = np.empty(held, np.int64)
        fill = 0
        for i in range(n):
            v = column[i]
            if v == v:
                code = lut[min(np.int64((v - shift) * scale), top)]
                if code < 0:  # shares a cell with an edge: coded below
                    kept[fill] = v
                    kept_row[fill] = i
                    fill += 1
                    continue
            else:
                code = n_bins
            for g in range(n_groups):
                tables[code, g, targets[i, g]] += 1
            if store:
                codes[i] = code
        code_kept(kept, kept_row, hist, cell_of, rank_in, targets, tables, codes, store)
        return lo, hi, n_nan

    @jit
    def bin_count(X, in_place, columns, block, n_bins, n_cells, targets, n_comb, codes):
        # bin_column for each of ``columns`` of X: X (d, n) read in place,
        # or X (n, d) copied ``block`` columns at a time. codes (d, n), or
        # (0, 0) to store none.
        width = columns.size
        n = X.shape[1] if in_place else X.shape[0]
        store = codes.shape[0] > 0
        tables = np.zeros((width, n_bins + 1, targets.shape[1], n_comb), np.int64)
        lo, hi = np.empty(width), np.empty(width)
        n_nan = np.empty(width, np.int64)
        hist = np.empty(n_cells, np.int32)
        lut = np.empty(n_cells, np.int16)
        scratch = np.empty((0 if in_place else block, n))
        for s in range(0, width, block):
            part = columns[s : s + block]
            if not in_place:
                for i in range(n):
                    row = X[i]
                    for b in range(part.size):
                        scratch[b, i] = row[part[b]]
            for b in range(part.size):
                j = s + b
                column = X[part[b]] if in_place else scratch[b]
                out = codes[part[b]] if store else codes[0:0, 0:0].ravel()
                lo[j], hi[j], n_nan[j] = bin_column(
                    column, n_bins, hist, lut, targets, tables[j], out, store
                )
        return tables, lo, hi, n_nan

    @jit
    def bin_count_rows(X, c0, width, n_bins, n_cells, targets, n_comb, codes):
        # bin_column for columns c0 .. c0 + width of a C-ordered X (n, d)
        # with narrow rows: each of the three reads goes through X row by
        # row, in order, for all the columns of the block at once.
        n = X.shape[0]
        n_groups = targets.shape[1]
        store = codes.shape[0] > 0
        lo = np.full(width, np.inf)
        hi = np.full(width, -np.inf)
        n_nan = np.zeros(width, np.int64)
        for i in range(n):
            row = X[i, c0 : c0 + width]
            for b in range(width):
                v = row[b]
                if v < lo[b]:
                    lo[b] = v
                if v > hi[b]:
                    hi[b] = v
                n_nan[b] += v != v
        shift = np.zeros(width)
        scale = np.zeros(width)
        for b in range(width):
            span = hi[b] - lo[b]
            if np.isfinite(span) and span > n_cells * np.finfo(np.float64).tiny:
                shift[b], scale[b] = lo[b], n_cells / span
        top = n_cells - 1
        hist = np.zeros((width, n_cells), np.int32)
        for i in range(n):
            row = X[i, c0 : c0 + width]
            for b in range(width):
                v = row[b]
                if v == v:
                    hist[b, min(np.int64((v - shift[b]) * scale[b]), top)] += 1
        lut = np.empty((width, n_cells), np.int16)
        cell_of = np.empty((width, n_bins - 1), np.int64)
        rank_in = np.empty((width, n_bins - 1), np.int64)
        ranks = np.empty(n_bins, np.int64)
        start = np.zeros(width + 1, np.int64)
        for b in range(width):
            start[b + 1] = start[b] + edge_cells(
                hist[b], n - n_nan[b], n_bins, lut[b], cell_of[b], rank_in[b], ranks
            )
        kept = np.empty(start[width])
        kept_row = np.empty(start[width], np.int64)
        fill = start[:width].copy()
        tables = np.zeros((width, n_bins + 1, n_groups, n_comb), np.int64)
        row_codes = np.empty(width, np.int64)
        for i in range(n):
            row = X[i, c0 : c0 + width]
            for b in range(width):
                v = row[b]
                if v == v:
                    cell = min(np.int64((v - shift[b]) * scale[b]), top)
                    row_codes[b] = lut[b, cell]
                else:
                    row_codes[b] = n_bins
            for b in range(width):
                code = row_codes[b]
                if code < 0:  # shares a cell with an edge: coded afterwards
                    kept[fill[b]] = row[b]
                    kept_row[fill[b]] = i
                    fill[b] += 1
                    continue
                for g in range(n_groups):
                    tables[b, code, g, targets[i, g]] += 1
                if store:
                    codes[c0 + b, i] = code
        for b in range(width):
            out = codes[c0 + b] if store else codes[0:0, 0:0].ravel()
            part = slice(start[b], start[b + 1])
            code_kept(
                kept[part],
                kept_row[part],
                hist[b],
                cell_of[b],
                rank_in[b],
                targets,
                tables[b],
                out,
                store,
            )
        return tables, lo, hi, n_nan

    return count, bin_count, bin_count_rows


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
