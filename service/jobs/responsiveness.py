"""Responsiveness jobs: which rows could change their prediction, and how.

:func:`run` trains or loads the model, picks the rows and explains them: one
result row per explained row, with its position in the rows' dataset, the
model's prediction, the fixed flag, the size of the reachable set, and one
responsiveness score per feature. The request was checked before it was
queued (:mod:`service.jobs.validate`).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from featimp.recourse import ActionSet, ResponsivenessExplainer
from service.model_files import import_booster, load_model
from service.store import Store
from service.store import models as model_store
from service.store.files import read_frame

#: Result columns before the per-feature scores; no feature may take them.
RESULT_COLUMNS = ("row", "prediction", "fixed", "n_reachable")
EXPLAINER_PARAMETERS = (
    "method",
    "n_samples",
    "random_state",
    "certify",
    "max_joint",
    "n_jobs",
    "rule",
)


def make_estimator(kind: str, params: dict):
    """An unfitted classifier of ``kind`` (xgboost/lightgbm load lazily)."""
    if kind == "logistic_regression":
        return LogisticRegression(**params)
    if kind == "xgboost":
        return import_booster("xgboost").XGBClassifier(**params)
    if kind == "lightgbm":
        return import_booster("lightgbm").LGBMClassifier(**{"verbose": -1, **params})
    raise ValueError(f"unknown model type {kind!r}")


def run(store: Store, job, progress) -> pd.DataFrame:
    """Train or load the model, pick the rows, explain them: the result table."""
    request = job.request
    action_set = ActionSet.from_dict(request["action_set"])
    names = action_set.names
    progress(0.05, "loading the model")
    model = _fitted_model(store, job, names)
    rows_id = (request.get("rows") or {}).get("dataset_id") or job.dataset_id
    X = read_frame(store, rows_id, names)
    predictions = predict(model, X)
    keep = _row_filter(request, predictions)
    if not keep.any():
        raise ValueError(
            f"no rows to explain: filter {request['rows']['filter']!r} keeps none "
            f"of the {len(X)} rows (the model predicts "
            f"{np.unique(predictions).tolist()})"
        )
    X = X[keep]
    progress(0.2, f"scoring {len(X)} rows x {len(names)} features")
    explainer = ResponsivenessExplainer(
        model,
        action_set,
        target=request.get("desired", 1),
        **(request.get("params") or {}),
    )
    result = explainer.explain(X)
    progress(0.9, "writing result")
    return result_table(result, predictions[keep])


def _fitted_model(store: Store, job, names: list[str]):
    spec = job.request["model"]
    if spec.get("model_id"):
        record = model_store.get_model(
            store=store, owner=job.owner, model_id=spec["model_id"]
        )
        if record is None:
            raise ValueError(f"model {spec['model_id']!r} was deleted")
        return load_model(store.path("models", record.id), record.format)
    target = job.request["target"]
    frame = read_frame(store, job.dataset_id, [*names, target])
    estimator = make_estimator(spec["type"], spec.get("params") or {})
    return estimator.fit(frame[names], frame[target])


def predict(model, X: pd.DataFrame) -> np.ndarray:
    """Predictions on ``X``, with columns in the order the model was fitted."""
    order = getattr(model, "feature_names_in_", None)
    return np.asarray(model.predict(X if order is None else X[list(order)]))


def _row_filter(request: dict, predictions: np.ndarray) -> np.ndarray:
    kind = (request.get("rows") or {}).get("filter", "denied")
    desired = predictions == request.get("desired", 1)
    if kind == "denied":
        return ~desired
    if kind == "approved":
        return desired
    return np.ones(len(predictions), dtype=bool)


def result_table(result, predictions: np.ndarray) -> pd.DataFrame:
    """One row per explained row: row, prediction, fixed, n_reachable, scores."""
    scores = result.scores
    head = pd.DataFrame(
        {
            "row": np.asarray(scores.index, dtype=np.int64),
            "prediction": predictions,
            "fixed": result.fixed.to_numpy(),
            "n_reachable": result.n_reachable.to_numpy(dtype=float),
        }
    ).astype({"fixed": "boolean"})
    return pd.concat([head, scores.reset_index(drop=True)], axis=1)
