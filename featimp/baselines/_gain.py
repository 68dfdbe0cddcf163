"""Gain or split-count importance of a boosted tree model."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
from sklearn.utils._param_validation import HasMethods, StrOptions, validate_params

from featimp._base import BaseImportanceSelector
from featimp._validation import TASK_CONSTRAINT
from featimp.baselines._common import (
    check_estimator_task,
    native_categories,
    prepare,
    resolve_estimator,
    seeded_clone,
)

_CONSTRAINTS = {
    "estimator": [HasMethods(["fit"]), StrOptions({"xgboost", "lightgbm"}), None],
    "importance_type": [StrOptions({"gain", "split"})],
    "task": TASK_CONSTRAINT,
    "random_state": ["random_state"],
}
# Total (not average) gain, so that a feature used often counts more.
_XGB_TYPES = {"gain": "total_gain", "split": "weight"}


def _xgboost_scores(model, importance_type: str, n_features: int) -> np.ndarray:
    booster = model.get_booster()
    scores = booster.get_score(importance_type=_XGB_TYPES[importance_type])
    names = booster.feature_names or [f"f{j}" for j in range(n_features)]
    # Features never used in a split are missing from get_score.
    return np.array([scores.get(name, 0.0) for name in names], dtype=float)


def model_gain(model, importance_type: str, n_features: int) -> np.ndarray:
    """Gain or split counts of a fitted XGBoost, LightGBM or sklearn tree model."""
    if hasattr(model, "get_booster"):
        return _xgboost_scores(model, importance_type, n_features)
    if hasattr(model, "booster_"):
        return np.asarray(
            model.booster_.feature_importance(importance_type=importance_type),
            dtype=float,
        )
    if importance_type == "gain" and hasattr(model, "feature_importances_"):
        return np.asarray(model.feature_importances_, dtype=float)
    raise TypeError(
        f"estimator={type(model).__name__}() has no "
        f"{importance_type} importance: use an XGBoost or LightGBM model"
        + (" or a model with feature_importances_" if importance_type == "gain" else "")
    )


@validate_params(
    {"X": ["array-like"], "y": ["array-like"], **_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def gain_importances(
    X, y, *, estimator=None, importance_type="gain", task="auto", random_state=None
):
    """Total split gain (or split count) of each feature in a boosted model.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Text and ``category`` columns reach the model as category codes and
        missing values as NaN, both handled natively by the boosters (see
        :func:`~featimp.baselines.shap_importances`).
    y : array-like of shape (n_samples,)
    estimator : estimator, "xgboost", "lightgbm" or None, default=None
        An XGBoost or LightGBM model (cloned and fitted on ``X, y``), or the
        name of one to build with small defaults (None means "xgboost");
        these need the ``boost`` extra. For ``importance_type="gain"`` any
        model with ``feature_importances_`` (e.g. a random forest's impurity
        decrease) also works.
    importance_type : {"gain", "split"}, default="gain"
        Total loss reduction of the splits on a feature, or how many splits
        use it.
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None
        Seeds the estimator.

    Returns
    -------
    ndarray of shape (n_features,)

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import gain_importances
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> scores = gain_importances(X, y, estimator="lightgbm", random_state=0)
    >>> scores.shape, bool((scores >= 0).all())
    ((30,), True)
    """
    table, y, task = prepare(X, y, task, encoding="codes")
    model = seeded_clone(resolve_estimator(estimator, task, "xgboost"), random_state)
    check_estimator_task(model, task)
    model.fit(table.values, y, **native_categories(model, table))
    return model_gain(model, importance_type, table.n_features)


class GainSelector(BaseImportanceSelector):
    """Select features by the split gain of a boosted tree model.

    A thin wrapper around :func:`gain_importances`; see it for the
    parameters.

    Parameters
    ----------
    estimator : estimator, "xgboost", "lightgbm" or None, default=None
    importance_type : {"gain", "split"}, default="gain"
    task : {"auto", "classification", "regression"}, default="auto"
    random_state : int, RandomState instance or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import GainSelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> sel = GainSelector(n_features_to_select=4, random_state=0).fit(X, y)
    >>> sel.transform(X).shape
    (569, 4)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_CONSTRAINTS,
    }
    _reads_tables = True

    def __init__(
        self,
        *,
        estimator=None,
        importance_type="gain",
        task="auto",
        random_state=None,
        stability=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        self.estimator = estimator
        self.importance_type = importance_type
        self.task = task
        self.random_state = random_state
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    _score_function = staticmethod(gain_importances)
