"""Discretising columns and counting plug-in mutual information, vectorised.

Continuous columns are cut at exact quantiles (found through a coarse grid,
without sorting every column), discrete ones coded by value, into the
smallest unsigned type that holds the codes (one byte for up to 256 bins).
One ``np.bincount`` over offset joint codes then gives the contingency
tables of a block of columns with the target at once, and with several
targets at once where their combined tables are small: the permutation null
re-counts the same codes without re-binning. Used by
:mod:`featimp._mutual_info`.
"""

from __future__ import annotations

import numpy as np

from featimp._mi_kernels import bin_count_tables, count_tables, expected_cells
from featimp._validation import encode_target

# Most entries binned or counted per block of columns. Small enough that a
# block's temporaries stay below glibc's mmap threshold (32 MiB at most), so
# they are reused from the heap instead of faulted in afresh.
_BLOCK_ENTRIES = 1 << 20
# Fewer on small tables, so that a block's temporaries stay within a tenth of
# the 8-byte data: binning takes about 40 bytes an entry, counting 8.
_BIN_SHARE = 1 / 50
_COUNT_SHARE = 1 / 10
# Most cells per row of the equal-width grid that narrows quantile searches;
# fewer for small samples, so that the grid never outweighs the data.
_GRID = 4096
# Most cells of the tables one compiled count fills (8 bytes each).
_COMPILED_CELLS = 1 << 22
# Most values of targets counted together as one code in the compiled
# binning: the tables of a block of columns then stay in cache.
_COMBINED_TARGET = 64
# Fewest entries binned by the compiled kernel: below, NumPy takes a few
# milliseconds and importing numba (0.35 s) would cost more than it saves.
_COMPILED_ENTRIES = 1 << 20
# Below this many cells per counted entry a dense bincount is cheaper than a
# sort; above it (high-cardinality pairs) the non-empty cells are found by sort.
_DENSE_CELLS_PER_ENTRY = 4


def resolve_discrete_mask(X, discrete_features, max_values=None) -> np.ndarray:
    """Boolean mask of the columns of ``X`` to treat as discrete.

    ``"auto"`` marks the integer-valued columns (which includes categorical
    columns encoded as codes), and with ``max_values`` only those with at
    most that many distinct values; a bool applies to all columns; otherwise
    a boolean mask or an array of column indices, as in scikit-learn.
    """
    d = X.shape[1]
    if isinstance(discrete_features, str):
        mask = _integer_valued(X)
        if max_values is not None:
            for j in np.flatnonzero(mask):
                column = X[:, j]
                mask[j] = np.unique(column[~np.isnan(column)]).size <= max_values
        return mask
    if isinstance(discrete_features, bool | np.bool_):
        return np.full(d, bool(discrete_features))
    spec = np.asarray(discrete_features)
    if spec.size == 0:
        return np.zeros(d, dtype=bool)
    if spec.dtype == bool:
        if spec.shape != (d,):
            raise ValueError(
                f"discrete_features is a boolean mask of shape {spec.shape}; "
                f"X has {d} features"
            )
        return spec.copy()
    if spec.ndim != 1 or spec.dtype.kind not in "iu":
        raise ValueError(
            "discrete_features must be 'auto', a bool, a boolean mask or an "
            f"array of column indices, got {discrete_features!r}"
        )
    if spec.size and (spec.min() < -d or spec.max() >= d):
        raise ValueError(
            f"discrete_features has column indices out of range for {d} features"
        )
    mask = np.zeros(d, dtype=bool)
    mask[spec] = True
    return mask


def _integer_valued(X) -> np.ndarray:
    """Columns of ``X`` whose observed values are all integers.

    A continuous column shows a fraction within its first rows, so the whole
    column is checked, block by block, only for the columns that pass there.
    """

    def whole(V):
        return np.all((V == np.round(V)) | np.isnan(V), axis=0)

    mask = whole(X[:64])
    candidates = np.flatnonzero(mask)
    step = max(1, _BLOCK_ENTRIES // max(X.shape[1], 1))
    for start in range(64, X.shape[0], step):
        if candidates.size == 0:
            break
        ok = whole(X[start : start + step, candidates])
        mask[candidates[~ok]] = False
        candidates = candidates[ok]
    return mask


def constant_columns(X) -> np.ndarray:
    """Columns holding a single value, NaN counting as a value.

    The same mask as :func:`featimp._encoding.constant_columns` (a column
    constant where observed but with missing cells is not constant), from
    NaN-skipping reductions instead of full-size temporaries.
    """
    low, high = np.fmin.reduce(X, axis=0), np.fmax.reduce(X, axis=0)
    every = np.isnan(low)
    some = _has_missing(X)
    return every | (~some & (low == high))


def _has_missing(X) -> np.ndarray:
    """Columns of ``X`` with a NaN: a sum is NaN if a term is (or if it adds
    +inf to -inf), so only columns with a NaN sum are searched."""
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.add.reduce(X, axis=0)
    some = np.isnan(total)
    suspects = np.flatnonzero(some)
    if suspects.size:
        some[suspects] = np.isnan(X[:, suspects]).any(axis=0)
    return some


def code_dtype(n_codes: int) -> np.dtype:
    """The smallest unsigned integer type holding codes ``0 .. n_codes - 1``."""
    for dtype in (np.uint8, np.uint16, np.uint32):
        if n_codes - 1 <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype(np.intp)


def resolve_n_bins(n_bins, n_samples: int) -> int:
    """``"auto"``: the cube root of the sample size, between 2 and 32."""
    if n_bins == "auto":
        return int(np.clip(round(n_samples ** (1 / 3)), 2, 32))
    return int(n_bins)


def _unique_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1).astype(code_dtype(uniques.size)), uniques.size


def _grid_cells(V, grid: int) -> np.ndarray:
    """Map each value of each row of ``V`` to one of ``grid`` cells of its row.

    The map is monotone (``x <= x'`` gives ``cell(x) <= cell(x')``), so values
    in different cells compare as their cells do and only values sharing a
    cell with a bin edge need an exact comparison. Row ``j`` gets the global
    cells ``j * grid .. (j + 1) * grid - 1``.
    """
    lo = V.min(axis=1)
    with np.errstate(over="ignore"):
        span = V.max(axis=1) - lo
    # A span that overflows, or is too small to divide by, gets one cell for
    # the whole row: still exact, as every value is then compared exactly.
    ok = np.isfinite(span) & (span > grid * np.finfo(float).tiny)
    scale = np.where(ok, grid / np.where(ok, span, 1.0), 0.0)
    cells = V - np.where(ok, lo, 0.0)[:, None]
    cells *= scale[:, None]
    # Values are >= 0 here, so truncation by astype is floor; the maximum
    # lands on ``grid`` and is pulled into the last cell.
    np.minimum(cells, grid - 1, out=cells)
    cells += (np.arange(V.shape[0]) * grid)[:, None]
    return cells.astype(np.intp)


def _sorted_in_cells(V, cells, wanted_cells, grid: int):
    """Flat positions and values of the entries of ``wanted_cells``, sorted.

    Sorted by cell, then value: only these few entries are ever sorted.
    """
    wanted = np.zeros(V.shape[0] * grid, dtype=bool)
    wanted[wanted_cells] = True
    positions = np.flatnonzero(wanted[cells])
    keys, values = cells.ravel()[positions], V.ravel()[positions]
    order = np.lexsort((values, keys))
    return positions[order], keys[order], values[order]


def _quantile_edges(V, cells, n_bins: int, grid: int):
    """Exact order statistics at the quantiles ``k / n_bins`` of every row.

    Rank ``ceil(k n / n_bins) - 1`` as in ``np.quantile(method=
    "inverted_cdf")``, found by counting cells and then sorting only the
    cells that hold an edge. Returns the edges (d, n_bins - 1), their cells,
    and the sorted entries of those cells.
    """
    d, n = V.shape
    ranks = (np.arange(1, n_bins) * n + n_bins - 1) // n_bins - 1
    counts = np.bincount(cells.ravel(), minlength=d * grid)
    below = np.cumsum(counts)  # entries in global cells <= c
    wanted = (np.arange(d) * n)[:, None] + ranks
    edge_cells = np.searchsorted(below, wanted, side="right")
    rank_in_cell = wanted - (below[edge_cells] - counts[edge_cells])
    positions, keys, values = _sorted_in_cells(V, cells, edge_cells.ravel(), grid)
    start = np.searchsorted(keys, edge_cells)
    return values[start + rank_in_cell], edge_cells, (positions, keys, values)


def quantile_codes(V, n_bins: int) -> np.ndarray:
    """Quantile-bin code of every value of every row of ``V`` (d, n).

    The code of ``x`` is the number of its row's ``n_bins - 1`` quantile
    edges that are ``<= x``, so codes lie in ``0 .. n_bins - 1`` (the
    smallest unsigned type holding them); tied edges leave some codes empty,
    which does not change any MI. Exactly equal to ``np.searchsorted(
    np.quantile(row, k / n_bins, method="inverted_cdf"), row, side="right")``,
    at a fraction of the cost of sorting.
    """
    V = np.ascontiguousarray(V)  # flat positions below index rows in C order
    d, n = V.shape
    grid = int(np.clip(n // 4, 16, _GRID))
    cells = _grid_cells(V, grid)
    edges, edge_cells, sorted_part = _quantile_edges(V, cells, n_bins, grid)
    positions, keys, values = sorted_part
    # Edges in a lower cell are below x and in a higher cell above it.
    n_edges = np.bincount(edge_cells.ravel(), minlength=d * grid)
    lower = np.cumsum(n_edges) - n_edges
    lower -= np.repeat(np.arange(d) * (n_bins - 1), grid)  # edges of rows < j
    codes = lower.astype(code_dtype(n_bins))[cells]
    # Values sharing a cell with an edge are compared with the edges exactly.
    rows = np.searchsorted(keys, np.arange(d + 1) * grid)
    flat = codes.reshape(-1)
    for j in range(d):
        part = slice(rows[j], rows[j + 1])
        flat[positions[part]] = np.searchsorted(edges[j], values[part], "right")
    return codes


def discretize(X, discrete_mask, n_bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer codes of every column and the number of codes of each.

    Continuous columns get ``n_bins`` quantile bins (see
    :func:`quantile_codes`); discrete columns get one code per distinct value.
    Missing values (NaN) get one more code of their own in every column.

    Returns
    -------
    codes : ndarray of shape (n_features, n_samples)
        Row ``j`` holds the codes of column ``j``, in the smallest unsigned
        integer type that holds every column's codes (see :func:`code_dtype`).
    cardinalities : ndarray of shape (n_features,)
        Codes of column ``j`` lie in ``0 .. cardinalities[j] - 1``.
    """
    n, d = X.shape
    cards = np.full(d, n_bins, dtype=np.intp)
    with_missing = _has_missing(X)
    # np.unique puts every NaN in one code, after the values.
    discrete = {j: _unique_codes(X[:, j]) for j in np.flatnonzero(discrete_mask)}
    for j, (_, n_codes) in discrete.items():
        cards[j] = n_codes
    cards[~discrete_mask & with_missing] = n_bins + 1
    codes = np.empty((d, n), dtype=code_dtype(int(cards.max(initial=1))))
    for j, (column_codes, _) in discrete.items():
        codes[j] = column_codes
    continuous = np.flatnonzero(~discrete_mask & ~with_missing)
    step = _block_columns(n, d)
    for start in range(0, continuous.size, step):
        block = continuous[start : start + step]
        codes[block] = quantile_codes(_rows(X, block), n_bins)
    for j in np.flatnonzero(~discrete_mask & with_missing):
        codes[j] = _codes_with_missing(X[:, j], n_bins)
    return codes, cards


def _block_columns(n: int, d: int, share: float = _BIN_SHARE) -> int:
    """Columns per block: bounds the memory of binning and counting."""
    entries = min(_BLOCK_ENTRIES, max(int(n * d * share), 1 << 16))
    return max(1, entries // max(n, 1))


def _rows(X, columns) -> np.ndarray:
    """Columns of ``X`` as the rows of a C-ordered array; a run of adjacent
    columns is sliced rather than gathered."""
    if columns[-1] - columns[0] == columns.size - 1:
        return X[:, columns[0] : columns[-1] + 1].T
    return X.T[columns]


def _codes_with_missing(column, n_bins: int) -> np.ndarray:
    """Quantile codes of the observed values; code ``n_bins`` for NaN."""
    missing = np.isnan(column)
    codes = np.full(column.size, n_bins, dtype=code_dtype(n_bins + 1))
    if not missing.all():
        codes[~missing] = quantile_codes(column[None, ~missing], n_bins)[0]
    return codes


def _target_codes(y, task: str, n_bins: int) -> tuple[np.ndarray, int]:
    """Class codes, or quantile-bin codes for a regression target."""
    y, classes = encode_target(y, task)
    if task == "classification":
        return y, classes.size
    return quantile_codes(y[None, :], n_bins)[0], n_bins


def _nonempty_cells(joint: np.ndarray, n_cells: int):
    """Indices and counts of the non-empty cells among ``n_cells``."""
    if n_cells <= _DENSE_CELLS_PER_ENTRY * joint.size:
        counts = np.bincount(joint, minlength=n_cells)
        cells = np.flatnonzero(counts)
        return cells, counts[cells]
    return np.unique(joint, return_counts=True)


def _table_mi(cells, n_xy, cards, n_t, n: int) -> np.ndarray:
    """Plug-in MI of each column from the non-empty cells of its table.

    The tables of the columns lie side by side: value ``v`` of column ``j``
    and target value ``t`` are cell ``(first_code_j + v) * n_target + t``.
    """
    n_target = n_t.size
    n_x_codes = int(cards.sum())
    x_cell, t_cell = np.divmod(cells, n_target)
    n_x = np.bincount(x_cell, weights=n_xy, minlength=n_x_codes)
    column = np.repeat(np.arange(cards.size), cards)[x_cell]
    # Products of counts are exact in float64, so a column whose table is
    # independent by construction (e.g. a constant) gives log(1.0) == 0.
    terms = n_xy * np.log(n_xy * float(n) / (n_x[x_cell] * n_t[t_cell]))
    return np.bincount(column, weights=terms, minlength=cards.size) / n


def _group_size(n_targets: int, n_target: int, n_x_codes: int, n_entries: int):
    """Targets counted together: as many as fit a dense table of bounded size.

    ``g`` targets coded as one (``t_0 n_target^(g-1) + ... + t_(g-1)``) give
    each column a table of ``cards * n_target^g`` cells, from which each
    target's table is a sum; so one count serves ``g`` targets.
    """
    # No more cells than entries: the table then costs no more than the count.
    limit = n_entries
    g = 1
    while g < n_targets and n_x_codes * n_target ** (g + 1) <= limit:
        g += 1
    return g


def _combined_target(group, n_target: int, g: int) -> np.ndarray:
    """``t_0 n_target^(g-1) + ... + t_(g-1)``: ``g`` targets coded as one; a
    shorter group is padded with targets that are always 0."""
    combined = np.zeros(group[0].size, dtype=np.intp)
    for target in group:
        combined *= n_target
        combined += target
    combined *= n_target ** (g - len(group))
    return combined


def _block_tables(x_cells, n_x_codes: int, combined, n_group: int, g: int, n_target):
    """Non-empty cells and counts of the joint table of each of ``n_group``
    targets coded in ``combined`` with a block, from one count.

    ``x_cells`` holds the block's offset codes times ``n_target ** g``.
    """
    joint = (x_cells + combined).reshape(-1)
    if g == 1:
        return [_nonempty_cells(joint, n_x_codes * n_target)]
    counts = np.bincount(joint, minlength=n_x_codes * n_target**g)
    counts = counts.reshape((n_x_codes,) + (n_target,) * g)
    axes = set(range(1, g + 1))
    tables = []
    for axis in range(1, n_group + 1):
        table = counts.sum(axis=tuple(axes - {axis})).reshape(-1)
        cells = np.flatnonzero(table)
        tables.append((cells, table[cells]))
    return tables


def plugin_mi(
    codes, cards, targets, n_target: int, columns=None, compiled=False
) -> np.ndarray:
    """Plug-in MI (nats) of rows of ``codes`` with each of ``targets``.

    ``columns`` selects the rows (default: all). Returns an array of shape
    (len(targets), len(columns)). Columns go in blocks so that memory stays
    bounded on wide data, and each block is counted once for several targets
    together (see :func:`_group_size`): the permutation null re-counts the
    same codes and costs little more than the plain estimate. ``compiled``
    counts with :func:`featimp._mi_kernels.count_tables` where numba is
    installed: the same counts, so the same MI, in one read of the codes.
    """
    columns = np.arange(codes.shape[0]) if columns is None else np.asarray(columns)
    n = codes.shape[1]
    targets = [np.asarray(t) for t in targets]
    n_ts = [np.bincount(t, minlength=n_target) for t in targets]
    if compiled:
        mi = _compiled_mi(codes, cards[columns], targets, n_target, columns, n_ts)
        if mi is not None:
            return mi
    combined = {}  # (first target, group size) -> combined codes
    step = _block_columns(n, columns.size, _COUNT_SHARE)
    mi = np.empty((len(targets), columns.size))
    for s in range(0, columns.size, step):
        block = columns[s : s + step]
        block_cards = cards[block]
        n_x_codes = int(block_cards.sum())
        first_code = np.cumsum(block_cards) - block_cards
        x_cells = _rows(codes.T, block).astype(np.intp)
        g = _group_size(len(targets), n_target, n_x_codes, x_cells.size)
        x_cells += first_code[:, None]
        x_cells *= n_target**g
        for i in range(0, len(targets), g):
            group = targets[i : i + g]
            if (i, g) not in combined:
                combined[i, g] = _combined_target(group, n_target, g)
            tables = _block_tables(
                x_cells, n_x_codes, combined[i, g], len(group), g, n_target
            )
            for k, (cells, n_xy) in enumerate(tables):
                mi[i + k, s : s + step] = _table_mi(
                    cells, n_xy, block_cards, n_ts[i + k], n
                )
    return mi


def corrected_mi(codes, cards, target, n_target: int, permutations) -> np.ndarray:
    """Plug-in MI minus its mean over permuted targets, clipped at 0.

    Permuting the target keeps both marginals and breaks the dependence, so
    the permuted MI estimates what a column of the same cardinality scores by
    chance. With no permutations, the plain plug-in MI is returned.
    """
    return plugin_and_corrected_mi(codes, cards, target, n_target, permutations)[1]


def standardized_mi(codes, cards, target, n_target: int, permutations) -> np.ndarray:
    """Plug-in MI minus its permutation-null mean, over the null's standard
    deviation (ddof=1), clipped at 0; 0 where the null does not vary.

    Unlike :func:`corrected_mi`, a many-valued noise column and a binary one
    then score on the same scale: each is about N(0, 1) under the null.
    """
    targets = [target, *(target[p] for p in permutations)]
    return null_scores(plugin_mi(codes, cards, targets, n_target), zscore=True)


def null_scores(mi, zscore: bool = False) -> np.ndarray:
    """Scores from the plug-in MI against the target (row 0 of ``mi``) and
    against its permutations (the other rows): the excess over the null's
    mean, over its standard deviation too with ``zscore``, clipped at 0; the
    plain plug-in MI without permutations."""
    if mi.shape[0] == 1:
        return mi[0]
    null = mi[1:]
    excess = mi[0] - null.mean(axis=0)
    if zscore:
        spread = null.std(axis=0, ddof=1)
        excess = np.divide(excess, spread, out=np.zeros_like(excess), where=spread > 0)
    return np.maximum(excess, 0.0)


def dense_tables(codes, cards, targets, n_target: int) -> np.ndarray:
    """Dense joint tables ``(len(targets), cards.sum() * n_target)`` of every
    row of ``codes`` with each target, side by side as in :func:`_table_mi`.

    Counted by the compiled kernel where numba is installed, else by one
    ``np.bincount`` per target: the same integers either way. Tables of
    several blocks of rows add up, which is what streaming relies on.
    """
    cards = np.asarray(cards, dtype=np.intp)
    first_code = np.cumsum(cards) - cards
    n_x_codes = int(cards.sum())
    columns = np.arange(codes.shape[0])
    tables = count_tables(codes, columns, first_code, targets, n_target, n_x_codes)
    if tables is not None:
        return tables
    x_cells = (codes.astype(np.intp) + first_code[:, None]) * n_target
    out = np.empty((len(targets), n_x_codes * n_target), dtype=np.int64)
    for k, target in enumerate(targets):
        joint = (x_cells + np.asarray(target, dtype=np.intp)).reshape(-1)
        out[k] = np.bincount(joint, minlength=n_x_codes * n_target)
    return out


def _compiled_mi(codes, cards, targets, n_target: int, columns, n_ts):
    """:func:`plugin_mi` from the tables of one compiled count of all columns,
    or None if numba is missing or the tables would be large."""
    n_x_codes = int(cards.sum())
    if len(targets) * n_x_codes * n_target > _COMPILED_CELLS:
        return None
    first_code = np.cumsum(cards) - cards
    tables = count_tables(codes, columns, first_code, targets, n_target, n_x_codes)
    if tables is None:
        return None
    return _dense_tables_mi(tables, cards, n_ts, codes.shape[1])


def _dense_tables_mi(tables, cards, n_ts, n: int) -> np.ndarray:
    """:func:`_table_mi` of dense tables (one row per target), without
    finding the non-empty cells.

    An empty cell's term is set to exactly 0, and ``np.bincount`` adds the
    terms in order, so each sum is the one over the non-empty cells alone,
    to the bit. The margins of the codes are the same for every target.
    """
    n_target = n_ts[0].size
    n_x = tables[0].reshape(-1, n_target).sum(axis=1).astype(float)
    n_x_cell = np.repeat(n_x, n_target)
    column = np.repeat(np.arange(cards.size), cards * n_target)
    mi = np.empty((len(tables), cards.size))
    for k, n_xy in enumerate(tables):
        with np.errstate(divide="ignore", invalid="ignore"):  # 0 / 0 if empty
            ratio = n_xy * float(n) / (n_x_cell * np.tile(n_ts[k], n_x.size))
        ratio[n_xy == 0] = 1.0
        terms = n_xy * np.log(ratio)
        mi[k] = np.bincount(column, weights=terms, minlength=cards.size) / n
    return mi


def plugin_and_corrected_mi(
    codes, cards, target, n_target: int, permutations, columns=None, compiled=False
):
    """``(plug-in MI, corrected MI)`` of rows of ``codes`` (``columns``, default
    all) with ``target``, from one pass over the data (see
    :func:`corrected_mi`; ``compiled`` as in :func:`plugin_mi`)."""
    targets = [target, *(target[p] for p in permutations)]
    mi = plugin_mi(codes, cards, targets, n_target, columns, compiled)
    return mi[0], null_scores(mi)


def binned_mi(X, discrete_mask, n_bins: int, targets, n_target: int, keep_codes=False):
    """Plug-in MI of every column of ``X`` with each of ``targets``, binned.

    Continuous columns are cut into ``n_bins`` quantile bins and discrete
    ones coded by value, as :func:`discretize` does; on large tables, where
    numba is installed, the continuous columns are binned and counted in one
    compiled pass (:func:`featimp._mi_kernels.bin_count_tables`) that never
    stores their codes unless ``keep_codes``. Both ways give the same codes
    and the same counts, so the same MI to the bit.

    Returns
    -------
    mi : ndarray of shape (len(targets), n_features)
    codes : ndarray of shape (n_features, n_samples) or None
        The codes, with ``keep_codes``.
    cards : ndarray of shape (n_features,)
    constant : ndarray of shape (n_features,)
        :func:`constant_columns` of ``X``.
    n_x : ndarray of shape (cards.sum(),)
        How many rows have each code of each column, the columns side by
        side (the margins :func:`expected_plugin_mi` takes).
    """
    targets = [np.asarray(t) for t in targets]
    if X.size >= _COMPILED_ENTRIES and not discrete_mask.all():
        found = _compiled_binned_mi(
            X, discrete_mask, n_bins, targets, n_target, keep_codes
        )
        if found is not None:
            return found
    codes, cards = discretize(X, discrete_mask, n_bins)
    mi = plugin_mi(codes, cards, targets, n_target)
    return (
        mi,
        codes if keep_codes else None,
        cards,
        constant_columns(X),
        code_counts(codes, cards),
    )


def code_counts(codes, cards) -> np.ndarray:
    """Rows with each code of each row of ``codes``, side by side."""
    counts = [
        np.bincount(row, minlength=int(card))
        for row, card in zip(codes, cards, strict=True)
    ]
    return np.concatenate(counts) if counts else np.zeros(0, np.int64)


def _compiled_binned_mi(X, discrete_mask, n_bins, targets, n_target, keep_codes):
    n, d = X.shape
    continuous = np.flatnonzero(~discrete_mask)
    discrete = np.flatnonzero(discrete_mask)
    per_group = 1
    while per_group < len(targets) and n_target ** (per_group + 1) <= _COMBINED_TARGET:
        per_group += 1
    combined = np.column_stack(
        [
            _combined_target(targets[i : i + per_group], n_target, per_group)
            for i in range(0, len(targets), per_group)
        ]
    )
    coded = {j: _unique_codes(X[:, j]) for j in discrete}
    cards = np.full(d, n_bins, dtype=np.intp)
    for j, (_, n_codes) in coded.items():
        cards[j] = n_codes
    codes = None
    if keep_codes:
        codes = np.empty((d, n), dtype=code_dtype(int(max(cards.max(), n_bins + 1))))
        for j, (column_codes, _) in coded.items():
            codes[j] = column_codes
    found = bin_count_tables(
        X, continuous, n_bins, combined, n_target**per_group, codes
    )
    if found is None:
        return None
    tables, lo, hi, n_nan = found
    cards[continuous] += n_nan > 0
    constant = np.zeros(d, dtype=bool)
    constant[discrete] = cards[discrete] == 1
    constant[continuous] = (n_nan == n) | ((n_nan == 0) & (lo == hi))
    n_ts = [np.bincount(t, minlength=n_target) for t in targets]
    mi = np.empty((len(targets), d))
    used = np.arange(n_bins + 1) < cards[continuous, None]  # codes in each table
    shape = (continuous.size, n_bins + 1) + (n_target,) * per_group
    flat = []
    for k in range(len(targets)):
        group, position = divmod(k, per_group)
        joint = tables[:, :, group, :].reshape(shape)
        others = tuple(2 + q for q in range(per_group) if q != position)
        flat.append(joint.sum(axis=others)[used].reshape(-1))
    mi[:, continuous] = _dense_tables_mi(flat, cards[continuous], n_ts, n)
    n_x = np.empty(d, dtype=object)
    rows = flat[0].reshape(-1, n_target).sum(axis=1)
    ends = np.cumsum(cards[continuous])
    for j, part in zip(continuous, np.split(rows, ends[:-1]), strict=True):
        n_x[j] = part
    for j, (column_codes, n_codes) in coded.items():
        n_x[j] = np.bincount(column_codes, minlength=n_codes)
    if discrete.size:
        discrete_codes = np.empty((discrete.size, n), dtype=code_dtype(cards.max()))
        for row, j in enumerate(discrete):
            discrete_codes[row] = coded[j][0]
        mi[:, discrete] = plugin_mi(
            discrete_codes, cards[discrete], targets, n_target, compiled=True
        )
    return mi, codes, cards, constant, np.concatenate(list(n_x))


# A hypergeometric weight below this share of the mode's is left out of the
# expected MI: what is left out is below 1e-16 of the total.
_TAIL = 1e-18


def expected_plugin_mi(n_x, cards, n_t, n: int) -> np.ndarray:
    """The plug-in MI each column has in expectation over every permutation
    of the target, given its margins: the exact mean of the permutation
    null, for which ``null_correction=True`` draws a few permutations.

    ``n_x`` holds the counts of every column's codes side by side
    (``cards[j]`` for column ``j``), ``n_t`` the target's. Each cell's count
    is hypergeometric under permutation (Vinh, Epps & Bailey, 2010, whose
    expected MI scikit-learn's ``adjusted_mutual_info_score`` uses); its
    terms are summed outwards from the mode with the exact ratio of
    neighbouring probabilities (compiled where numba is installed), so the
    cost is about 18 standard deviations of each cell's count, never n.
    """
    cards = np.asarray(cards, dtype=np.intp)
    column = np.repeat(np.arange(cards.size), cards)
    n_x = np.asarray(n_x, dtype=float)
    n_t = np.asarray(n_t, dtype=float)
    x_used, t_used = np.flatnonzero(n_x), np.flatnonzero(n_t)
    a = np.repeat(n_x[x_used], t_used.size)
    b = np.tile(n_t[t_used], x_used.size)
    terms = expected_cells(a, b, float(n), _TAIL)
    if terms is None:
        cells = zip(a, b, strict=True)
        terms = np.array([_expected_cell(ac, bc, float(n)) for ac, bc in cells])
    cell_column = np.repeat(column[x_used], t_used.size)
    return np.bincount(cell_column, weights=terms, minlength=cards.size)


def _expected_cell(a: float, b: float, n: float) -> float:
    """One cell of :func:`expected_plugin_mi` in NumPy: the same weights,
    over a window of the support wide enough that the weights left out are
    below the tail."""
    low, high = max(0.0, a + b - n), min(a, b)
    mean = a * b / n
    sd = np.sqrt(a * b * (n - a) * (n - b) / (n * n * max(n - 1.0, 1.0)))
    first = max(low, np.floor(mean - 10 * sd - 45))
    last = min(high, np.ceil(mean + 10 * sd + 45))
    k = np.arange(first, last + 1)
    # log P(k + 1) - log P(k), summed from the window's first count.
    step = np.log((a - k[:-1]) * (b - k[:-1])) - np.log(
        (k[:-1] + 1) * (n - a - b + k[:-1] + 1)
    )
    log_w = np.concatenate([[0.0], np.cumsum(step)])
    w = np.exp(log_w - log_w.max())
    positive = k > 0
    f = np.zeros_like(k)
    f[positive] = (k[positive] / n) * np.log(n * k[positive] / (a * b))
    return float(np.sum(w * f) / np.sum(w))
