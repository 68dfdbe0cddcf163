"""Responsiveness jobs: which rows could change their prediction, and how.

:func:`run` trains or loads the model, picks the rows and explains them: one
result row per explained row, with its position in the rows' dataset, the
model's prediction, its status, the fixed flag, the size of the reachable
set, and one responsiveness score per feature; and the per-applicant report
(``featimp.recourse.report/1``, as ``featimp explain --report`` writes it),
which the report endpoint serves as JSON or HTML. Rows come in the action
set's :attr:`~featimp.recourse.ActionSet.input_names`: the user's own columns
for an action set made from a mixed table (``featimp action-set init``),
encoded as the action set says, or its features. The request was checked
before it was queued (:mod:`service.jobs.validate`).
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from featimp.recourse import (
    ActionSet,
    ResponsivenessExplainer,
    report_html,
    result_table,
    select_rows,
)
from service.jobs.progress import following
from service.model_files import import_booster, load_model
from service.store import Store
from service.store import models as model_store
from service.store.files import read_frame

EXPLAINER_PARAMETERS = (
    "method",
    "n_samples",
    "random_state",
    "certify",
    "max_joint",
    "n_jobs",
    "rule",
    "n_actions",
)
#: Reasons per applicant in the report unless the request's ``n_reasons``.
N_REASONS = 4


def make_estimator(kind: str, params: dict):
    """An unfitted classifier of ``kind`` (xgboost/lightgbm load lazily)."""
    if kind == "logistic_regression":
        return LogisticRegression(**params)
    if kind == "xgboost":
        return import_booster("xgboost").XGBClassifier(**params)
    if kind == "lightgbm":
        return import_booster("lightgbm").LGBMClassifier(**{"verbose": -1, **params})
    raise ValueError(f"unknown model type {kind!r}")


def run(store: Store, job, progress) -> tuple[pd.DataFrame, dict]:
    """Train or load the model, pick the rows, explain them: the result
    table and the report."""
    request = job.request
    action_set = ActionSet.from_dict(request["action_set"])
    progress(0.05, "loading the model")
    model = _fitted_model(store, job, action_set)
    rows_id = (request.get("rows") or {}).get("dataset_id") or job.dataset_id
    X = read_frame(store, rows_id, action_set.input_names)
    target = request.get("desired", 1)
    kind = (request.get("rows") or {}).get("filter", "denied")
    predictions, keep = select_rows(model, action_set, X, rows=kind, target=target)
    if not keep.any():
        raise ValueError(
            f"no rows to explain: filter {kind!r} keeps none "
            f"of the {len(X)} rows (the model predicts "
            f"{np.unique(predictions).tolist()})"
        )
    X = X[keep]
    label = f"explaining {len(X)} rows x {len(action_set)} features"
    progress(0.2, label)
    explainer = ResponsivenessExplainer(
        model, action_set, target=target, **(request.get("params") or {})
    )
    with following(progress, 0.2, 0.75, label):
        result = explainer.explain(X)
    n_reasons = request.get("n_reasons", N_REASONS)
    with following(progress, 0.75, 0.9, "options and reasons of each row"):
        report = json.loads(result.to_json(n_reasons=n_reasons))
    progress(0.9, "writing result")
    return result_table(result, predictions[keep]), report


def _fitted_model(store: Store, job, action_set: ActionSet):
    spec = job.request["model"]
    if spec.get("model_id"):
        record = model_store.get_model(
            store=store, owner=job.owner, model_id=spec["model_id"]
        )
        if record is None:
            raise ValueError(f"model {spec['model_id']!r} was deleted")
        return load_model(store.path("models", record.id), record.format)
    target = job.request["target"]
    columns = action_set.input_names
    frame = read_frame(store, job.dataset_id, [*columns, target])
    estimator = make_estimator(spec["type"], spec.get("params") or {})
    encoded = action_set.encode(frame[columns])
    if spec["type"] != "logistic_regression":
        # The boosters refuse the names of one-hot columns of text values
        # ("checking=... < 0 DM": LightGBM rejects JSON characters, XGBoost
        # "<"); the action set's column order is all the explainer needs.
        encoded = encoded.to_numpy(dtype=float)
    try:
        return estimator.fit(encoded, frame[target])
    except (ValueError, TypeError, MemoryError):
        raise
    except Exception as exc:  # a booster's own error: the request's fault
        message = " ".join(str(exc).split())
        raise ValueError(
            f"training the {spec['type']} model failed: {type(exc).__name__}: {message}"
        ) from exc


def read_report(store: Store, job_id: str) -> dict:
    """The stored report of a succeeded responsiveness job (FileNotFoundError
    if the job was deleted)."""
    return json.loads(store.path("reports", job_id).read_text())


def report_page(data: dict, *, title: str, row: str | None = None) -> str:
    """The report (or one applicant's part, ``row``) as a static HTML page;
    a row the report does not hold is a ValueError naming it."""
    return report_html(data, title=title, row=row)
