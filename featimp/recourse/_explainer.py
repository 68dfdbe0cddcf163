"""ResponsivenessExplainer: per-person scores, fixedness and a recourse action."""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from featimp.recourse._action_set import ActionSet
from featimp.recourse._milp import best_linear_action
from featimp.recourse._reachable import RULES, build_groups, reachable_set
from featimp.recourse._scores import (
    check_input,
    linear_form,
    on_features,
    prediction_function,
    score_details,
)


@dataclass
class ResponsivenessResult:
    """What :meth:`ResponsivenessExplainer.explain` returns.

    Attributes
    ----------
    scores : DataFrame
        Rows x features responsiveness scores.
    fixed : Series of pandas "boolean"
        True: no reachable point gets the target (certified); False: a
        recourse action was found (see ``actions``); NA: not certified.
    n_reachable : Series
        Size of the joint reachable set (NaN when it was not enumerated).
    actions : DataFrame
        The change found for rows with ``fixed == False``; NaN elsewhere.
    standard_errors : DataFrame
        Standard errors of sampled scores (0 where enumerated).
    method : str
    """

    scores: pd.DataFrame
    fixed: pd.Series
    n_reachable: pd.Series
    actions: pd.DataFrame
    standard_errors: pd.DataFrame
    method: str

    def top_features(self, k: int = 3) -> pd.DataFrame:
        """The names of the ``k`` most responsive features of each row
        (missing past the row's responsive features)."""
        if not isinstance(k, Integral) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}")
        values = self.scores.to_numpy()
        order = np.argsort(-values, axis=1, kind="stable")[:, :k]
        names = np.asarray(self.scores.columns, dtype=object)[order]
        positive = np.take_along_axis(values, order, axis=1) > 0
        names = np.where(positive, names, None)
        return pd.DataFrame(
            names, index=self.scores.index, columns=[f"top_{i + 1}" for i in range(k)]
        )

    def summary(self) -> dict:
        """Shares of fixed rows and of rows without a responsive feature."""
        fixed = self.fixed.astype("boolean")
        return {
            "n": len(self.scores),
            "fixed": float(fixed.eq(True).mean()),
            "uncertified": float(fixed.isna().mean()),
            "no_responsive_feature": float((self.scores.max(axis=1) <= 0).mean()),
        }


class ResponsivenessExplainer(BaseEstimator):
    """Explain predictions by how responsive each feature is.

    Rows to explain are the action set's features, or, for an action set
    built by :meth:`ActionSet.from_data` from the user's own table, rows in
    that table's columns (text, categories, missing values), which are
    encoded with :meth:`ActionSet.encode`. Scores and actions are always on
    the features.

    The estimator may be fitted on the features (e.g. on
    ``action_set.encode(X)``): linear models, StandardScaler pipelines
    ending in one, and tree models then get their exact fast paths. It may
    also be fitted on the raw columns (say a Pipeline whose
    ColumnTransformer encodes them): each candidate point is then decoded
    with :meth:`ActionSet.decode` before ``predict``, which is slower.

    Parameters
    ----------
    estimator : fitted estimator with ``predict``, or a callable
        A callable gets arrays of the features.
    action_set : ActionSet
    target : label, default=1
    method : {"auto", "enumerate", "sample"}, default="auto"
    rule : {"per_value", "reference"}, default="per_value"
        Which points make up each feature's reachable set: featimp's rule,
        or exactly the authors' code (reachml's marginal filter); see
        :func:`~featimp.recourse.responsiveness_scores`. It also decides
        where the action of a row with a responsive feature is looked for.
    n_samples : int, default=100
        Values drawn per continuous feature in sample mode.
    random_state : int or None
    n_jobs : int or None
    certify : {"auto", "enumerate", "milp", "none"}, default="auto"
        How rows without a responsive feature are checked for fixedness:
        ``"auto"`` uses exact group-wise maximisation for linear models
        (MILP when a group cannot be enumerated) and joint enumeration up to
        ``max_joint`` points for other models.
    max_joint : int, default=100_000

    Attributes
    ----------
    global_importances_ : Series
        Mean responsiveness of each feature over the rows given to ``fit``
        that the model does not predict as ``target``: the levers of
        recourse.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from featimp.datasets import load_german_recourse
    >>> from featimp.recourse import german_action_set
    >>> X, y = load_german_recourse()
    >>> clf = LogisticRegression(max_iter=2000).fit(X, y)
    >>> denied = X[clf.predict(X) == 0]
    >>> result = ResponsivenessExplainer(clf, german_action_set(X)).explain(denied)
    >>> result.scores.shape == (len(denied), 36), result.fixed.isna().any()
    (True, np.False_)

    The raw German credit table, explained in its own columns:

    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from featimp.datasets import load_german_credit
    >>> from featimp.recourse import ActionSet
    >>> X, y = load_german_credit()
    >>> A = ActionSet.from_data(X)
    >>> A[A.columns_of("age_in_years")].actionable = False
    >>> clf = make_pipeline(StandardScaler(), LogisticRegression())
    >>> clf = clf.fit(A.encode(X), y)
    >>> result = ResponsivenessExplainer(clf, A, target="good").explain(X.head(3))
    >>> result.scores.shape, result.scores.columns[0]
    ((3, 61), 'status_of_existing_checking_account=... < 0 DM')
    """

    _parameter_constraints: ClassVar[dict] = {
        "estimator": "no_validation",
        "action_set": [ActionSet],
        "target": "no_validation",
        "method": [StrOptions({"auto", "enumerate", "sample"})],
        "rule": [StrOptions(set(RULES))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "certify": [StrOptions({"auto", "enumerate", "milp", "none"})],
        "max_joint": [Interval(Integral, 1, None, closed="left")],
    }

    def __init__(
        self,
        estimator,
        action_set,
        *,
        target=1,
        method="auto",
        rule="per_value",
        n_samples=100,
        random_state=None,
        n_jobs=None,
        certify="auto",
        max_joint=100_000,
    ):
        self.estimator = estimator
        self.action_set = action_set
        self.target = target
        self.method = method
        self.rule = rule
        self.n_samples = n_samples
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.certify = certify
        self.max_joint = max_joint

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Store the mean responsiveness of each feature over the rows of
        ``X`` not predicted as ``target`` (all rows if there are none)."""
        values = check_input(X, self.action_set)
        model = on_features(self.estimator, self.action_set)
        predict = prediction_function(model, self.action_set.names)
        denied = np.asarray(predict(values)) != self.target
        scores = self._details(values[denied] if denied.any() else values).scores
        self.global_importances_ = pd.Series(
            scores.mean(axis=0), index=self.action_set.names, name="responsiveness"
        )
        self.n_features_in_ = len(self.action_set)
        return self

    def explain(self, X) -> ResponsivenessResult:
        """Scores, fixedness and a recourse action for every row of ``X``.

        ``X`` holds the action set's features, or the user's own columns
        when the action set has ``raw_columns``; a row that breaks the action
        set (bounds, a one-hot group without exactly one 1, ...) is a
        ValueError naming the row.
        """
        self._validate_params()
        values = check_input(X, self.action_set)
        details = self._details(values)
        index = X.index if isinstance(X, pd.DataFrame) else pd.RangeIndex(len(values))
        names = self.action_set.names
        fixed, n_reachable, actions = self._certify(values, details.scores)
        return ResponsivenessResult(
            scores=pd.DataFrame(details.scores, index=index, columns=names),
            fixed=pd.Series(fixed, index=index, dtype="boolean", name="fixed"),
            n_reachable=pd.Series(n_reachable, index=index, name="n_reachable"),
            actions=pd.DataFrame(actions, index=index, columns=names),
            standard_errors=pd.DataFrame(
                details.standard_errors, index=index, columns=names
            ),
            method=details.method,
        )

    def _details(self, X):
        return score_details(
            self.estimator,
            X,
            self.action_set,
            target=self.target,
            method=self.method,
            rule=self.rule,
            n_samples=self.n_samples,
            random_state=self.random_state,
            n_jobs=self.n_jobs,
        )

    def _certify(self, values, scores):
        n, d = values.shape
        fixed = np.full(n, pd.NA, dtype=object)
        actions = np.full((n, d), np.nan)
        n_reachable = np.full(n, np.nan)
        model = on_features(self.estimator, self.action_set)
        predict = prediction_function(model, self.action_set.names)
        linear = linear_form(model, self.action_set.names)
        groups = build_groups(self.action_set, rule=self.rule)
        for i, x in enumerate(values):
            if i % 1000 == 999:  # bound the memory of the per-state caches
                for g in groups:
                    g.clear()
            n_reachable[i] = self._joint_size(groups, x)
            if self.certify == "none":
                continue
            if scores[i].max() > 0:
                actions[i] = self._one_dim_action(x, scores[i], groups, predict)
                fixed[i] = False
                continue
            found = self._joint_action(x, groups, predict, linear, n_reachable[i])
            if found is not None:
                fixed[i] = found is False
                if found is not False:
                    actions[i] = found
        return fixed, n_reachable, actions

    def _joint_size(self, groups, x):
        sizes = []
        for g in groups:
            if len(g.group) == 1:  # unconstrained: no need to enumerate
                sizes.append(g.size(x[g.group]))
                continue
            try:
                sizes.append(g.joint(x[g.group]).shape[0])
            except ValueError:  # a continuous feature without a grid
                return np.nan
        size = float(np.prod(sizes)) if sizes else 1.0
        return size if np.isfinite(size) else np.nan

    def _one_dim_action(self, x, row_scores, groups, predict):
        j = int(np.argmax(row_scores))
        g = next(g for g in groups if j in g.group)
        element = self.action_set[j]
        if len(g.group) == 1 and (element.discrete or element.grid is not None):
            changes = (element.values(x[j]) - x[j])[:, None]
        elif not element.discrete and element.grid is None:
            # A sampled feature: look for the action on an even grid.
            changes = _grid_changes(element, x[j])[:, None]
            g = type(g)(self.action_set, [j])
        else:
            changes = g.one_dim(x[g.group], g.group.index(j))
        points = np.repeat(x[None, :], len(changes), axis=0)
        points[:, g.group] += changes
        hit = np.flatnonzero(np.asarray(predict(points)) == self.target)
        return points[hit[0]] - x if hit.size else np.full_like(x, np.nan)

    def _joint_action(self, x, groups, predict, linear, size):
        """False if certified fixed, a change if recourse exists, None if
        neither could be shown."""
        if linear is not None and self.certify in ("auto", "milp"):
            use_milp = self.certify == "milp" or not np.isfinite(size)
            return _linear_certificate(
                x, groups, linear, self.target, self.action_set, use_milp
            )
        if self.certify == "milp" or not size <= self.max_joint:
            return None
        points = reachable_set(self.action_set, x, max_points=self.max_joint)
        hit = np.flatnonzero(np.asarray(predict(points)) == self.target)
        return points[hit[0]] - x if hit.size else False


def _linear_certificate(x, groups, linear, target, action_set, use_milp):
    w, b, labels = linear
    sign = 1.0 if target == labels[1] else -1.0
    if use_milp:
        try:
            margin, change = best_linear_action(w, b, x, action_set, sign=sign)
        except (NotImplementedError, ValueError):
            return None
    else:
        # The score is additive over groups, so the best joint action is the
        # best action of each group, found by enumeration.
        change = np.zeros_like(x)
        for g in groups:
            joint = _extremes(g, x) if len(g.group) == 1 else g.joint(x[g.group])
            gains = sign * (joint @ w[g.group])
            change[g.group] = joint[int(np.argmax(gains))]
        margin = float(w @ (x + change) + b)
    return change if labels[int(margin > 0)] == target else False


def _extremes(g, x):
    """A lone feature's best linear action is at one end of its range."""
    j, element = g.group[0], g.elements[0]
    lo, hi = element.interval(x[j])
    if element.discrete:
        lo, hi = np.ceil(lo - x[j]) + x[j], np.floor(hi - x[j]) + x[j]
    return np.array([[lo], [hi]]) - x[j]


def _grid_changes(element, x, n=101):
    lo, hi = element.interval(x)
    return np.linspace(lo, hi, n) - x
