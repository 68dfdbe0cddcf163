"""Permutation importance of a model on a held-out split."""

from __future__ import annotations

from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.inspection import permutation_importance
from sklearn.model_selection import train_test_split
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    validate_params,
)
from threadpoolctl import threadpool_limits

from featimp._base import BaseImportanceSelector
from featimp._encoding import to_pandas
from featimp._validation import TASK_CONSTRAINT
from featimp.baselines._common import (
    check_estimator_task,
    native_categories,
    prepare,
    seeded_clone,
)

_CONSTRAINTS = {
    "estimator": [HasMethods(["fit", "predict"]), None],
    "scoring": [str, callable, None],
    "n_repeats": [Interval(Integral, 1, None, closed="left")],
    "test_size": [Interval(Real, 0, 1, closed="neither")],
    "task": TASK_CONSTRAINT,
    "random_state": ["random_state"],
}


def _default_model(task: str):
    if task == "classification":
        return HistGradientBoostingClassifier(max_iter=100)
    return HistGradientBoostingRegressor(max_iter=100)


def _split(X, y, task, test_size, rng):
    # Stratify when every class can appear on both sides of the split.
    stratify = None
    if task == "classification":
        counts = np.bincount(y)
        if counts[counts > 0].min() >= 2:
            stratify = y
    return train_test_split(
        X,
        y,
        test_size=test_size,
        stratify=stratify,
        random_state=rng.randint(np.iinfo(np.int32).max),
    )


@validate_params(
    {"X": ["array-like"], "y": ["array-like"], **_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def permutation_importances(
    X,
    y,
    *,
    estimator=None,
    scoring=None,
    n_repeats=5,
    test_size=0.25,
    task="auto",
    random_state=None,
):
    """Drop in held-out score when each feature is permuted.

    The estimator is cloned, fitted on a training split and scored by
    :func:`sklearn.inspection.permutation_importance` on the held-out part,
    so features the model overfits to do not look important.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    estimator : estimator or None, default=None
        Any sklearn-compatible model; None uses a histogram gradient boosting
        model for the task, on a single thread, which is given text and
        ``category`` columns as native categories and missing values as
        NaN. A model of the user's gets a DataFrame ``X`` as it is (so a
        pipeline that encodes its own columns works) and an array as floats.
    scoring : str, callable or None, default=None
        As in ``permutation_importance``; None uses ``estimator.score``.
    n_repeats : int, default=5
        Permutations per feature.
    test_size : float in (0, 1), default=0.25
        Share of the rows held out (stratified for classification).
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the split, the permutations and the estimator.

    Returns
    -------
    ndarray of shape (n_features,)
        Mean drop in score; can be slightly negative for useless features.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from sklearn.linear_model import RidgeCV
    >>> from featimp.baselines import permutation_importances
    >>> X, y = load_diabetes(return_X_y=True)
    >>> scores = permutation_importances(X, y, estimator=RidgeCV(), random_state=0)
    >>> sorted(int(j) for j in scores.argsort()[::-1][:2])  # bmi, s5
    [2, 8]
    """
    table, y, task = prepare(X, y, task, encoding="codes")
    model = seeded_clone(
        _default_model(task) if estimator is None else estimator, random_state
    )
    check_estimator_task(model, task)
    data = table.values
    if estimator is None:
        native_categories(model, table)
    elif isinstance(to_pandas(X), pd.DataFrame):
        # The user's own model is given the user's own table.
        data = to_pandas(X)
    rng = check_random_state(random_state)
    X_train, X_test, y_train, y_test = _split(data, y, task, test_size, rng)
    # The default model runs on one OpenMP thread: parallelism belongs to the
    # caller (joblib over methods and resamples), and nested thread pools on
    # a busy machine are many times slower than one thread.
    threads = 1 if estimator is None else None
    with threadpool_limits(limits=threads, user_api="openmp"):
        model.fit(X_train, y_train)
        result = permutation_importance(
            model,
            X_test,
            y_test,
            scoring=scoring,
            n_repeats=n_repeats,
            random_state=rng.randint(np.iinfo(np.int32).max),
        )
    return result.importances_mean


class PermutationSelector(BaseImportanceSelector):
    """Select features by held-out permutation importance.

    A thin wrapper around :func:`permutation_importances`; see it for the
    parameters.

    Parameters
    ----------
    estimator : estimator or None, default=None
    scoring : str, callable or None, default=None
    n_repeats : int, default=5
    test_size : float in (0, 1), default=0.25
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import PermutationSelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> sel = PermutationSelector(n_features_to_select=3, random_state=0)
    >>> sel.fit(X, y).transform(X).shape
    (569, 3)
    """

    _test_params: ClassVar[dict] = {"n_repeats": 2}

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_CONSTRAINTS,
    }
    # Trees split integer codes of categorical columns well enough to rank.

    _reads_tables = True

    def __init__(
        self,
        *,
        estimator=None,
        scoring=None,
        n_repeats=5,
        test_size=0.25,
        task="auto",
        random_state=None,
        stability=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        self.estimator = estimator
        self.scoring = scoring
        self.n_repeats = n_repeats
        self.test_size = test_size
        self.task = task
        self.random_state = random_state
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    _score_function = staticmethod(permutation_importances)
