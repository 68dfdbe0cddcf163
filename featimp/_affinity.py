"""The feature graph of EC-FS and Inf-FS, as a matrix-free linear operator.

Per-feature statistics (Fisher score, symmetric uncertainty, Spearman
correlation, standard deviation), computed over chunks of columns, and the
affinity

    A = alpha * minmax(v v^T) + (1 - alpha) * minmax(max(sigma_i, sigma_j))

applied to a vector in O(d) after one sort, without forming ``A``. See
:mod:`featimp._centrality` for the methods that rank its nodes.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.sparse.linalg import LinearOperator
from scipy.stats import rankdata

from featimp._encoding import format_names
from featimp._mi_kernels import class_moments, equal_width_tables
from featimp._validation import check_X_y, encode_target, infer_task

#: The reference replaces a zero within-class variance by this value.
_ZERO_VARIANCE = 10000.0
#: The reference floors empty histogram cells at this value.
_EMPTY_CELL = 1e-5
#: Ranges this small relative to their maximum are rounding noise, not spread.
_RELATIVE_TIE = 1e-10
#: About this many matrix entries per chunk of columns (~32 MB of float64).
_CHUNK_ENTRIES = 1 << 22
#: Fewest entries counted by the compiled kernel (importing numba costs more
#: than it saves below).
_COMPILED_ENTRIES = 1 << 20
#: Unsupervised graphs are dense d x d; beyond this (3.2 GB each) refuse.
_MAX_DENSE_FEATURES = 20_000


def _column_chunks(n_samples: int, n_features: int, whole: bool = False):
    """Slices of columns small enough that an (n, chunk) temporary is cheap
    (all at once with ``whole``, for code that makes no temporaries)."""
    step = n_features if whole else max(1, _CHUNK_ENTRIES // n_samples)
    for start in range(0, n_features, step):
        yield slice(start, min(start + step, n_features))


def _n_bins(n_samples: int) -> int:
    """Number of equal-width bins, as the reference ``muteinf`` chooses it."""
    if n_samples / 10 > 20:
        return 20
    return max(n_samples // 10, 10)


def _compiled(X) -> bool:
    """Whether the statistics of ``X`` go through the compiled kernels (a
    large C-ordered table; they read it in place)."""
    return X.size >= _COMPILED_ENTRIES and X.flags.c_contiguous


def _spread(X, standardize: bool, moments=None) -> np.ndarray:
    """Standard deviation (ddof=1) of every column; exactly 0 when constant.

    From ``moments`` (:func:`featimp._mi_kernels.class_moments` of ``X``, for
    any classes) if given, else by the compiled kernel on a large table."""
    found = moments
    if found is None and _compiled(X):
        found = class_moments(X, np.zeros(X.shape[0]), 1)
    if found:  # NumPy's std to rounding
        sigma = _sigma_from_moments(found, X.shape[0])
    else:
        sigma = np.empty(X.shape[1])
        for cols in _column_chunks(*X.shape):
            chunk = X[:, cols]
            sigma[cols] = chunk.std(axis=0, ddof=1)
            # Rounding leaves ~1e-17 on constant columns; make them exactly 0.
            sigma[cols][np.ptp(chunk, axis=0) == 0] = 0.0
    return _standardized(sigma, standardize)


def _sigma_from_moments(moments, n_samples: int) -> np.ndarray:
    _, _, _, low, high, squares = moments
    sigma = np.sqrt(squares / max(n_samples - 1, 0))
    sigma[high.max(axis=0) - low.min(axis=0) == 0] = 0.0
    return sigma


def _standardized(sigma, standardize: bool) -> np.ndarray:
    if standardize:
        # Every relevance score here is invariant to rescaling a column, so
        # standardising X changes only sigma: 1 for every non-constant column.
        sigma = (sigma > 0).astype(float)
    return sigma


def spread_from_moments(moments, n_samples: int, standardize: bool) -> np.ndarray:
    """The ``sigma`` of :func:`_spread` from per-class sums alone.

    ``moments`` has the layout of :func:`featimp._mi_kernels.class_moments`:
    class sizes (k,), per-class means, sums of squared deviations, smallest
    and largest values (k, d), and the sums of squared deviations from the
    mean of all ``n_samples`` rows (d,). The same arithmetic as the compiled
    path of :func:`_spread`, for sums counted elsewhere (in batches).
    """
    return _standardized(_sigma_from_moments(moments, n_samples), standardize)


def _class_moments(X, cols, codes, n_classes: int, ddof: int, moments=None):
    """Per-class sizes, means and variances of the columns ``cols`` of ``X``,
    shapes (k,), (k, c), (k, c); from ``moments`` (all columns) if given,
    else by the compiled kernel on a large table (the same sums to
    rounding)."""
    found = moments
    if found is None and _compiled(X):
        found = class_moments(X, codes, n_classes, cols)
    if found:
        return _variances_from_moments(found, ddof)
    chunk = X[:, cols]
    sizes = np.bincount(codes, minlength=n_classes)
    means = np.empty((n_classes, chunk.shape[1]))
    variances = np.empty_like(means)
    for k in range(n_classes):
        rows = chunk[codes == k]
        means[k] = rows.mean(axis=0)
        squares = ((rows - means[k]) ** 2).sum(axis=0)
        variances[k] = squares / max(sizes[k] - ddof, 1)
        # A within-class constant column must hit the zero-variance rule
        # exactly, whatever rounding the mean picked up.
        variances[k][np.ptp(rows, axis=0) == 0] = 0.0
    return sizes, means, variances


def _variances_from_moments(moments, ddof: int):
    """Class sizes, means and variances from ``class_moments``-style sums."""
    sizes, means, squares, low, high, _ = moments
    variances = squares / np.maximum(sizes - ddof, 1)[:, None]
    # A within-class constant column must hit the zero-variance rule.
    variances[high - low == 0] = 0.0
    return sizes, means, variances


def _fisher_ratio(numerator, denominator) -> np.ndarray:
    denominator = np.where(denominator == 0, _ZERO_VARIANCE, denominator)
    return numerator / denominator


def fisher_scores(
    X, codes, n_classes: int, *, reference: bool, moments=None
) -> np.ndarray:
    """Fisher score of every column of ``X`` for integer class ``codes``.

    ``reference=True`` is the two-class score of the EC-FS MATLAB code,
    ``(mu1 - mu0)^2 / (s0^2 + s1^2)`` with ddof=1 variances; otherwise the
    multi-class score ``sum_k n_k (mu_k - mu)^2 / sum_k n_k s_k^2`` with
    ddof=0 variances (Gu, Li & Han, 2011). A zero denominator becomes 10000,
    as in the reference. ``moments``: :func:`featimp._mi_kernels.class_moments`
    of ``X`` and ``codes``, if already counted.
    """
    scores = np.empty(X.shape[1])
    whole = moments is not None or _compiled(X)
    for cols in _column_chunks(*X.shape, whole=whole):
        sizes, means, variances = _class_moments(
            X, cols, codes, n_classes, ddof=1 if reference else 0, moments=moments
        )
        scores[cols] = _fisher_from_classes(sizes, means, variances, reference)
    return scores


def _fisher_from_classes(sizes, means, variances, reference: bool) -> np.ndarray:
    if reference:
        numerator = (means[1] - means[0]) ** 2
        denominator = variances.sum(axis=0)
    else:
        grand = sizes @ means / sizes.sum()
        numerator = sizes @ (means - grand) ** 2
        denominator = sizes @ variances
    return _fisher_ratio(numerator, denominator)


def fisher_from_moments(moments, *, reference: bool) -> np.ndarray:
    """:func:`fisher_scores` of every column from its per-class sums alone
    (``moments`` as in :func:`spread_from_moments`), for sums counted
    elsewhere (in batches)."""
    sizes, means, variances = _variances_from_moments(
        moments, ddof=1 if reference else 0
    )
    return _fisher_from_classes(sizes, means, variances, reference)


def _bin_index(chunk, n_bins: int):
    """Equal-width bin of every entry, with the reference's bin edges.

    The reference steps the left edge by ``xl = xl + width``; the edges are
    accumulated the same way (``cumsum`` adds sequentially) so that values on
    an edge, common in integer columns, land in the same bin. Returns the
    bins and a mask of constant columns (whose bins are meaningless).
    """
    return equal_width_bins(chunk, chunk.min(axis=0), chunk.max(axis=0), n_bins)


def equal_width_bins(chunk, low, high, n_bins: int):
    """:func:`_bin_index` of the columns of ``chunk`` for the ranges
    ``low``, ``high`` (d,) of the whole columns, of which ``chunk`` may be
    any rows: each entry's bin depends on its value and the edges alone."""
    width = np.abs(high - low) / n_bins
    constant = width == 0
    width = np.where(constant, 1.0, width)
    steps = np.broadcast_to(width, (n_bins - 1, chunk.shape[1]))
    edges = np.cumsum(np.vstack([low, steps]), axis=0)
    bins = np.clip((chunk - low) // width, 0, n_bins - 1).astype(np.intp)
    # The floor estimate can miss the accumulated edge by one bin: every
    # entry is checked once, then only those that moved, until none does
    # (each entry's step depends on its own value and bin alone).
    below = chunk < np.take_along_axis(edges, bins, axis=0)
    upper = np.take_along_axis(edges, np.minimum(bins + 1, n_bins - 1), axis=0)
    above = (bins < n_bins - 1) & (chunk >= upper)
    bins += above.astype(np.intp) - below
    moved = np.flatnonzero(below | above)
    flat = bins.reshape(-1)
    for _ in range(n_bins - 1):
        if not moved.size:
            break
        rows, columns = np.divmod(moved, chunk.shape[1])
        values, at = chunk[rows, columns], flat[moved]
        below = values < edges[at, columns]
        above = (at < n_bins - 1) & (
            values >= edges[np.minimum(at + 1, n_bins - 1), columns]
        )
        flat[moved] += above.astype(np.intp) - below
        moved = moved[below | above]
    return bins, constant


def _joint_counts(bins, codes, n_classes: int, n_bins: int) -> np.ndarray:
    """Counts of (bin, class) per column, shape (c, n_bins, n_classes)."""
    n_columns = bins.shape[1]
    flat = (np.arange(n_columns) * n_bins + bins) * n_classes + codes[:, None]
    counts = np.bincount(flat.ravel(), minlength=n_columns * n_bins * n_classes)
    return counts.reshape(n_columns, n_bins, n_classes)


def _uncertainty_from_counts(joint, p_class, h_class) -> np.ndarray:
    """``2 I(X; Y) / (H(X) + H(Y))`` with the reference's empty-cell floors."""
    n_samples = joint[0].sum()
    p_bin = joint.sum(axis=2) / n_samples
    p_bin[p_bin == 0] = _EMPTY_CELL
    # The reference floors empty joint *counts*, before dividing by n.
    p_joint = np.where(joint == 0, _EMPTY_CELL, joint) / n_samples
    h_bin = -np.sum(p_bin * np.log(p_bin), axis=1)
    ratio = p_joint / (p_bin[:, :, None] * p_class)
    info = np.sum(p_joint * np.log(ratio), axis=(1, 2))
    return 2.0 * info / (h_bin + h_class)


def symmetric_uncertainty(X, codes, n_classes: int) -> np.ndarray:
    """Symmetric uncertainty of every column of ``X`` with class ``codes``.

    Columns are cut into equal-width bins (20 when n/10 > 20, else
    ``max(n // 10, 10)``), as the ``muteinf`` helper of the reference does for
    two classes; any number of classes works the same way. Constant columns
    score 0 (the reference gives them a large spurious value, because its
    marginal and joint histograms then disagree).
    """
    n_bins = _n_bins(X.shape[0])
    sizes = np.bincount(codes, minlength=n_classes)
    scores = np.empty(X.shape[1])
    for cols in _column_chunks(*X.shape, whole=_compiled(X)):
        joint, constant = _equal_width_counts(X, cols, codes, n_classes, n_bins)
        scores[cols] = uncertainty_from_tables(joint, constant, sizes)
    return scores


def uncertainty_from_tables(joint, constant, class_sizes) -> np.ndarray:
    """:func:`symmetric_uncertainty` from the (bin, class) counts ``joint``
    (c, n_bins, k) of each column, which columns are ``constant`` and the
    class sizes (k,), for counts made elsewhere (in batches)."""
    p_class = class_sizes / class_sizes.sum()
    h_class = -np.sum(p_class * np.log(p_class))
    return np.where(constant, 0.0, _uncertainty_from_counts(joint, p_class, h_class))


def _equal_width_counts(X, cols, codes, n_classes: int, n_bins: int):
    """Counts of (bin, class) of the columns ``cols`` of ``X`` and which are
    constant, by the compiled count where numba is installed and ``X`` is
    large (the same integers, read in place)."""
    if _compiled(X):
        found = equal_width_tables(X, n_bins, codes, n_classes, cols)
        if found is not None:
            return found
    bins, constant = _bin_index(X[:, cols], n_bins)
    return _joint_counts(bins, codes, n_classes, n_bins), constant


def _standardized_ranks(X) -> np.ndarray:
    """Column ranks centred and scaled to unit norm; constant columns are 0."""
    ranks = rankdata(X, axis=0)
    ranks -= ranks.mean(axis=0)
    norms = np.linalg.norm(ranks, axis=0)
    return np.divide(ranks, norms, out=np.zeros_like(ranks), where=norms > 0)


def spearman_with_target(X, y) -> np.ndarray:
    """|Spearman correlation| of every column with ``y`` (0 if constant)."""
    target = _standardized_ranks(y.reshape(-1, 1))[:, 0]
    scores = np.empty(X.shape[1])
    for cols in _column_chunks(*X.shape):
        scores[cols] = np.abs(target @ _standardized_ranks(X[:, cols]))
    return scores


def spearman_matrix(X, signed=False) -> np.ndarray:
    """|Spearman correlation| (or the signed one) between all columns, d x d
    (constant columns: 0)."""
    d = X.shape[1]
    if d > _MAX_DENSE_FEATURES:
        raise ValueError(
            f"without y the feature graph is a dense {d} x {d} correlation "
            f"matrix ({8 * d * d / 1e9:.0f} GB); pass y, or reduce X to at "
            f"most {_MAX_DENSE_FEATURES} features first"
        )
    ranks = _standardized_ranks(X)
    correlation = ranks.T @ ranks
    return correlation if signed else np.abs(correlation)


def _target_bins(y) -> tuple[np.ndarray, int]:
    """Equal-width bins of a continuous target, empty bins dropped."""
    bins, _ = _bin_index(y.reshape(-1, 1), _n_bins(y.size))
    _, codes = np.unique(bins[:, 0], return_inverse=True)
    return codes, int(codes.max()) + 1


def _minmax_scale(low: float, high: float) -> float:
    """``1 / (high - low)``, or 0 when the range is nil (the reference's NaN)."""
    if high - low <= _RELATIVE_TIE * abs(high):
        return 0.0
    return 1.0 / (high - low)


class _OuterKernel:
    """``minmax(v v^T)`` for ``v >= 0``, applied in O(d)."""

    def __init__(self, v):
        self.v = np.asarray(v, dtype=float)
        self.low = float(self.v.min()) ** 2
        self.scale = _minmax_scale(self.low, float(self.v.max()) ** 2)

    def matvec(self, x):
        return self.scale * (self.v * (self.v @ x) - self.low * x.sum())

    def dense(self):
        return self.scale * (np.outer(self.v, self.v) - self.low)


class _MaxKernel:
    """``minmax(max(s_i, s_j))``, applied in O(d) with prefix sums.

    With ``t`` the sorted ``s``, ``sum_j max(t_k, t_j) y_j`` is
    ``t_k * sum_{j<=k} y_j + sum_{j>k} t_j y_j``; ties agree either way.
    """

    def __init__(self, s):
        self.s = np.asarray(s, dtype=float)
        self.order = np.argsort(self.s, kind="stable")
        self.sorted = self.s[self.order]
        self.low = float(self.sorted[0])
        self.scale = _minmax_scale(self.low, float(self.sorted[-1]))

    def matvec(self, x):
        y = x[self.order]
        weighted = np.cumsum(self.sorted * y)
        out = np.empty_like(y)
        out[self.order] = self.sorted * np.cumsum(y) + (weighted[-1] - weighted)
        return self.scale * (out - self.low * x.sum())

    def dense(self):
        return self.scale * (np.maximum.outer(self.s, self.s) - self.low)


class _DenseKernel:
    """A kernel that is genuinely d x d (feature-feature correlations)."""

    def __init__(self, matrix):
        self.matrix = matrix
        self.scale = 1.0 if np.any(matrix) else 0.0

    def matvec(self, x):
        return self.matrix @ x

    def dense(self):
        return self.matrix


class _Affinity:
    """``A = alpha * kernel + (1 - alpha) * spread`` without forming it."""

    def __init__(self, alpha: float, kernel, spread):
        self.alpha = float(alpha)
        self.kernel = kernel
        self.spread = spread
        self.n_features = spread.s.size

    @property
    def is_zero(self) -> bool:
        return self.alpha * self.kernel.scale == 0 and (
            (1 - self.alpha) * self.spread.scale == 0
        )

    def matvec(self, x):
        x = np.ravel(x)
        return self.alpha * self.kernel.matvec(x) + (
            1 - self.alpha
        ) * self.spread.matvec(x)

    def dense(self):
        return self.alpha * self.kernel.dense() + (1 - self.alpha) * self.spread.dense()

    def operator(self) -> LinearOperator:
        d = self.n_features
        return LinearOperator((d, d), matvec=self.matvec, dtype=float)


def _resolve_mode(mode: str, task: str, n_classes: int) -> bool:
    """True when the reference (binary) formulas apply."""
    binary = task == "classification" and n_classes == 2
    if mode == "reference" and not binary:
        kind = f"{n_classes} classes" if task == "classification" else task
        raise ValueError(
            "mode='reference' reproduces the binary EC-FS code, but y is "
            f"{kind}; use mode='auto' or mode='extended'"
        )
    if mode not in ("auto", "reference", "extended"):
        raise ValueError(
            f"mode must be 'auto', 'reference' or 'extended', got {mode!r}"
        )
    return binary and mode != "extended"


def _relevance(X, y, *, task: str, mode: str, with_mi: bool = True):
    """The relevance vector ``v`` of every feature for target ``y``, and the
    per-class moments of the columns when the compiled kernel counted them
    (else None), which also give the columns' spread."""
    task = infer_task(y, task)
    codes, classes = encode_target(y, task)
    n_classes = 0 if classes is None else classes.size
    reference = _resolve_mode(mode, task, n_classes)
    if task == "regression":
        if not with_mi:
            raise ValueError(
                "affinity='inffs' is defined for classification and y=None only"
            )
        if np.ptp(codes) == 0:
            raise ValueError("y is constant; feature importance needs a varying y")
        binned, n_binned = _target_bins(codes)
        relevance = spearman_with_target(X, codes)
        su = symmetric_uncertainty(X, binned, n_binned)
        return combined_relevance(relevance, su), None
    moments = class_moments(X, codes, n_classes) if _compiled(X) else None
    fisher = fisher_scores(X, codes, n_classes, reference=reference, moments=moments)
    if not with_mi:
        return fisher, moments
    su = symmetric_uncertainty(X, codes, n_classes)
    return combined_relevance(fisher, su), moments


def combined_relevance(score, su) -> np.ndarray:
    """EC-FS's relevance ``v = |score + su| / 2`` (score: Fisher or Spearman)."""
    return np.abs(score + su) / 2


def _check_choice(name: str, value, choices) -> None:
    if value not in choices:
        options = ", ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be one of {options}, got {value!r}")


def _check_alpha(alpha) -> None:
    if not isinstance(alpha, Real) or not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be a number in [0, 1], got {alpha!r}")


def resolve_standardize(standardize, table) -> bool:
    """``"auto"``: standardise exactly when ``X`` had to be encoded.

    The standard deviation of a 0/1 column (at most 0.5) is not comparable
    with that of a column in its own units, so a graph with one-hot or
    missing-indicator nodes is built on standardised columns; an all-numeric
    complete table keeps the reference's raw standard deviations.
    """
    if standardize == "auto":
        return table.expanded or table.has_categories
    return bool(standardize)


#: Graphs :func:`feature_affinity` builds.
AFFINITIES = ("ecfs", "inffs", "inffs_v4")


def feature_affinity(
    X,
    y=None,
    *,
    alpha=0.5,
    mode="auto",
    task="auto",
    standardize="auto",
    affinity="ecfs",
) -> _Affinity:
    """The EC-FS feature graph of ``X`` (and ``y``) as a matrix-free operator.

    See :func:`eigenvector_centrality_importances` for the parameters.
    ``affinity="inffs"`` builds the graph of the Inf-FS code instead: ``v``
    is the Fisher score alone, and without ``y`` the kernel is
    ``1 - |Spearman|`` (not min-max scaled), as in the Feature Selection
    Library's ``rank_fir_infinite.m``; ``"inffs_v4"`` uses the signed
    Spearman correlation without ``y``, as ``infFS.m`` version 4.0 (August
    2016) does. The nodes are the one-hot
    encoded columns of ``X`` (see :mod:`featimp._encoding`); the graph's
    ``table`` maps them back to the columns of ``X``.
    """
    _check_alpha(alpha)
    _check_choice("affinity", affinity, AFFINITIES)
    # Every statistic only reads the values: a float array is not copied.
    table, y = check_X_y(X, y, encoding="onehot", y_required=False, copy=False)
    try:
        # A square that overflows is refused, naming its column, below.
        with np.errstate(over="ignore", invalid="ignore"):
            graph = _graph(
                table.values,
                y,
                alpha=alpha,
                mode=mode,
                task=task,
                standardize=resolve_standardize(standardize, table),
                affinity=affinity,
            )
    except StatisticOverflow as exc:
        raise exc.naming(table.encoded_names) from None
    graph.table = table
    return graph


class StatisticOverflow(ValueError):
    """A node statistic that is not finite: its values are too large for
    their squares (variance, Fisher score) to be held in a float64.
    ``nodes`` are the positions of the nodes at fault."""

    def __init__(self, nodes):
        self.nodes = list(nodes)
        super().__init__(
            f"the variance of node(s) {self.nodes[:8]} overflows: their values "
            "are too large to square in float64 (beyond about 1e150); rescale them"
        )

    def naming(self, names) -> ValueError:
        """The same error, naming the columns of ``names`` at fault."""
        shown = format_names([names[i] for i in self.nodes])
        return ValueError(
            f"column(s) {shown} hold values too large for their variance to be "
            "computed in float64 (squares beyond about 1e308 overflow); rescale "
            "them (divide by a power of ten, say)"
        )


def _check_finite(*statistics) -> None:
    bad = np.zeros(len(statistics[0]), dtype=bool)
    for values in statistics:
        bad |= ~np.isfinite(np.asarray(values, dtype=float))
    if bad.any():
        raise StatisticOverflow(np.flatnonzero(bad))


def supervised_affinity(alpha: float, relevance, sigma) -> _Affinity:
    """``A = alpha minmax(v v^T) + (1 - alpha) minmax(max(sigma_i, sigma_j))``
    from the relevance ``v`` and spread ``sigma`` of every node: the graph
    :func:`feature_affinity` builds when ``y`` is given. A statistic that is
    not finite is a :class:`StatisticOverflow`."""
    _check_finite(relevance, sigma)
    return _Affinity(alpha, _OuterKernel(relevance), _MaxKernel(sigma))


def _graph(X, y, *, alpha, mode, task, standardize, affinity) -> _Affinity:
    if y is not None:
        v, moments = _relevance(X, y, task=task, mode=mode, with_mi=affinity == "ecfs")
        # Both Inf-FS codes build the same supervised graph.
        return supervised_affinity(alpha, v, _spread(X, standardize, moments))
    sigma = _spread(X, standardize)
    _check_finite(sigma)
    spread = _MaxKernel(sigma)
    if mode == "reference":
        raise ValueError("mode='reference' needs y: EC-FS is supervised")
    if affinity == "inffs_v4":
        signed = spearman_matrix(X, signed=True)
        return _Affinity(alpha, _DenseKernel(signed), spread)
    correlation = spearman_matrix(X)
    if affinity == "inffs":
        return _Affinity(alpha, _DenseKernel(1.0 - correlation), spread)
    low, high = correlation.min(), correlation.max()
    kernel = _minmax_scale(low, high) * (correlation - low)
    return _Affinity(alpha, _DenseKernel(kernel), spread)
