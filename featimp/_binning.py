"""Discretising columns and counting plug-in mutual information, vectorised.

Continuous columns are cut at exact quantiles (found through a coarse grid,
without sorting every column), discrete ones coded by value; one
``np.bincount`` over offset joint codes then gives every column's
contingency table with the target at once. Used by
:mod:`featimp._mutual_info`.
"""

from __future__ import annotations

import numpy as np

from featimp._validation import encode_target

# Joint codes counted per np.bincount call: bounds the memory of one block.
_BLOCK_ENTRIES = 1 << 22
# Most cells per row of the equal-width grid that narrows quantile searches;
# fewer for small samples, so that the grid never outweighs the data.
_GRID = 4096
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
        mask = np.all((X == np.round(X)) | np.isnan(X), axis=0)
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


def resolve_n_bins(n_bins, n_samples: int) -> int:
    """``"auto"``: the cube root of the sample size, between 2 and 32."""
    if n_bins == "auto":
        return int(np.clip(round(n_samples ** (1 / 3)), 2, 32))
    return int(n_bins)


def _unique_codes(values: np.ndarray) -> tuple[np.ndarray, int]:
    uniques, codes = np.unique(values, return_inverse=True)
    return codes.reshape(-1), uniques.size


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
    edges that are ``<= x``, so codes lie in ``0 .. n_bins - 1``; tied edges
    leave some codes empty, which does not change any MI. Exactly equal to
    ``np.searchsorted(np.quantile(row, k / n_bins, method="inverted_cdf"),
    row, side="right")``, at a fraction of the cost of sorting.
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
    codes = lower[cells]
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
    codes : ndarray of shape (n_features, n_samples), dtype intp
        Row ``j`` holds the codes of column ``j``.
    cardinalities : ndarray of shape (n_features,)
        Codes of column ``j`` lie in ``0 .. cardinalities[j] - 1``.
    """
    n, d = X.shape
    codes = np.empty((d, n), dtype=np.intp)
    cards = np.full(d, n_bins, dtype=np.intp)
    with_missing = np.isnan(X).any(axis=0)
    continuous = np.flatnonzero(~discrete_mask & ~with_missing)
    # Blocks of columns bound the memory of the binning on wide data.
    step = max(1, _BLOCK_ENTRIES // n)
    for start in range(0, continuous.size, step):
        block = continuous[start : start + step]
        codes[block] = quantile_codes(X.T[block], n_bins)
    for j in np.flatnonzero(discrete_mask):
        # np.unique puts every NaN in one code, after the values.
        codes[j], cards[j] = _unique_codes(X[:, j])
    for j in np.flatnonzero(~discrete_mask & with_missing):
        codes[j], cards[j] = _codes_with_missing(X[:, j], n_bins)
    return codes, cards


def _codes_with_missing(column, n_bins: int) -> tuple[np.ndarray, int]:
    """Quantile codes of the observed values; code ``n_bins`` for NaN."""
    missing = np.isnan(column)
    codes = np.full(column.size, n_bins, dtype=np.intp)
    if not missing.all():
        codes[~missing] = quantile_codes(column[None, ~missing], n_bins)[0]
    return codes, n_bins + 1


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


def _table_mi(x_cells, cards, target, n_target: int) -> np.ndarray:
    """Plug-in MI of each row of ``x_cells`` with ``target``, in one count.

    ``x_cells[j]`` holds ``(first_code_j + code) * n_target``, so value ``v``
    of column ``j`` and target value ``t`` fall in cell
    ``(first_code_j + v) * n_target + t``: one count over all ``n * d``
    entries gives every contingency table side by side.
    """
    d, n = x_cells.shape
    n_x_codes = int(cards.sum())
    joint = (x_cells + target).reshape(-1)
    cells, n_xy = _nonempty_cells(joint, n_x_codes * n_target)
    x_cell, t_cell = np.divmod(cells, n_target)
    n_x = np.bincount(x_cell, weights=n_xy, minlength=n_x_codes)
    n_t = np.bincount(target, minlength=n_target)
    column = np.repeat(np.arange(d), cards)[x_cell]
    # Products of counts are exact in float64, so a column whose table is
    # independent by construction (e.g. a constant) gives log(1.0) == 0.
    terms = n_xy * np.log(n_xy * float(n) / (n_x[x_cell] * n_t[t_cell]))
    return np.bincount(column, weights=terms, minlength=d) / n


def plugin_mi(codes, cards, targets, n_target: int) -> np.ndarray:
    """Plug-in MI (nats) of every row of ``codes`` with each of ``targets``.

    Returns an array of shape (len(targets), n_features). Columns go in
    blocks so that memory stays bounded on wide data; a block's cell offsets
    are computed once for all targets.
    """
    d, n = codes.shape
    step = max(1, _BLOCK_ENTRIES // max(n, 1))
    mi = np.empty((len(targets), d))
    for s in range(0, d, step):
        block = slice(s, s + step)
        first_code = np.cumsum(cards[block]) - cards[block]
        x_cells = (codes[block] + first_code[:, None]) * n_target
        for i, target in enumerate(targets):
            mi[i, block] = _table_mi(x_cells, cards[block], target, n_target)
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
    mi = plugin_mi(codes, cards, targets, n_target)
    null = mi[1:]
    spread = null.std(axis=0, ddof=1)
    excess = mi[0] - null.mean(axis=0)
    z = np.divide(excess, spread, out=np.zeros_like(excess), where=spread > 0)
    return np.maximum(z, 0.0)


def plugin_and_corrected_mi(codes, cards, target, n_target: int, permutations):
    """``(plug-in MI, corrected MI)`` of every row of ``codes`` with ``target``,
    from one pass over the data (see :func:`corrected_mi`)."""
    targets = [target, *(target[p] for p in permutations)]
    mi = plugin_mi(codes, cards, targets, n_target)
    if len(permutations) == 0:
        return mi[0], mi[0]
    return mi[0], np.maximum(mi[0] - mi[1:].mean(axis=0), 0.0)
