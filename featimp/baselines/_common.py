"""Helpers shared by the baseline methods: task, target, seeded estimators."""

from __future__ import annotations

import importlib
import inspect
import warnings

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import check_random_state

from featimp._validation import check_X_y, encode_target, infer_task

#: Constructor arguments of the default boosted models: small and single
#: threaded, so that several run side by side under joblib without
#: oversubscribing the cores.
BOOSTER_DEFAULTS = {
    "xgboost": {
        "n_estimators": 200,
        "max_depth": 4,
        "learning_rate": 0.1,
        "tree_method": "hist",
        "n_jobs": 1,
    },
    "lightgbm": {
        "n_estimators": 200,
        "num_leaves": 15,
        "learning_rate": 0.1,
        "n_jobs": 1,
        "verbose": -1,
    },
}


def import_optional(module: str, extra: str):
    """Import ``module`` or fail with the extra that provides it."""
    try:
        # shap's import styles matplotlib colormaps with soon-deprecated calls;
        # that notice is for shap's maintainers, not for our users.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"{module} is needed here; install it with "
            f"pip install 'featimp-toolkit[{extra}]'"
        ) from exc


def prepare(X, y, task: str, *, encoding: str):
    """The encoded table of ``X``, encoded ``y`` and the resolved task.

    See :mod:`featimp._encoding` for ``encoding``.
    """
    table, y = check_X_y(X, y, encoding=encoding)
    task = infer_task(y, task)
    y, _ = encode_target(y, task)
    return table, y, task


#: HistGradientBoosting takes at most this many categories per feature.
_HGB_MAX_CATEGORIES = 255


def native_categories(model, table) -> dict:
    """Tell a tree model which columns of ``table`` are category codes.

    XGBoost gets ``feature_types`` (``"c"`` for categories) and
    ``enable_categorical``, scikit-learn's HistGradientBoosting a
    ``categorical_features`` mask (for columns with at most 255
    categories), LightGBM the ``categorical_feature`` fit argument, which is
    returned. Settings the user made are left alone; other models get the
    codes as numbers. All three boosters send missing values (NaN) down a
    learned branch of their own.
    """
    mask = table.categorical
    if not mask.any():
        return {}
    params = model.get_params()
    if "enable_categorical" in params and params.get("feature_types") is None:
        model.set_params(
            enable_categorical=True,
            feature_types=["c" if c else "q" for c in mask],
        )
    elif params.get("categorical_features", None) == "from_dtype":
        sizes = np.array([len(table.columns[g].categories) for g in table.groups])
        model.set_params(categorical_features=mask & (sizes <= _HGB_MAX_CATEGORIES))
    elif "categorical_feature" in inspect.signature(model.fit).parameters:
        return {"categorical_feature": np.flatnonzero(mask).tolist()}
    return {}


def seeded_clone(estimator, random_state):
    """An unfitted copy of ``estimator`` seeded from ``random_state``.

    An int ``random_state`` gives the same seed every time; None leaves the
    estimator's own ``random_state`` alone.
    """
    estimator = clone(estimator)
    if random_state is not None and "random_state" in estimator.get_params():
        seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
        estimator.set_params(random_state=seed)
    return estimator


def make_booster(kind: str, task: str):
    """An XGBoost or LightGBM model for ``task`` with small defaults."""
    if kind == "xgboost":
        xgboost = import_optional("xgboost", "boost")
        cls = (
            xgboost.XGBClassifier if task == "classification" else xgboost.XGBRegressor
        )
    else:
        lightgbm = import_optional("lightgbm", "boost")
        cls = (
            lightgbm.LGBMClassifier
            if task == "classification"
            else lightgbm.LGBMRegressor
        )
    return cls(**BOOSTER_DEFAULTS[kind])


def resolve_estimator(estimator, task: str, default: str | None = None):
    """``estimator`` itself, a booster named by a string, or the default."""
    if estimator is None:
        estimator = default
    if isinstance(estimator, str):
        return make_booster(estimator, task)
    return estimator


def check_estimator_task(estimator, task: str) -> None:
    """A classifier for a regression target (or the reverse) is an error."""
    expected = "classifier" if task == "classification" else "regressor"
    wrong = (
        is_regressor(estimator)
        if task == "classification"
        else is_classifier(estimator)
    )
    if wrong:
        raise ValueError(
            f"estimator={type(estimator).__name__}() does not fit the task "
            f"({task}); pass a {expected}"
        )
