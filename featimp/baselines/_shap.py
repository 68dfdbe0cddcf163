"""Mean absolute SHAP value of a fitted model."""

from __future__ import annotations

import warnings
from numbers import Integral
from typing import ClassVar

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)

from featimp._base import BaseImportanceSelector
from featimp._validation import TASK_CONSTRAINT
from featimp.baselines._common import (
    check_estimator_task,
    import_optional,
    native_categories,
    prepare,
    resolve_estimator,
    seeded_clone,
)

_CONSTRAINTS = {
    "estimator": [HasMethods(["fit"]), StrOptions({"xgboost", "lightgbm"}), None],
    "explainer": [StrOptions({"auto", "tree", "permutation", "partition"})],
    "task": TASK_CONSTRAINT,
    "max_samples": [Interval(Integral, 1, None, closed="left")],
    "n_background": [Interval(Integral, 1, None, closed="left")],
    "max_evals": [Interval(Integral, 1, None, closed="left"), StrOptions({"auto"})],
    "random_state": ["random_state"],
}


def mean_abs_shap(values, n_features: int) -> np.ndarray:
    """Mean |SHAP| per feature from any of SHAP's output layouts.

    SHAP returns a list with one ``(n, d)`` array per class (older
    releases), an ``Explanation``, a ``(n, d, k)`` array (multiclass, and
    binary sklearn trees) or a ``(n, d)`` array (regression and binary
    boosters, on the log-odds scale). The mean over samples is averaged over
    the ``k`` outputs.
    """
    if isinstance(values, list):
        values = np.stack([np.asarray(v) for v in values], axis=-1)
    values = np.asarray(getattr(values, "values", values), dtype=float)
    if values.ndim == 2:
        values = values[:, :, None]
    if values.ndim != 3 or values.shape[1] != n_features:
        raise ValueError(
            f"SHAP values of shape {values.shape} do not match {n_features} features"
        )
    return np.abs(values).mean(axis=0).mean(axis=1)


def _tree_values(shap, model, rows):
    # LightGBM binary models warn that SHAP's output layout changed; the
    # layout is normalised by mean_abs_shap, so the notice is not for users.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*output has changed.*")
        return shap.TreeExplainer(model).shap_values(rows, check_additivity=False)


def _agnostic_values(shap, model, rows, background, kind, max_evals, task, seed):
    predict = model.predict_proba if task == "classification" else model.predict
    if kind == "partition":
        masker = shap.maskers.Partition(background, max_samples=len(background))
        explainer = shap.PartitionExplainer(predict, masker)
    else:
        masker = shap.maskers.Independent(background, max_samples=len(background))
        explainer = shap.PermutationExplainer(predict, masker, seed=seed)
    return explainer(rows, max_evals=max_evals, silent=True)


def _explain(shap, model, rows, background, *, explainer, max_evals, task, seed):
    if explainer in ("auto", "tree"):
        try:
            return _tree_values(shap, model, rows)
        except ValueError:
            # shap's InvalidModelError (a ValueError): not a tree model.
            if explainer == "tree":
                raise
        explainer = "permutation"
    d = rows.shape[1]
    # One permutation costs 2d + 1 evaluations; "auto" affords three.
    evals = 3 * (2 * d + 1) if max_evals == "auto" else max(max_evals, 2 * d + 1)
    return _agnostic_values(shap, model, rows, background, explainer, evals, task, seed)


@validate_params(
    {"X": ["array-like"], "y": ["array-like"], **_CONSTRAINTS},
    prefer_skip_nested_validation=True,
)
def shap_importances(
    X,
    y,
    *,
    estimator=None,
    explainer="auto",
    task="auto",
    max_samples=500,
    n_background=100,
    max_evals="auto",
    random_state=None,
):
    """Mean absolute SHAP value of each feature for a model fitted on X, y.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Text and ``category`` columns reach the model as integer codes that
        it is told are categories (XGBoost, LightGBM and
        HistGradientBoosting split them natively); missing values reach it
        as NaN, which these boosters route natively. Other models get the
        codes and NaN as they are. One column, one code column: its SHAP
        value is the column's.
    y : array-like of shape (n_samples,)
    estimator : estimator, "xgboost", "lightgbm" or None, default=None
        The model to explain, cloned and fitted on ``X, y`` (seeded from
        ``random_state``). The strings (and None, meaning "xgboost") build a
        small boosted model; these need the ``boost`` extra.
    explainer : {"auto", "tree", "permutation", "partition"}, default="auto"
        ``"tree"`` uses ``shap.TreeExplainer`` (XGBoost, LightGBM, sklearn
        trees); ``"permutation"`` and ``"partition"`` are model-agnostic and
        explain ``predict_proba`` (classifiers) or ``predict`` against a
        background sample. ``"auto"``: tree when the model supports it, else
        permutation.
    task : {"auto", "classification", "regression"}, default="auto"
    max_samples : int, default=500
        Rows explained (a random subset when X has more).
    n_background : int, default=100
        Background rows of the model-agnostic explainers.
    max_evals : int or "auto", default="auto"
        Model evaluations per explained row (model-agnostic explainers);
        "auto" is three permutations, ``3 * (2 * n_features + 1)``.
    random_state : int, RandomState instance or None, default=None

    Returns
    -------
    ndarray of shape (n_features,)
        Mean |SHAP| over the explained rows, averaged over classes.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import shap_importances
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> scores = shap_importances(X, y, max_samples=100, random_state=0)
    >>> scores.shape, bool(scores.max() > 0)
    ((30,), True)
    """
    shap = import_optional("shap", "shap")
    table, y, task = prepare(X, y, task, encoding="codes")
    X = table.values
    model = seeded_clone(resolve_estimator(estimator, task, "xgboost"), random_state)
    check_estimator_task(model, task)
    model.fit(X, y, **native_categories(model, table))
    rng = check_random_state(random_state)
    rows = X[rng.choice(X.shape[0], min(max_samples, X.shape[0]), replace=False)]
    background = X[rng.choice(X.shape[0], min(n_background, X.shape[0]), replace=False)]
    values = _explain(
        shap,
        model,
        rows,
        background,
        explainer=explainer,
        max_evals=max_evals,
        task=task,
        seed=int(rng.randint(np.iinfo(np.int32).max)),
    )
    return table.aggregate(mean_abs_shap(values, X.shape[1]), "sum")


class ShapSelector(BaseImportanceSelector):
    """Select features by the mean |SHAP| value of a model.

    A thin wrapper around :func:`shap_importances`; see it for the
    parameters. Needs the ``shap`` extra (and ``boost`` for the default
    XGBoost model).

    Parameters
    ----------
    estimator : estimator, "xgboost", "lightgbm" or None, default=None
    explainer : {"auto", "tree", "permutation", "partition"}, default="auto"
    task : {"auto", "classification", "regression"}, default="auto"
    max_samples : int, default=500
    n_background : int, default=100
    max_evals : int or "auto", default="auto"
    random_state : int, RandomState instance or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.baselines import ShapSelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> sel = ShapSelector(max_samples=100, n_features_to_select=5, random_state=0)
    >>> sel.fit(X, y).transform(X).shape
    (569, 5)
    """

    _test_params: ClassVar[dict] = {"max_samples": 20, "n_background": 10}

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_CONSTRAINTS,
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        estimator=None,
        explainer="auto",
        task="auto",
        max_samples=500,
        n_background=100,
        max_evals="auto",
        random_state=None,
        stability=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        self.estimator = estimator
        self.explainer = explainer
        self.task = task
        self.max_samples = max_samples
        self.n_background = n_background
        self.max_evals = max_evals
        self.random_state = random_state
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    _score_function = staticmethod(shap_importances)
