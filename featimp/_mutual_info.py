"""Mutual information with the target, and mRMR ranking built on it.

Two estimators of I(X_j; y):

``"binned"``
    Continuous columns are cut at their quantiles, integer-valued and
    categorical columns are taken as they are, and the plug-in MI of every
    column is counted at once: each column's codes are offset so that a single
    ``np.bincount`` over the ``n * d`` joint codes yields every contingency
    table. The plug-in MI grows with a feature's cardinality even when the
    feature is noise, so by default the MI the same feature gets against
    permuted labels (the chance level for its cardinality, the idea behind
    OutRank's cardinality-aware estimator) is subtracted.
``"knn"``
    The Kraskov-Stögbauer-Grassberger estimator, computed by
    :func:`sklearn.feature_selection.mutual_info_classif` /
    :func:`~sklearn.feature_selection.mutual_info_regression`.

All scores are in nats.
"""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from featimp._base import BaseImportanceSelector
from featimp._binning import (
    _target_codes,
    binned_mi,
    constant_columns,
    expected_plugin_mi,
    null_scores,
    plugin_mi,
    resolve_discrete_mask,
    resolve_n_bins,
)
from featimp._progress import track
from featimp._validation import (
    TASK_CONSTRAINT,
    check_random_state_seed,
    check_X_y,
    encode_target,
    infer_task,
)

# Keeps MIQ finite when a candidate has no redundancy with the selected set.
_MIQ_EPS = 1e-12

_SCORE_CONSTRAINTS = {
    "task": TASK_CONSTRAINT,
    "discrete_features": [StrOptions({"auto"}), "boolean", "array-like"],
    "n_bins": [Interval(Integral, 2, None, closed="left"), StrOptions({"auto"})],
    "null_correction": ["boolean"],
    "n_permutations": [
        Interval(Integral, 1, None, closed="left"),
        StrOptions({"auto"}),
    ],
    "random_state": ["random_state"],
}
_MI_CONSTRAINTS = {
    "estimator": [StrOptions({"binned", "knn"})],
    "n_neighbors": [Interval(Integral, 1, None, closed="left")],
    **_SCORE_CONSTRAINTS,
    "null_correction": ["boolean", StrOptions({"zscore", "expected"})],
}
_MRMR_CONSTRAINTS = {
    "n_features": [Interval(Integral, 1, None, closed="left"), None],
    "criterion": [StrOptions({"mid", "miq"})],
    **_SCORE_CONSTRAINTS,
    "null_correction": ["boolean", StrOptions({"expected"})],
}


def _permutations(n: int, null_correction, n_permutations, random_state):
    if not null_correction or null_correction == "expected":
        return []
    if n_permutations == "auto":
        n_permutations = 20 if null_correction == "zscore" else 3
    if null_correction == "zscore" and n_permutations < 2:
        raise ValueError(
            "null_correction='zscore' needs n_permutations >= 2 to estimate the "
            f"null's spread (20 or more for a stable one), got {n_permutations}"
        )
    rng = check_random_state_seed(random_state)
    return [rng.permutation(n) for _ in range(n_permutations)]


def _binned_mi(
    X, y, task, discrete_mask, n_bins, permutations, zscore=False, expected=False
):
    """Scores of every column, 0 for constant ones (see :func:`null_scores`);
    with ``expected`` the null is the exact mean over every permutation."""
    target, n_target = _target_codes(y, task, n_bins)
    targets = [target, *(target[p] for p in permutations)]
    mi, _, cards, constant, n_x = binned_mi(X, discrete_mask, n_bins, targets, n_target)
    if expected:
        n_t = np.bincount(target, minlength=n_target)
        mi = np.vstack([mi[0], expected_plugin_mi(n_x, cards, n_t, target.size)])
    scores = null_scores(mi, zscore=zscore)
    scores[constant] = 0.0
    return scores


def _knn_mi(X, y, task, discrete_mask, n_neighbors, random_state, permutations):
    y, _ = encode_target(y, task)
    # KSG has no missing bin: a missing category gets a code of its own and a
    # missing number the column's median.
    X = X.copy()
    for j in np.flatnonzero(np.isnan(X).any(axis=0)):
        column = X[:, j]
        missing = np.isnan(column)
        observed = column[~missing]
        fill = (
            (observed.max() + 1 if discrete_mask[j] else np.median(observed))
            if observed.size
            else 0.0
        )
        column[missing] = fill
    score = mutual_info_classif if task == "classification" else mutual_info_regression
    scores = score(
        X,
        y,
        discrete_features=discrete_mask,
        n_neighbors=n_neighbors,
        random_state=random_state,
    )
    discrete = np.flatnonzero(discrete_mask)
    if len(permutations) and discrete.size:
        # A discrete column's MI is counted per value (plug-in, or Ross's
        # estimator for a continuous y), which grows with its number of
        # values even for noise: subtract the same estimate on permuted y.
        null = np.mean(
            [
                score(
                    X[:, discrete],
                    y[p],
                    discrete_features=True,
                    n_neighbors=n_neighbors,
                    random_state=random_state,
                )
                for p in permutations
            ],
            axis=0,
        )
        scores[discrete] = np.maximum(scores[discrete] - null, 0.0)
    return scores


@validate_params(
    {"X": ["array-like"], "y": ["array-like"], **_MI_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def mutual_info_importances(
    X,
    y,
    *,
    estimator="binned",
    task="auto",
    discrete_features="auto",
    n_bins="auto",
    null_correction=True,
    n_permutations="auto",
    n_neighbors=3,
    random_state=None,
):
    """Mutual information between each feature and the target.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Numbers, booleans, text or ``category`` columns, pandas or polars,
        with missing values anywhere. Categories are always discrete: each
        category is its own bin. Missing values form one more bin of their
        own in every column (``"binned"``), so a column whose missingness
        depends on the target scores above 0; the null correction covers
        that bin as it covers the others, since it permutes the target
        against the same codes. ``"knn"`` has no bins: there a missing
        category gets a code of its own and a missing number the median.
    y : array-like of shape (n_samples,)
    estimator : {"binned", "knn"}, default="binned"
        ``"binned"``: quantile-binned plug-in MI, counted for all columns at
        once, with the chance level subtracted (see ``null_correction``).
        ``"knn"``: the KSG k-nearest-neighbour estimator of scikit-learn's
        ``mutual_info_classif`` / ``mutual_info_regression``; with the same
        ``random_state``, ``n_neighbors`` and discrete columns and
        ``null_correction=False`` the numbers are identical, except that
        constant columns score exactly 0. With the correction (the default),
        discrete columns, which scikit-learn counts per value, have their
        chance level subtracted as in ``"binned"`` (a random 0..999 integer
        column on wine: 1.02 nats and 1st of 14 uncorrected); continuous
        columns keep the KSG estimate, which has no such bias.
    task : {"auto", "classification", "regression"}, default="auto"
        ``"auto"`` infers the task from ``y``.
    discrete_features : "auto", bool or array-like, default="auto"
        Which numeric columns are discrete: ``"auto"`` takes the
        integer-valued ones, a bool applies to all, or a boolean mask or
        array of indices (categorical columns are discrete whatever this
        says). Discrete columns keep one code per value;
        the others are quantile-binned (``"binned"``) or treated as
        continuous (``"knn"``). With ``"knn"``, ``"auto"`` takes only the
        integer-valued columns with at most ``sqrt(n_samples)`` distinct
        values (scikit-learn's own ``"auto"`` treats every dense column as
        continuous). With ``"binned"`` it takes every integer-valued column;
        bin count-like integer columns with many values by passing a mask.
    n_bins : int >= 2 or "auto", default="auto"
        Quantile bins for continuous columns and, for regression, for ``y``
        (``"binned"`` only). ``"auto"`` uses ``round(n_samples ** (1/3))``,
        clipped to [2, 32].
    null_correction : bool, "zscore" or "expected", default=True
        ``True`` subtracts the mean MI each feature gets against permuted
        targets: the plug-in MI of a feature with many values is large even
        for noise, and this removes the mean of that cardinality bias, not
        its spread. A noise column with many values still scatters around 0
        more widely than a binary one, so after the clip at 0 it outranks a
        weak real feature more often (a 1,000-valued noise column against
        ``y + N(0, 5)`` for a binary ``y``, n = 2,000: 39 of 100 seeds). The score is
        in nats. ``"zscore"`` divides the excess over the null mean by the
        null's standard deviation (``"binned"`` only): every column is then
        about N(0, 1) under the null whatever its number of values (same
        case: 8 of 100), at the price of more permutations; the score is a
        z-value, not nats. ``"expected"`` (``"binned"`` only) subtracts the
        exact mean of the permutation null instead of an estimate from a few
        permutations: the plug-in MI's expectation over every permutation of
        the target given both margins (each cell's count is hypergeometric;
        Vinh, Epps & Bailey, 2010), computed from the tables' margins alone,
        so it needs no permutations, is the same for every seed, and streams
        in bounded memory (:func:`featimp.rank_dataset`); like ``True`` it
        removes the mean of the chance level, not its spread. ``False`` is
        the plain plug-in MI. Scores are clipped at 0. With ``"knn"``, only
        discrete columns are corrected.
    n_permutations : int >= 1 or "auto", default="auto"
        Target permutations for the null: ``"auto"`` is 3 for ``True`` and
        20 for ``"zscore"``.
    n_neighbors : int >= 1, default=3
        Neighbours of the KSG estimator (``"knn"`` only).
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations (``"binned"``) or scikit-learn's noise
        (``"knn"``).

    Returns
    -------
    ndarray of shape (n_features,)
        MI in nats, bigger is more important; constant columns score 0.

    Examples
    --------
    >>> import numpy as np
    >>> from featimp import mutual_info_importances
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 2000)
    >>> ids = rng.integers(0, 1000, 2000)  # noise with many distinct values
    >>> X = np.column_stack([y + rng.normal(0, 1, 2000), ids])
    >>> raw = mutual_info_importances(X, y, null_correction=False)
    >>> bool(raw[1] > raw[0])  # the plug-in MI favours the many-valued noise
    True
    >>> scores = mutual_info_importances(X, y, random_state=0)
    >>> bool(scores[0] > 0.05 > scores[1])
    True
    """
    table, y = check_X_y(X, y, encoding="codes", copy=False)
    X = table.values
    task = infer_task(y, task)
    # KSG treats integer columns with many values as continuous (as counts
    # per value they would carry mostly chance); see discrete_features.
    max_values = np.sqrt(X.shape[0]) if estimator == "knn" else None
    mask = resolve_discrete_mask(X, discrete_features, max_values) | table.categorical
    if null_correction in ("zscore", "expected") and estimator == "knn":
        raise ValueError(
            f"null_correction={null_correction!r} needs estimator='binned': KSG "
            "has no permutation null for its continuous columns"
        )
    perms = _permutations(X.shape[0], null_correction, n_permutations, random_state)
    if estimator == "binned":
        n_bins = resolve_n_bins(n_bins, X.shape[0])
        scores = _binned_mi(
            X,
            y,
            task,
            mask,
            n_bins,
            perms,
            zscore=null_correction == "zscore",
            expected=null_correction == "expected",
        )
    else:
        scores = _knn_mi(X, y, task, mask, n_neighbors, random_state, perms)
        # KSG adds jitter to continuous columns, which gives a constant a score.
        scores[constant_columns(X)] = 0.0
    return table.aggregate(scores, "max")


def _mrmr_gain(relevance, redundancy_sum, n_selected: int, criterion: str):
    if n_selected == 0:
        return relevance
    redundancy = redundancy_sum / n_selected
    if criterion == "mid":
        return relevance - redundancy
    return relevance / (redundancy + _MIQ_EPS)


def mrmr_order(
    codes, cards, relevance, n_features: int, criterion: str, permutations, margins=None
):
    """Greedy mRMR order of the columns of ``codes`` (first = best).

    The redundancy of every candidate to the selected set is kept as a running
    sum, so each step counts the MI of the newly selected column against all
    remaining columns once, from the same codes and for the permuted copies
    of that column together: O(k d n) work instead of O(d² n).

    MID subtracts the null-corrected redundancy. MIQ divides by the plug-in
    redundancy: the corrected one is 0 for a candidate independent of the
    selected set, and a quotient by (nearly) 0 would put any noise column
    with a chance-level relevance first. The plug-in redundancy is what the
    MIQ of Ding and Peng (2005) divides by, and it stays above 0.

    With ``margins`` (each column's code counts, for
    ``null_correction="expected"``), the MID redundancy's null is the exact
    permutation mean of :func:`expected_redundancy` instead.
    """

    def redundancy_mi(best, remaining, null):
        picked = codes[best]
        targets = [picked, *(picked[p] for p in permutations)] if null else [picked]
        mi = plugin_mi(
            codes, cards, targets, int(cards[best]), remaining, compiled=True
        )
        if null and margins is not None:
            return np.vstack([mi, expected_redundancy(margins, best, remaining)])
        return mi

    return greedy_mrmr_order(relevance, n_features, criterion, redundancy_mi)


def expected_redundancy(margins, best: int, remaining) -> np.ndarray:
    """The permutation-null mean of the MI of each of the ``remaining``
    columns with column ``best``, from their code counts ``margins``."""
    picked = margins[best]
    cards = [margins[j].size for j in remaining]
    n_x = np.concatenate([margins[j] for j in remaining])
    return expected_plugin_mi(n_x, cards, picked, int(picked.sum()))


def greedy_mrmr_order(relevance, n_features: int, criterion: str, redundancy_mi):
    """The greedy loop of :func:`mrmr_order`, whatever counts the redundancy.

    ``redundancy_mi(best, remaining, null)`` returns the plug-in MI of the
    columns ``remaining`` with column ``best`` (row 0) and, if ``null``, with
    its permutations (the other rows), as :func:`plugin_mi` does; in memory
    or streamed, the same counts give the same order.
    """
    d = len(relevance)
    remaining = np.arange(d)
    redundancy_sum = np.zeros(d)
    order = []
    for step in track(range(n_features), "mRMR steps"):
        gain = _mrmr_gain(
            relevance[remaining], redundancy_sum[remaining], step, criterion
        )
        best = remaining[np.argmax(gain)]
        order.append(int(best))
        remaining = remaining[remaining != best]
        if step + 1 == n_features:
            break
        # MIQ reads only the plug-in redundancy: permutations would be wasted.
        mi = redundancy_mi(best, remaining, criterion == "mid")
        redundancy_sum[remaining] += null_scores(mi)
    return np.asarray(order, dtype=np.intp)


def importances_from_order(order, n_features_total: int) -> np.ndarray:
    """``(d - position) / d`` for ranked columns, 0 for the rest."""
    d = n_features_total
    importances = np.zeros(d)
    importances[order] = (d - np.arange(len(order))) / d
    return importances


@validate_params(
    {"X": ["array-like"], "y": ["array-like"], **_MRMR_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def mrmr_importances(
    X,
    y,
    *,
    n_features=None,
    criterion="mid",
    task="auto",
    discrete_features="auto",
    n_bins="auto",
    null_correction=True,
    n_permutations="auto",
    random_state=None,
):
    """Greedy max-relevance min-redundancy (mRMR) ranking as importances.

    Relevance is the binned MI of each feature with ``y`` and redundancy the
    binned MI between features, both estimated as in
    :func:`mutual_info_importances` with ``estimator="binned"``. At each
    step the feature maximising ``relevance - mean redundancy`` (``"mid"``)
    or ``relevance / mean redundancy`` (``"miq"``) to the already selected
    features is added. With ``null_correction``, relevance and the MID
    redundancy are corrected; the MIQ quotient divides by the plug-in
    redundancy, as Ding and Peng's MIQ does, because a corrected redundancy
    of 0 would let a noise column's chance-level relevance win the quotient.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    n_features : int >= 1 or None, default=None
        Depth of the greedy search; None ranks every feature. Stopping early
        saves time; the features left out score 0.
    criterion : {"mid", "miq"}, default="mid"
        Difference or quotient of relevance and redundancy.
    task, discrete_features, n_bins, null_correction, n_permutations, \
random_state
        As in :func:`mutual_info_importances`.

    Returns
    -------
    ndarray of shape (n_features_in,)
        ``(d - position) / d`` for the feature picked at ``position``
        (0-based) of the greedy order, 0 for features not reached and for
        constant features, which are never picked. The
        scores only encode the order: sorting them descending gives the
        greedy order, so a selector's ``ranking_`` is that order.

    Examples
    --------
    >>> import numpy as np
    >>> from featimp import mrmr_importances
    >>> rng = np.random.default_rng(0)
    >>> y = rng.integers(0, 2, 500)
    >>> signal = y + rng.normal(0, 0.5, 500)
    >>> X = np.column_stack([signal, signal, rng.normal(0, 1, 500)])
    >>> mrmr_importances(X, y, n_features=2, random_state=0)
    array([1.        , 0.        , 0.66666667])
    """
    table, y = check_X_y(X, y, encoding="codes", copy=False)
    X = table.values
    d = X.shape[1]
    if n_features is not None and n_features > d:
        raise ValueError(
            f"n_features={n_features} is larger than the {d} features of X"
        )
    task = infer_task(y, task)
    n_bins = resolve_n_bins(n_bins, X.shape[0])
    discrete = resolve_discrete_mask(X, discrete_features) | table.categorical
    target, n_target = _target_codes(y, task, n_bins)
    perms = _permutations(X.shape[0], null_correction, n_permutations, random_state)
    targets = [target, *(target[p] for p in perms)]
    mi, codes, cards, constant, n_x = binned_mi(
        X, discrete, n_bins, targets, n_target, keep_codes=True
    )
    margins = None
    if null_correction == "expected":
        margins = np.split(n_x, np.cumsum(cards)[:-1])
        n_t = np.bincount(target, minlength=n_target)
        mi = np.vstack([mi[0], expected_plugin_mi(n_x, cards, n_t, target.size)])
    # A constant carries no information: it is never picked, so scores 0
    # (with MID it would otherwise beat relevant but redundant features).
    varying = np.flatnonzero(~constant)
    if varying.size < d:
        codes, cards, mi = codes[varying], cards[varying], mi[:, varying]
        if margins is not None:
            margins = [margins[j] for j in varying]
    relevance = null_scores(mi)
    depth = min(n_features or d, varying.size)
    order = mrmr_order(codes, cards, relevance, depth, criterion, perms, margins)
    return table.aggregate(importances_from_order(varying[order], d), "max")


class MutualInfoSelector(BaseImportanceSelector):
    """Select features by their mutual information with the target.

    A thin wrapper around :func:`mutual_info_importances`; see it for the
    parameters. Accepts tables with text, categorical and missing values.

    Parameters
    ----------
    estimator : {"binned", "knn"}, default="binned"
    task : {"auto", "classification", "regression"}, default="auto"
    discrete_features : "auto", bool or array-like, default="auto"
    n_bins : int >= 2 or "auto", default="auto"
    null_correction : bool, "zscore" or "expected", default=True
    n_permutations : int >= 1 or "auto", default="auto"
    n_neighbors : int >= 1, default=3
    random_state : int, RandomState instance or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import MutualInfoSelector
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> sel = MutualInfoSelector(n_features_to_select=3, random_state=0).fit(X, y)
    >>> sel.transform(X).shape
    (569, 3)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_MI_CONSTRAINTS,
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        estimator="binned",
        task="auto",
        discrete_features="auto",
        n_bins="auto",
        null_correction=True,
        n_permutations="auto",
        n_neighbors=3,
        random_state=None,
        stability=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        self.estimator = estimator
        self.task = task
        self.discrete_features = discrete_features
        self.n_bins = n_bins
        self.null_correction = null_correction
        self.n_permutations = n_permutations
        self.n_neighbors = n_neighbors
        self.random_state = random_state
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    _score_function = staticmethod(mutual_info_importances)


class MRMRSelector(BaseImportanceSelector):
    """Select features by greedy max-relevance min-redundancy (mRMR).

    A thin wrapper around :func:`mrmr_importances`; see it for the
    parameters. ``ranking_`` is the greedy order; features beyond the greedy
    depth ``n_features`` share the last rank.

    Parameters
    ----------
    n_features : int >= 1 or None, default=None
        Depth of the greedy search (None: all features).
    criterion : {"mid", "miq"}, default="mid"
    task : {"auto", "classification", "regression"}, default="auto"
    discrete_features : "auto", bool or array-like, default="auto"
    n_bins : int >= 2 or "auto", default="auto"
    null_correction : bool or "expected", default=True
    n_permutations : int >= 1 or "auto", default="auto"
    random_state : int, RandomState instance or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import MRMRSelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> sel = MRMRSelector(n_features=5, n_features_to_select=5, random_state=0)
    >>> sel.fit(X, y).transform(X).shape
    (569, 5)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_MRMR_CONSTRAINTS,
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        n_features=None,
        criterion="mid",
        task="auto",
        discrete_features="auto",
        n_bins="auto",
        null_correction=True,
        n_permutations="auto",
        random_state=None,
        stability=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        self.n_features = n_features
        self.criterion = criterion
        self.task = task
        self.discrete_features = discrete_features
        self.n_bins = n_bins
        self.null_correction = null_correction
        self.n_permutations = n_permutations
        self.random_state = random_state
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    _score_function = staticmethod(mrmr_importances)
