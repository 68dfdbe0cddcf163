"""L1-regularised linear model coefficients on standardised features."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from sklearn.linear_model import LassoCV, LogisticRegression, LogisticRegressionCV
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.preprocessing import StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

from featimp._base import BaseImportanceSelector
from featimp._validation import TASK_CONSTRAINT
from featimp.baselines._common import prepare

_CONSTRAINTS = {
    "n_grid": [Interval(Integral, 1, None, closed="left")],
    "cv": [Interval(Integral, 2, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="neither")],
    "task": TASK_CONSTRAINT,
    "random_state": ["random_state"],
}
# Inverse penalties of the L1-logistic path, on standardised features: C = 1
# is already weak regularisation at the sample sizes where feature selection
# matters, and larger C only slows the solvers down.
_LOG_C_RANGE = (-4, 0)
_MAX_ITER = 1000


def column_effects(X, coef, groups) -> np.ndarray:
    """Standard deviation of each column's part of the linear predictor.

    ``X`` standardised, ``coef`` of shape (n_outputs, n_encoded), encoded
    columns of one original column contiguous in ``groups``. For a single
    standardised column this is ``|coef|``; for a one-hot group it measures
    how much the column moves the prediction across the rows, whatever its
    number of categories. Averaged over outputs.
    """
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    effects = [np.add.reduceat(X * c, starts, axis=1).std(axis=0) for c in coef]
    return np.mean(effects, axis=0)


def _n_splits(y, task: str, cv: int) -> int:
    """Folds that every class can fill (fewer than 2 means no CV)."""
    if task == "classification":
        return min(cv, int(np.bincount(y).min()))
    return min(cv, y.size)


def _l1_logistic(X, y, *, n_grid, cv, tol, seed):
    # liblinear is fastest for two classes; saga handles the multinomial loss.
    solver = "liblinear" if np.unique(y).size == 2 else "saga"
    common = {"l1_ratio": 1.0} if cv < 2 else {"l1_ratios": (1.0,)}
    params = {
        "solver": solver,
        "max_iter": _MAX_ITER,
        "tol": tol,
        "random_state": seed,
        **common,
    }
    if cv < 2:
        return LogisticRegression(C=1.0, **params).fit(X, y).coef_
    Cs = np.logspace(*_LOG_C_RANGE, n_grid)
    folds = StratifiedKFold(cv, shuffle=True, random_state=seed)
    model = LogisticRegressionCV(
        Cs=Cs,
        cv=folds,
        scoring="neg_log_loss",
        use_legacy_attributes=False,
        **params,
    )
    return model.fit(X, y).coef_


def _lasso(X, y, *, n_grid, cv, tol, seed):
    if cv < 2:
        raise ValueError("lasso needs at least 2 samples for cross-validation")
    folds = KFold(cv, shuffle=True, random_state=seed)
    model = LassoCV(alphas=n_grid, cv=folds, max_iter=_MAX_ITER, tol=tol)
    return model.fit(X, y).coef_[None, :]


@validate_params(
    {"X": ["array-like"], "y": ["array-like"], **_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def lasso_importances(
    X, y, *, n_grid=8, cv=3, tol=1e-3, task="auto", random_state=None
):
    """Absolute L1-regularised coefficients on standardised features.

    Regression uses :class:`~sklearn.linear_model.LassoCV`; classification an
    L1-penalised logistic regression whose penalty is chosen by
    cross-validated log-loss. Features are standardised first, so the
    coefficients are comparable across features.

    Text and ``category`` columns are one-hot encoded (every category, and
    missing as one more) and numeric columns with missing values are
    median-imputed with a missing indicator beside them (see
    :mod:`featimp._encoding`). A column's importance is then the standard
    deviation, over the rows, of its encoded columns' part of the linear
    predictor: for a numeric column that is its absolute (standardised)
    coefficient, as without encoding, and for a categorical column it is
    how far the column moves predictions, not how many categories it has
    (the sum of the absolute coefficients would grow with their number). A
    column the penalty removes scores 0.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    n_grid : int, default=8
        Penalty strengths tried (alphas of the lasso; ``C`` values between
        1e-4 and 1 for the logistic model).
    cv : int >= 2, default=3
        Cross-validation folds (shuffled, stratified for classification);
        reduced when a class has fewer rows.
    tol : float, default=1e-3
        Solver tolerance.
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the folds and the solvers.

    Returns
    -------
    ndarray of shape (n_features,)
        |coefficient|, averaged over classes for multiclass targets; 0 for
        features the penalty removed.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from featimp.baselines import lasso_importances
    >>> X, y = load_diabetes(return_X_y=True)
    >>> scores = lasso_importances(X, y, random_state=0)
    >>> [int(j) for j in scores.argsort()[::-1][:2]]  # bmi, s5
    [2, 8]
    """
    table, y, task = prepare(X, y, task, encoding="onehot")
    X = StandardScaler().fit_transform(table.values)
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    fit = _l1_logistic if task == "classification" else _lasso
    coef = fit(
        X,
        y,
        n_grid=n_grid,
        cv=_n_splits(y, task, cv),
        tol=tol,
        seed=seed,
    )
    if not table.expanded:
        return np.abs(coef).mean(axis=0)
    return column_effects(X, coef, table.groups)


class LassoSelector(BaseImportanceSelector):
    """Select features by L1-regularised coefficients.

    A thin wrapper around :func:`lasso_importances`; see it for the
    parameters.

    Parameters
    ----------
    n_grid : int, default=8
    cv : int >= 2, default=3
    tol : float, default=1e-3
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import LassoSelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> sel = LassoSelector(n_features_to_select=5, random_state=0).fit(X, y)
    >>> sel.transform(X).shape
    (569, 5)
    """

    _test_params: ClassVar[dict] = {"n_grid": 3}

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_CONSTRAINTS,
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        n_grid=8,
        cv=3,
        tol=1e-3,
        task="auto",
        random_state=None,
        stability=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        self.n_grid = n_grid
        self.cv = cv
        self.tol = tol
        self.task = task
        self.random_state = random_state
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    _score_function = staticmethod(lasso_importances)
