"""responsiveness_scores: the share of each feature's reachable points that
get the target prediction.

Speed comes from three places: identical people are scored once; for each
feature the reachable points of a whole batch of people are stacked into one
matrix and ``predict`` is called once; and long 1-D grids are compressed
exactly, for models whose prediction along a feature is piecewise constant
between the split thresholds it uses (sklearn trees and forests, histogram
boosting, XGBoost, LightGBM; see :mod:`featimp.recourse._thresholds`) or is
a linear score.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from joblib import Parallel, delayed
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.preprocessing import StandardScaler

from featimp._progress import track
from featimp._validation import check_random_state_seed
from featimp.recourse._action_set import ActionSet
from featimp.recourse._reachable import GroupReach, build_groups, check_rule
from featimp.recourse._thresholds import used_thresholds

METHODS = ("auto", "enumerate", "sample")
#: Points stacked into one ``predict`` call.
_CHUNK = 200_000
_NO_SPLITS = np.empty(0)


@dataclass
class ScoreDetails:
    """Scores plus the size of each 1-D reachable set and standard errors."""

    scores: np.ndarray
    n_points: np.ndarray
    standard_errors: np.ndarray
    method: str


def responsiveness_scores(
    estimator,
    X,
    action_set: ActionSet,
    *,
    target=1,
    method="auto",
    rule="per_value",
    n_samples=100,
    random_state=None,
    n_jobs=None,
    batch_size=4096,
    progress=False,
):
    """Feature responsiveness scores of every row of ``X``.

    ``scores[i, j]`` is the share of the points reachable from row ``i`` by
    changing feature ``j`` (and the changes the constraints force) that the
    model predicts as ``target``; 0 when ``j`` cannot change.

    Parameters
    ----------
    estimator : fitted estimator with ``predict``, or a callable
        ``estimator(X_2d) -> labels``.
    X : DataFrame or array of shape (n_samples, n_features)
        Columns in the order of ``action_set`` (DataFrames by name), or a
        pandas or polars frame in the user's own columns when the action set
        has ``raw_columns`` (see :meth:`ActionSet.encode`).
    action_set : ActionSet
    target : label, default=1
        The desired prediction.
    method : {"auto", "enumerate", "sample"}
        ``"enumerate"`` uses every reachable value (continuous features need
        a ``grid``); ``"sample"`` draws ``n_samples`` values uniformly over the
        allowed interval of each continuous feature; ``"auto"`` enumerates
        when it can.
    rule : {"per_value", "reference"}, default="per_value"
        Which points make up ``j``'s reachable set when ``j`` shares a
        constraint with other features (see :mod:`featimp.recourse._reachable`
        for the exact definitions and where they part):

        - ``"per_value"``: every value ``j`` can take by its own action,
          each with the fewest changes the constraints force alongside. The
          score answers "if I set ``j`` to any value I can reach, doing
          only what that requires, how often do I get ``target``?".
        - ``"reference"``: exactly the authors' code (reachml's marginal
          filter): the changes of ``j`` alone if there are any, otherwise
          the smallest changes among those touching only features that
          share a constraint with ``j``, counting changes of ``j`` that
          only another feature's linkage causes.

        ``"per_value"`` is the default because ``"reference"`` can hide a
        lever from the person: once one value of ``j`` needs no other
        change it ignores the values that do (which may be the only ones
        that work), and it scores 0 a switch whose forced changes reach
        past ``j``'s direct neighbours. It also credits ``j`` with moves
        the person can only make through another feature, whose own score
        already counts them. On the German credit case both give the same
        scores.
    n_samples : int, default=100
    random_state : int, Generator or None
    n_jobs : int or None
        Features are scored in parallel threads.
    batch_size : int, default=4096
        Distinct rows scored per stacked ``predict`` call.
    progress : bool, default=False
        Show a tqdm progress bar over batches.

    Returns
    -------
    ndarray of shape (n_samples, n_features)

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from featimp.recourse import ActionSet
    >>> X = pd.DataFrame({"savings": [0, 1, 2, 3], "age": [30, 40, 50, 60]})
    >>> A = ActionSet.from_data(X)
    >>> A["age"].actionable = False
    >>> approve = lambda Z: (Z[:, 0] >= 2).astype(int)
    >>> responsiveness_scores(approve, X, A)[:, 0].round(3).tolist()
    [0.667, 0.667, 0.333, 0.333]

    The rules part when a feature moves only through another one's linkage:
    here CityYears is at its upper bound, and each year at the job is a
    year in the city too.

    >>> from featimp.recourse import DirectionalLinkage
    >>> X = pd.DataFrame({"JobYears": [4, 9], "CityYears": [3, 0]})
    >>> A = ActionSet.from_data(X)
    >>> A[["JobYears", "CityYears"]].step_direction = 1
    >>> _ = A.add_constraint(DirectionalLinkage(["JobYears", "CityYears"]))
    >>> settled = lambda Z: (Z[:, 1] >= 4).astype(int)
    >>> responsiveness_scores(settled, X.head(1), A).tolist()
    [[1.0, 0.0]]
    >>> responsiveness_scores(settled, X.head(1), A, rule="reference").tolist()
    [[1.0, 1.0]]
    """
    return score_details(
        estimator,
        X,
        action_set,
        target=target,
        method=method,
        rule=rule,
        n_samples=n_samples,
        random_state=random_state,
        n_jobs=n_jobs,
        batch_size=batch_size,
        progress=progress,
    ).scores


def score_details(
    estimator,
    X,
    action_set,
    *,
    target=1,
    method="auto",
    rule="per_value",
    n_samples=100,
    random_state=None,
    n_jobs=None,
    batch_size=4096,
    progress=False,
) -> ScoreDetails:
    """Like :func:`responsiveness_scores`, with set sizes and standard errors."""
    values = check_input(X, action_set)
    estimator = on_features(estimator, action_set)
    predict = prediction_function(estimator, action_set.names)
    check_target(estimator, target)
    method = resolve_method(action_set, method)
    rule = check_rule(rule)
    if not isinstance(n_samples, int | np.integer) or n_samples < 1:
        raise ValueError(f"n_samples must be a positive int, got {n_samples!r}")
    sampler = _uniform_sampler(n_samples, random_state) if method == "sample" else None
    groups = build_groups(action_set, sampler, rule)
    unique, inverse = np.unique(values, axis=0, return_inverse=True)
    scorer = FeatureScorer(estimator, predict, target, action_set)
    n, d = unique.shape
    hits, counts = np.zeros((n, d)), np.zeros((n, d))
    starts = range(0, n, batch_size)
    for start in track(starts, "scoring", bar=progress):
        rows = unique[start : start + batch_size]
        # Draw every sample here, in order, so that threads cannot reorder
        # the random stream.
        lone = {}
        for g in groups:
            if scorer.uses_ranges(g):
                continue
            if len(g.group) == 1 and g.elements[0].grid is None:
                lone[id(g)] = _lone_sets(rows, g.group[0], g.elements[0], sampler)
            else:
                for xg in rows[:, g.group]:
                    g._get(xg)
        jobs = [(g, k) for g in groups for k in g.free]
        results = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(scorer.score)(rows, g, k, lone.get(id(g))) for g, k in jobs
        )
        for (g, k), (h, c) in zip(jobs, results, strict=True):
            hits[start : start + len(rows), g.group[k]] = h
            counts[start : start + len(rows), g.group[k]] = c
        for g in groups:
            g.clear()
    scores = np.divide(hits, counts, out=np.zeros_like(hits), where=counts > 0)
    se = _standard_errors(scores, counts, action_set, method)
    inverse = inverse.ravel()
    return ScoreDetails(
        scores[inverse], counts[inverse].astype(int), se[inverse], method
    )


def check_input(X, action_set) -> np.ndarray:
    """Validated float values of X, in the action set's column order.

    Rows in the user's own columns (when the action set has
    ``raw_columns``) are encoded first; encoded rows are checked as they
    are, so a row that breaks its one-hot encoding is an error naming it.
    """
    if not isinstance(action_set, ActionSet):
        raise TypeError(
            f"action_set must be an ActionSet, got {type(action_set).__name__}"
        )
    X = action_set._encoded(X)
    if isinstance(X, pd.DataFrame):
        unknown = [str(c) for c in X.columns if str(c) not in action_set]
        if unknown:
            raise ValueError(f"unknown column(s) {unknown}: not in the action set")
    shape = np.shape(X)
    if len(shape) != 2 or shape[0] == 0:
        raise ValueError(f"X must be a non-empty 2-D table, got shape {shape}")
    values = action_set._values(X)
    bad = ~np.isfinite(values).all(axis=0)
    if bad.any():
        names = [action_set.names[j] for j in np.flatnonzero(bad)]
        raise ValueError(f"X contains NaN or infinity in column(s) {names}")
    return action_set.check_data(values)


def prediction_function(estimator, names):
    """``estimator.predict`` on arrays with columns ``names``, or the
    callable itself; TypeError otherwise."""
    if hasattr(estimator, "predict"):
        fitted_names = getattr(estimator, "feature_names_in_", None)
        if fitted_names is None:
            return estimator.predict
        columns = [str(c) for c in fitted_names]
        # Models fitted on DataFrames get DataFrames in their own column order.
        return lambda Z: estimator.predict(pd.DataFrame(Z, columns=names)[columns])
    if callable(estimator):
        return estimator
    raise TypeError(
        f"estimator must have a predict method or be callable, got "
        f"{type(estimator).__name__}"
    )


class _DecodingModel:
    """A model fitted on the user's raw columns, predicting encoded points.

    It has no coefficients or trees to read, so scores use its predictions.
    """

    def __init__(self, estimator, action_set, columns):
        self.estimator = estimator
        self.action_set = action_set
        self.columns = columns

    @property
    def classes_(self):
        return self.estimator.classes_

    def predict(self, Z):
        return self.estimator.predict(self.action_set.decode(Z)[self.columns])


def on_features(estimator, action_set):
    """``estimator``, or a view of it predicting the action set's features
    when it was fitted on the raw columns (e.g. a Pipeline whose
    ColumnTransformer encodes them): candidate points are decoded first."""
    fitted = getattr(estimator, "feature_names_in_", None)
    raw = action_set.raw_columns
    if fitted is None or raw is None or not hasattr(estimator, "predict"):
        return estimator
    columns = [str(c) for c in fitted]
    if set(columns) != {c.name for c in raw} or set(columns) <= set(action_set.names):
        return estimator
    return _DecodingModel(estimator, action_set, columns)


def check_target(estimator, target) -> None:
    classes = getattr(estimator, "classes_", None)
    if classes is not None and target not in list(classes):
        raise ValueError(
            f"target={target!r} is not a class the model predicts "
            f"(classes_: {list(classes)})"
        )


def resolve_method(action_set, method) -> str:
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    continuous = [
        e.name for e in action_set if e.actionable and not e.discrete and e.grid is None
    ]
    if method == "enumerate" and continuous:
        raise ValueError(
            f"cannot enumerate continuous feature(s) {continuous}: give them a "
            "grid or use method='sample'"
        )
    if method == "auto":
        return "sample" if continuous else "enumerate"
    return method


def linear_form(estimator, names=None):
    """``(w, b, labels)`` for a fitted binary linear classifier, else None.

    ``labels[int(x @ w + b > 0)]`` equals ``estimator.predict(x)``, with
    ``w`` in the order of ``names`` when the model knows its column names.
    A Pipeline of StandardScalers ending in a linear classifier (the default
    model of :func:`responsiveness_importances`) is linear too: the scaling
    is folded into ``w`` and ``b``.
    """
    model, shift, scale = _standardised(estimator)
    if not isinstance(model, LinearClassifierMixin):
        return None
    coef = getattr(model, "coef_", None)
    classes = getattr(model, "classes_", None)
    if coef is None or classes is None or coef.shape[0] != 1 or len(classes) != 2:
        return None
    w = coef.ravel().astype(float)
    b = float(np.ravel(model.intercept_)[0])
    if scale is not None:
        # w @ (x - shift) / scale + b, written as a score of x itself.
        w = w / scale
        b -= float(w @ shift)
    positions = _model_columns(estimator, names)
    if positions is not None:
        w = w[positions]
    return w, b, classes


def _standardised(estimator):
    """``(model, shift, scale)``: the final step of a Pipeline of
    StandardScalers and what they do, ``(x - shift) / scale``; the estimator
    itself and None, None otherwise."""
    steps = getattr(estimator, "steps", None)
    if not isinstance(steps, list) or not steps:
        return estimator, None, None
    shift, scale = 0.0, 1.0
    for _, step in steps[:-1]:
        if step is None or step == "passthrough":
            continue
        if not isinstance(step, StandardScaler):
            return None, None, None
        mean = 0.0 if step.mean_ is None else step.mean_
        std = 1.0 if step.scale_ is None else step.scale_
        shift, scale = shift + mean * scale, scale * std
    return steps[-1][1], shift, scale


def _model_columns(estimator, names):
    """Position in the model's columns of each of ``names`` (None = same)."""
    fitted = getattr(estimator, "feature_names_in_", None)
    if fitted is None or names is None:
        return None
    index = {str(c): k for k, c in enumerate(fitted)}
    missing = [n for n in names if n not in index]
    if missing:
        raise ValueError(f"the model was not fitted on column(s) {missing}")
    return np.array([index[n] for n in names])


class FeatureScorer:
    """Counts, per row of a batch, the 1-D reachable points hitting target."""

    def __init__(self, estimator, predict, target, action_set):
        self.predict = predict
        self.target = target
        self.linear = linear_form(estimator, action_set.names)
        self.columns = _model_columns(estimator, action_set.names)
        self.thresholds = (
            None if self.linear is not None else used_thresholds(estimator)
        )

    def breaks(self, j):
        """Sorted values where the prediction along feature ``j`` may change
        (``x <= t`` goes left), or None when they are not known."""
        if self.thresholds is None:
            return None
        column = j if self.columns is None else self.columns[j]
        return self.thresholds.get(int(column), _NO_SPLITS)

    def uses_ranges(self, g: GroupReach) -> bool:
        """Whether a lone integer feature is counted without enumeration."""
        if len(g.group) != 1 or not g.elements[0].discrete:
            return False
        return self.linear is not None or self.breaks(g.group[0]) is not None

    def score(self, rows: np.ndarray, g: GroupReach, k: int, lone=None):
        if self.uses_ranges(g):
            return self._range_hits(rows, g.group[0], g.elements[0])
        if lone is not None:
            owner, actions = lone
            counts = np.bincount(owner, minlength=len(rows)).astype(float)
        else:
            sets = [g.one_dim(xg, k) for xg in rows[:, g.group]]
            counts = np.array([s.shape[0] for s in sets], dtype=float)
            owner = np.repeat(np.arange(len(rows)), counts.astype(int))
            actions = np.vstack([s for s in sets if s.shape[0]] or [np.empty((0, 1))])
        if counts.sum() == 0:
            return np.zeros(len(rows)), counts
        if self.linear is not None:
            hit = self._linear_hits(rows, g, actions, owner)
            return np.bincount(owner, hit, minlength=len(rows)), counts
        if len(g.group) == 1 and self.breaks(g.group[0]) is not None:
            breaks = self.breaks(g.group[0])
            return self._compressed_hits(
                rows, g.group[0], actions, owner, breaks
            ), counts
        hit = self._predict_hits(rows, g, actions, owner)
        return np.bincount(owner, hit, minlength=len(rows)), counts

    def first_hit(self, points: np.ndarray, group):
        """The position of the first of ``points`` (which differ only in the
        columns ``group``) that the model predicts as the target, or None: a
        search of :func:`~featimp.recourse._searches.run_searches`.

        When the points move one feature of a tree model, one point per
        interval between the model's split points is predicted: the others
        of the interval share its prediction, so the answer is the same.
        """
        candidates = np.arange(len(points))
        if len(group) == 1 and self.linear is None:
            breaks = self.breaks(group[0])
            if breaks is not None:
                cell = np.searchsorted(breaks, points[:, group[0]], side="left")
                candidates = np.sort(np.unique(cell, return_index=True)[1])
        for start in range(0, len(candidates), _CHUNK):
            chunk = candidates[start : start + _CHUNK]
            hit = np.flatnonzero((yield points[chunk]))
            if hit.size:
                return int(chunk[hit[0]])
        return None

    def _linear_hits(self, rows, g, actions, owner):
        w, b, labels = self.linear
        base = rows @ w + b
        margin = base[owner] + actions @ w[g.group]
        return labels[(margin > 0).astype(int)] == self.target

    def _range_hits(self, rows, j, element):
        """Hits and counts over the integer range of a lone feature."""
        x = rows[:, j]
        lo, hi = element.intervals(x)
        lo, hi = np.ceil(lo - x) + x, np.floor(hi - x) + x
        counts = hi - lo  # the range has hi - lo + 1 values, x among them
        if self.linear is not None:
            hits = self._linear_range_hits(rows, j, x, lo, hi)
        else:
            hits = self._cell_range_hits(rows, j, x, lo, hi)
        return hits, counts

    def _linear_range_hits(self, rows, j, x, lo, hi):
        w, b, labels = self.linear
        margin = rows @ w + b
        wj = w[j]
        if wj == 0:
            positive = np.where(margin > 0, hi - lo, 0.0)
        else:
            # The margin is positive past t = x - margin / w_j.
            t = x - margin / wj
            first = np.floor(t) + 1 if wj > 0 else lo
            last = hi if wj > 0 else np.ceil(t) - 1
            first, last = np.maximum(first, lo), np.minimum(last, hi)
            positive = np.maximum(last - first + 1, 0)
            positive -= margin > 0  # x itself is not a move
        if labels[1] == self.target:
            return positive
        if labels[0] == self.target:
            return (hi - lo) - positive
        return np.zeros_like(positive)

    def _cell_range_hits(self, rows, j, x, lo, hi):
        # Integers between consecutive split points share one prediction.
        breaks = self.breaks(j)
        k0 = np.searchsorted(breaks, lo, side="left")
        k1 = np.searchsorted(breaks, hi, side="left")
        n_cells = (k1 - k0 + 1).astype(int)
        owner = np.repeat(np.arange(len(rows)), n_cells)
        cell = (
            k0[owner]
            + np.arange(n_cells.sum())
            - np.repeat(np.cumsum(n_cells) - n_cells, n_cells)
        )
        edges = np.concatenate([[-np.inf], breaks, [np.inf]])
        first = np.maximum(lo[owner], np.floor(edges[cell]) + 1)
        last = np.minimum(hi[owner], np.floor(edges[cell + 1]))
        weight = np.maximum(last - first + 1, 0)
        weight -= (x[owner] >= first) & (x[owner] <= last)
        keep = weight > 0
        owner, first, weight = owner[keep], first[keep], weight[keep]
        hit = np.empty(len(owner), dtype=float)
        for start in range(0, len(owner), _CHUNK):
            sl = slice(start, start + _CHUNK)
            points = rows[owner[sl]].copy()
            points[:, j] = first[sl]
            hit[sl] = np.asarray(self.predict(points)) == self.target
        return np.bincount(owner, hit * weight, minlength=len(rows))

    def _predict_hits(self, rows, g, actions, owner):
        hit = np.empty(len(owner), dtype=float)
        for start in range(0, len(owner), _CHUNK):
            sl = slice(start, start + _CHUNK)
            points = rows[owner[sl]].copy()
            points[:, g.group] += actions[sl]
            hit[sl] = np.asarray(self.predict(points)) == self.target
        return hit

    def _compressed_hits(self, rows, j, actions, owner, breaks):
        # Values in one interval between breakpoints get the same prediction.
        new = rows[owner, j] + actions[:, 0]
        cell = np.searchsorted(breaks, new, side="left")
        key = owner.astype(np.int64) * (breaks.size + 1) + cell
        _, first, weight = np.unique(key, return_index=True, return_counts=True)
        points = rows[owner[first]].copy()
        points[:, j] = new[first]
        hit = np.empty(len(first), dtype=float)
        for start in range(0, len(first), _CHUNK):
            sl = slice(start, start + _CHUNK)
            hit[sl] = np.asarray(self.predict(points[sl])) == self.target
        return np.bincount(owner[first], hit * weight, minlength=len(rows))


def _uniform_sampler(n_samples, random_state):
    rng = check_random_state_seed(random_state)

    def sample(element, x):
        lo, hi = element.interval(x)
        if hi <= lo:
            return np.array([x])
        return np.union1d(rng.uniform(lo, hi, size=n_samples), [x])

    sample.rng, sample.n_samples = rng, n_samples
    return sample


def _lone_sets(rows, j, element, sampler):
    """The 1-D changes of an unconstrained feature for a whole batch at once:
    every integer step, or ``n_samples`` uniform draws. Returns the owning
    row of each change and the changes as a column."""
    x = rows[:, j]
    lo, hi = element.intervals(x)
    if element.discrete:
        first, last = np.ceil(lo - x), np.floor(hi - x)
        n = (last - first + 1).astype(int)
        owner = np.repeat(np.arange(len(x)), n)
        offsets = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
        change = first[owner] + offsets
    else:
        draws = sampler.rng.uniform(size=(len(x), sampler.n_samples))
        points = lo[:, None] + (hi - lo)[:, None] * draws
        owner = np.repeat(np.arange(len(x)), sampler.n_samples)
        change = (points - x[:, None]).ravel()
    keep = change != 0
    return owner[keep], change[keep][:, None]


def _standard_errors(scores, counts, action_set, method) -> np.ndarray:
    se = np.zeros_like(scores)
    if method != "sample":
        return se
    sampled = [
        j
        for j, e in enumerate(action_set)
        if e.actionable and not e.discrete and e.grid is None
    ]
    n = np.maximum(counts[:, sampled], 1)
    p = scores[:, sampled]
    se[:, sampled] = np.sqrt(p * (1 - p) / n)
    return se
