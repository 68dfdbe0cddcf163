"""Helpers shared by the baseline methods: task, target, seeded estimators."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.utils import check_random_state

from featimp._validation import check_X_y, encode_target, infer_task

#: Constructor arguments of the default boosted models: small and single
#: threaded, so that several run side by side under joblib without
#: oversubscribing the cores.
BOOSTER_DEFAULTS = {
    "xgboost": {"n_estimators": 200, "max_depth": 4, "learning_rate": 0.1,
                "tree_method": "hist", "n_jobs": 1},
    "lightgbm": {"n_estimators": 200, "num_leaves": 15, "learning_rate": 0.1,
                 "n_jobs": 1, "verbose": -1},
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


def prepare(X, y, task: str, *, allow_categorical: bool = False):
    """Validated float ``X``, encoded ``y`` and the resolved task.

    Tree models may take categorical DataFrame columns as integer codes.
    """
    X, y, _ = check_X_y(X, y, allow_categorical=allow_categorical)
    task = infer_task(y, task)
    y, _ = encode_target(y, task)
    return X, y, task


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
            xgboost.XGBClassifier if task == "classification"
            else xgboost.XGBRegressor
        )
    else:
        lightgbm = import_optional("lightgbm", "boost")
        cls = (
            lightgbm.LGBMClassifier if task == "classification"
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
    wrong = is_regressor(estimator) if task == "classification" else is_classifier(
        estimator
    )
    if wrong:
        raise ValueError(
            f"estimator={type(estimator).__name__}() does not fit the task "
            f"({task}); pass a {expected}"
        )
