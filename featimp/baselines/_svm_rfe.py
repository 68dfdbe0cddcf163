"""Recursive feature elimination with a linear support vector machine."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.base import BaseEstimator, clone
from sklearn.feature_selection import RFE
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC, LinearSVR
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    Interval,
    RealNotInt,
    validate_params,
)

from featimp._base import BaseImportanceSelector
from featimp._progress import phases
from featimp._validation import TASK_CONSTRAINT
from featimp.baselines._common import prepare

_CONSTRAINTS = {
    "C": [Interval(Real, 0, None, closed="neither")],
    "step": [
        Interval(Integral, 1, None, closed="left"),
        Interval(RealNotInt, 0, 1, closed="neither"),
    ],
    "task": TASK_CONSTRAINT,
    "random_state": ["random_state"],
}

_MAX_ITER = 5000


def _linear_svm(task: str, C: float, seed: int):
    # The primal problem (dual=False) is the fast one when rows outnumber
    # features, the usual case for tabular data.
    if task == "classification":
        return LinearSVC(C=C, dual=False, max_iter=_MAX_ITER, random_state=seed)
    return LinearSVR(
        C=C,
        loss="squared_epsilon_insensitive",
        dual=False,
        max_iter=_MAX_ITER,
        random_state=seed,
    )


@validate_params(
    {"X": ["array-like"], "y": ["array-like"], **_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def svm_rfe_importances(X, y, *, C=1.0, step=1, task="auto", random_state=None):
    """SVM-RFE (Guyon et al. 2002): the order in which features are eliminated.

    A linear SVM is fitted on standardised features and the feature(s) with
    the smallest squared weight removed, repeatedly, until one is left; the
    last survivors are the most important.

    Text and ``category`` columns are one-hot encoded and numeric columns
    with missing values median-imputed with a missing indicator (see
    :mod:`featimp._encoding`); elimination runs on the encoded columns, and
    a column scores as its last surviving encoded column: the column is in
    the model as long as any of its parts is.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    C : float > 0, default=1.0
        Inverse regularisation of the SVM.
    step : int >= 1 or float in (0, 1), default=1
        Features removed per round (a count or a fraction of the remaining
        ones); more is faster but ties the removed features.
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    ndarray of shape (n_features,)
        ``(R + 1 - rank) / R`` with ``rank`` the elimination rank (1 = kept
        to the end) and ``R`` the largest rank: 1 for the last feature
        standing, features removed in the same round tie.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from featimp.baselines import svm_rfe_importances
    >>> X, y = load_diabetes(return_X_y=True)
    >>> scores = svm_rfe_importances(X, y, random_state=0)
    >>> scores.max(), scores.min()
    (np.float64(1.0), np.float64(0.1))
    """
    table, y, task = prepare(X, y, task, encoding="onehot")
    X = StandardScaler().fit_transform(table.values)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    with phases("SVM-RFE rounds", [1] * _n_fits(X.shape[1], step)) as advance:
        svm = _Reporting(_linear_svm(task, C, seed), advance)
        rank = RFE(svm, n_features_to_select=1, step=step).fit(X, y).ranking_
    top = rank.max()
    return table.aggregate((top + 1 - rank) / top, "max")


def _n_fits(n_features: int, step) -> int:
    """How many SVMs ``RFE(n_features_to_select=1, step=step)`` fits: one
    per elimination round, and the final one."""
    # A fraction is of the starting count, as RFE takes it.
    k = int(max(1, step * n_features)) if step < 1 else int(step)
    return 1 + math.ceil((n_features - 1) / k)


class _Reporting(BaseEstimator):
    """An estimator that calls ``advance()`` after each fit: the progress of
    the elimination rounds of scikit-learn's ``RFE``, which has no hook."""

    def __init__(self, estimator, advance=None):
        self.estimator = estimator
        self.advance = advance

    def fit(self, X, y):
        self.estimator_ = clone(self.estimator).fit(X, y)
        self.coef_ = self.estimator_.coef_
        if self.advance is not None:
            self.advance()
        return self

    def __sklearn_tags__(self):
        return self.estimator.__sklearn_tags__()


class SVMRFESelector(BaseImportanceSelector):
    """Select features by SVM recursive feature elimination.

    A thin wrapper around :func:`svm_rfe_importances`; see it for the
    parameters.

    Parameters
    ----------
    C : float > 0, default=1.0
    step : int >= 1 or float in (0, 1), default=1
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import SVMRFESelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> sel = SVMRFESelector(step=0.2, n_features_to_select=5, random_state=0)
    >>> sel.fit(X, y).transform(X).shape
    (569, 5)
    """

    _test_params: ClassVar[dict] = {"step": 0.5}

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_CONSTRAINTS,
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        C=1.0,
        step=1,
        task="auto",
        random_state=None,
        stability=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        self.C = C
        self.step = step
        self.task = task
        self.random_state = random_state
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    _score_function = staticmethod(svm_rfe_importances)
