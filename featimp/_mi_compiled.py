"""The numba kernels of :mod:`featimp._mi_kernels` (see it for what they do).

Imported only when numba is installed and a table is large enough; defined
at module level so that numba caches their machine code between processes.
"""

import numba
import numpy as np

_jit = numba.njit(cache=True, nogil=True)


@_jit
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


@_jit
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


@_jit
def code_kept(kept, kept_row, hist, cell_of, rank_in, targets, tables, codes, store):
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


@_jit
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


@_jit
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


@_jit
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


@_jit
def equal_width_counts(X, c0, width, n_bins, codes, n_classes):
    # Counts (width, n_bins, n_classes) of the equal-width bins of columns
    # c0 .. c0 + width of X (n, d) with the class codes, and which columns
    # are constant. The bins are those of featimp._affinity._bin_index: the
    # edges accumulate low + width + width + ..., and a value's bin is the
    # number of edges after the first that are <= it, found from the
    # floor estimate by stepping (it is rarely off by one).
    n = X.shape[0]
    low = np.full(width, np.inf)
    high = np.full(width, -np.inf)
    for i in range(n):
        row = X[i, c0 : c0 + width]
        for b in range(width):
            v = row[b]
            low[b] = min(low[b], v)
            high[b] = max(high[b], v)
    step = np.abs(high - low) / n_bins
    constant = step == 0
    edges = np.empty((width, n_bins))
    for b in range(width):
        if constant[b]:
            step[b] = 1.0
        edges[b, 0] = low[b]
        for k in range(1, n_bins):
            edges[b, k] = edges[b, k - 1] + step[b]
    counts = np.zeros((width, n_bins, n_classes), np.int64)
    top = n_bins - 1
    for i in range(n):
        row = X[i, c0 : c0 + width]
        code = codes[i]
        for b in range(width):
            v = row[b]
            k = min(max(np.floor((v - low[b]) / step[b]), 0.0), top)
            k = np.int64(k)
            while k > 0 and v < edges[b, k]:
                k -= 1
            while k < top and v >= edges[b, k + 1]:
                k += 1
            counts[b, k, code] += 1
    return counts, constant


@_jit
def column_moments(X, c0, width, codes, n_classes):
    # Per class: its size, and per column (rows of the results, (width, k))
    # the mean, the sum of squared deviations from it, the smallest and
    # largest value; and the squared deviations from the mean of all rows.
    # Two reads of columns c0 .. c0 + width of X (n, d), summed row after
    # row; NumPy sums the same terms, sometimes pairwise, so the two agree
    # to rounding (a few units in the last place).
    n = X.shape[0]
    sizes = np.zeros(n_classes, np.int64)
    sums = np.zeros((width, n_classes))
    total = np.zeros(width)
    low = np.full((width, n_classes), np.inf)
    high = np.full((width, n_classes), -np.inf)
    for i in range(n):
        row = X[i, c0 : c0 + width]
        k = codes[i]
        sizes[k] += 1
        for b in range(width):
            v = row[b]
            sums[b, k] += v
            total[b] += v
            low[b, k] = min(low[b, k], v)
            high[b, k] = max(high[b, k], v)
    means = np.empty((width, n_classes))
    for b in range(width):
        for k in range(n_classes):
            means[b, k] = sums[b, k] / sizes[k]
    mean = total / n
    squares = np.zeros((width, n_classes))
    total_squares = np.zeros(width)
    for i in range(n):
        row = X[i, c0 : c0 + width]
        k = codes[i]
        for b in range(width):
            v = row[b]
            deviation = v - means[b, k]
            squares[b, k] += deviation * deviation
            deviation = v - mean[b]
            total_squares[b] += deviation * deviation
    return sizes, means, squares, low, high, total_squares


@_jit
def expected_cells(a, b, n, tail):
    # E[(k / n) log(n k / (a b))] for k ~ Hypergeometric(n, a, b) of each
    # cell (a[c], b[c]): the cell's term of the plug-in MI averaged over
    # every permutation of the target. The weights are built from the mode
    # outwards by the exact ratio of neighbouring probabilities and
    # normalised by their sum; each walk stops once a weight falls below
    # ``tail`` times the mode's.
    out = np.zeros(a.size)
    for c in range(a.size):
        ac, bc = float(a[c]), float(b[c])
        low = max(0.0, ac + bc - n)
        high = min(ac, bc)
        mode = np.floor((ac + 1.0) * (bc + 1.0) / (n + 2.0))
        mode = min(max(mode, low), high)
        total = 0.0
        value = 0.0
        k, w = mode, 1.0
        while True:  # upwards from the mode
            total += w
            if k > 0:
                value += w * (k / n) * np.log(n * k / (ac * bc))
            if k >= high:
                break
            w *= (ac - k) * (bc - k) / ((k + 1.0) * (n - ac - bc + k + 1.0))
            k += 1.0
            if w < tail:
                break
        k, w = mode, 1.0
        while k > low:  # downwards
            w *= k * (n - ac - bc + k) / ((ac - k + 1.0) * (bc - k + 1.0))
            k -= 1.0
            if w < tail:
                break
            total += w
            if k > 0:
                value += w * (k / n) * np.log(n * k / (ac * bc))
        out[c] = value / total
    return out


_ABS = np.int64(0x7FFFFFFFFFFFFFFF)
_INF = np.int64(0x7FF0000000000000)
_BLOCK = 1024
# As featimp._stream_counts: mantissa bits of a cell, octaves of a column.
_MANTISSA = 8
_OCTAVES = 128
_HALF = _OCTAVES << _MANTISSA


@_jit
def _cell(a, e_low):
    # The fine cell of the float64 whose bits are ``a`` (not NaN or
    # infinite): featimp._stream_counts.fine_cells, without a branch.
    step = ((a & _ABS) >> (52 - _MANTISSA)) - (e_low << _MANTISSA)
    step = min(max(step, 0), _HALF - 1)
    return _HALF + (step ^ (a >> 63))


@_jit
def count_fine(values, offset, e_low, targets, n_target, table, missing, extremes):
    # Each value's cell is that of ``values[i] - offset`` among the cells of
    # featimp._stream_counts.fine_cells (its octave in the window from
    # ``e_low``, and 8 bits of mantissa), counted with every target into the
    # flat table ``cell * (targets * n_target) + k * n_target + class``;
    # missing values (NaN) in ``missing``. ``targets`` is (n, k), or (n,) for
    # one target. ``extremes`` keeps the smallest and largest value; returns
    # how many values were infinite.
    n = values.size
    single = targets.ndim == 1
    n_targets = 1 if single else targets.shape[1]
    width = n_targets * n_target
    flat = targets.reshape(-1)
    buffer = np.empty(_BLOCK, np.float64)
    bits = buffer.view(np.int64)
    infinite = 0
    low, high = extremes[0], extremes[1]
    for start in range(0, n, _BLOCK):
        stop = min(start + _BLOCK, n)
        for i in range(start, stop):
            buffer[i - start] = (values[i] - offset) + 0.0
        for i in range(start, stop):
            a = bits[i - start]
            magnitude = a & _ABS
            if magnitude >= _INF:
                if magnitude == _INF:
                    infinite += 1
                else:  # NaN
                    for k in range(n_targets):
                        missing[k * n_target + flat[i * n_targets + k]] += 1
                continue
            x = values[i]
            low = min(low, x)
            high = max(high, x)
            base = _cell(a, e_low) * width
            for k in range(n_targets):
                table[base + k * n_target + flat[i * n_targets + k]] += 1
    extremes[0], extremes[1] = low, high
    return infinite


@_jit
def count_dense(values, low, span, targets, n_target, table):
    # ``table[(values[i] - low) * width + k * n_target + targets[i, k]] += 1``
    # (a flat table of ``span`` rows of width = targets * n_target;
    # ``targets`` (n, k) or (n,)) up to the first value outside the table,
    # whose index is returned (-1 when every value was counted).
    n = values.size
    single = targets.ndim == 1
    n_targets = 1 if single else targets.shape[1]
    width = n_targets * n_target
    flat = targets.reshape(-1)
    for i in range(n):
        row = values[i] - low
        if row < 0 or row >= span:
            return i
        base = row * width
        if n_targets == 1:
            table[base + flat[i]] += 1
        else:
            for k in range(n_targets):
                table[base + k * n_target + flat[i * n_targets + k]] += 1
    return -1
