"""Responsiveness jobs: which rows could change their prediction, and how.

With :mod:`service.runner`, the only code of the service that imports
featimp. :func:`validate` checks a request before it is accepted (the action
set, the columns, the model, the rows); :func:`run` trains or loads the
model, picks the rows and writes one result row per explained row: its
position in the rows' dataset, the model's prediction, the fixed flag, the
size of the reachable set, and one responsiveness score per feature.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.feather as feather
from sklearn.linear_model import LogisticRegression

from featimp.recourse import ActionSet, ResponsivenessExplainer
from service.model_files import import_booster, load_model
from service.store import Store
from service.store import datasets as dataset_store
from service.store import models as model_store
from service.store.datasets import DatasetRecord

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
_NUMERIC_PREFIXES = ("int", "uint", "float", "double", "bool")


class Rejected(ValueError):
    """A request that cannot run; ``field`` names the field at fault."""

    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field
        self.detail = detail


def validate(*, store: Store, dataset: DatasetRecord, request: dict) -> None:
    """Check a responsiveness request; raises :class:`Rejected`."""
    action_set = parse_action_set(request["action_set"])
    names = action_set.names
    _check_names(names, request.get("target"))
    rows = _rows_dataset(store, dataset, request)
    _check_columns(rows, names, "dataset_id" if rows is dataset else "rows.dataset_id")
    _check_rows(store, rows, action_set)
    _check_explainer(action_set, request.get("params") or {})
    model = request["model"]
    if model.get("model_id"):
        _check_uploaded(store, dataset.owner, model["model_id"], names, request)
    else:
        if rows is not dataset:  # the training data needs the features too
            _check_columns(dataset, names, "dataset_id")
        _check_training(store, dataset, request)


def parse_action_set(data) -> ActionSet:
    """``ActionSet.from_dict``, with errors that name the entry at fault."""
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise Rejected(
            "action_set",
            "the action set must be ActionSet.to_dict() output: an object "
            "with a 'features' list (and optionally 'constraints')",
        )
    constraints = data.get("constraints") or []
    if not isinstance(constraints, list):
        raise Rejected("action_set.constraints", "constraints must be a list")
    features = data["features"]
    if not features:
        raise Rejected("action_set.features", "the action set has no features")
    for i, item in enumerate(features):
        _parse_part({"features": [item]}, f"action_set.features[{i}]", item)
    _parse_part({"features": features}, "action_set.features", None)
    for k, item in enumerate(constraints):
        _parse_part(
            {"features": features, "constraints": [item]},
            f"action_set.constraints[{k}]",
            item,
        )
    return _parse_part(data, "action_set", None)


def _parse_part(data: dict, field: str, item) -> ActionSet:
    label = ""
    if isinstance(item, dict) and "name" in item:
        label = f" (feature {item['name']!r})"
    elif isinstance(item, dict) and "kind" in item:
        label = f" ({item['kind']} over {item.get('names')})"
    try:
        return ActionSet.from_dict(data)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        reason = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
        raise Rejected(field, f"invalid entry{label}: {reason}") from None


def _check_names(names: list[str], target: str | None) -> None:
    reserved = [n for n in names if n in RESULT_COLUMNS]
    if reserved:
        raise Rejected(
            "action_set.features",
            f"feature name(s) {reserved} clash with the result columns "
            f"{list(RESULT_COLUMNS)}; rename them",
        )
    if target is not None and target in names:
        raise Rejected(
            "target", f"the target column {target!r} is a feature of the action set"
        )


def _rows_dataset(store, dataset: DatasetRecord, request: dict) -> DatasetRecord:
    rows_id = (request.get("rows") or {}).get("dataset_id")
    if not rows_id or rows_id == dataset.id:
        return dataset
    rows = dataset_store.get_dataset(
        store=store, owner=dataset.owner, dataset_id=rows_id
    )
    if rows is None:
        raise Rejected("rows.dataset_id", f"no dataset with id {rows_id!r}")
    return rows


def _check_columns(dataset: DatasetRecord, names: list[str], field: str) -> None:
    columns = {c["name"]: c for c in dataset.columns}
    missing = [n for n in names if n not in columns]
    if missing:
        raise Rejected(
            field,
            f"the dataset lacks action-set feature(s) "
            f"{', '.join(map(repr, missing[:20]))}",
        )
    text = [n for n in names if not columns[n]["dtype"].startswith(_NUMERIC_PREFIXES)]
    holes = [n for n in names if columns[n]["n_missing"]]
    if text or holes:
        bad = ", ".join(map(repr, (text or holes)[:8]))
        what = "are not numeric" if text else "have missing values"
        raise Rejected(field, f"feature column(s) {bad} {what}")


def _check_rows(store: Store, rows: DatasetRecord, action_set: ActionSet) -> None:
    """The rows to explain must lie within the action set, named if not."""
    X = read_columns(store, rows.id, action_set.names)
    violations = action_set.validate(X)
    if violations.empty:
        return
    head = violations.head(5)
    listed = "; ".join(
        f"row {r}: {check} ({detail})"
        for r, check, detail in head.itertuples(index=False)
    )
    more = len(violations) - len(head)
    raise Rejected(
        "action_set",
        f"{violations['row'].nunique()} row(s) of dataset {rows.id} violate "
        f"the action set (rows count from 0): {listed}"
        f"{f'; ... {more} more' if more > 0 else ''}",
    )


def _check_explainer(action_set: ActionSet, params: dict) -> None:
    for name in params:
        if name not in EXPLAINER_PARAMETERS:
            raise Rejected(
                f"params.{name}",
                f"unknown explainer parameter {name!r}; the parameters are: "
                f"{', '.join(EXPLAINER_PARAMETERS)}",
            )
    for name, value in params.items():
        try:
            explainer = ResponsivenessExplainer(None, action_set, **{name: value})
            explainer._validate_params()
        except (ValueError, TypeError) as exc:
            raise Rejected(f"params.{name}", str(exc)) from None


def _check_uploaded(store, owner: str, model_id: str, names, request) -> None:
    record = model_store.get_model(store=store, owner=owner, model_id=model_id)
    if record is None:
        raise Rejected("model.model_id", f"no model with id {model_id!r}")
    if record.feature_names is not None and set(record.feature_names) != set(names):
        missing = sorted(set(record.feature_names) - set(names))
        extra = sorted(set(names) - set(record.feature_names))
        raise Rejected(
            "model.model_id",
            f"the model's features differ from the action set's: the action "
            f"set lacks {missing[:10]} and has extra {extra[:10]}",
        )
    if record.n_features != len(names):
        raise Rejected(
            "model.model_id",
            f"the model takes {record.n_features} features, the action set "
            f"has {len(names)}",
        )
    desired = request.get("desired", 1)
    if isinstance(desired, bool) or desired not in range(record.n_classes):
        raise Rejected(
            "desired",
            f"an uploaded model predicts the classes 0..{record.n_classes - 1}; "
            f"got desired={desired!r}",
        )


def _check_training(store, dataset: DatasetRecord, request: dict) -> None:
    target = request.get("target")
    columns = {c["name"]: c for c in dataset.columns}
    if target is None:
        raise Rejected("target", "give the label column to train the model on")
    if target not in columns:
        raise Rejected(
            "target",
            f"target column {target!r} is not in the dataset; its columns are: "
            f"{', '.join(list(columns)[:20])}",
        )
    if columns[target]["n_missing"]:
        raise Rejected("target", f"target column {target!r} has missing values")
    labels = np.unique(read_columns(store, dataset.id, [target])[target].to_numpy())
    if len(labels) < 2:
        raise Rejected("target", f"target column {target!r} has only one class")
    model = request["model"]
    consecutive = np.array_equal(labels, np.arange(len(labels)))
    if model["type"] == "xgboost" and not consecutive:
        raise Rejected(
            "target",
            f"XGBoost needs labels 0..k-1; {target!r} has {labels.tolist()[:10]}",
        )
    if request.get("desired", 1) not in labels.tolist():
        raise Rejected(
            "desired",
            f"desired={request.get('desired', 1)!r} is not a label of {target!r}; "
            f"its labels are {labels.tolist()[:20]}",
        )
    _check_model_params(model["type"], model.get("params") or {})


def _check_model_params(kind: str, params: dict) -> None:
    for name, value in params.items():
        try:
            estimator = make_estimator(kind, {name: value})
        except TypeError as exc:
            raise Rejected(f"model.params.{name}", str(exc)) from None
        except ImportError as exc:
            raise Rejected("model.type", str(exc)) from None
        if name not in make_estimator(kind, {}).get_params():
            raise Rejected(
                f"model.params.{name}",
                f"{type(estimator).__name__} has no parameter {name!r}",
            )
        if hasattr(estimator, "_parameter_constraints"):  # sklearn's own
            try:
                estimator._validate_params()
            except (ValueError, TypeError) as exc:
                raise Rejected(f"model.params.{name}", str(exc)) from None


def make_estimator(kind: str, params: dict):
    """An unfitted classifier of ``kind`` (xgboost/lightgbm load lazily)."""
    if kind == "logistic_regression":
        return LogisticRegression(**params)
    if kind == "xgboost":
        return import_booster("xgboost").XGBClassifier(**params)
    if kind == "lightgbm":
        return import_booster("lightgbm").LGBMClassifier(**{"verbose": -1, **params})
    raise ValueError(f"unknown model type {kind!r}")


def read_columns(store: Store, dataset_id: str, columns: list[str]) -> pd.DataFrame:
    path = store.path("datasets", dataset_id)
    return feather.read_table(path, columns=columns, memory_map=True).to_pandas()


def run(store: Store, job, progress) -> pd.DataFrame:
    """Train or load the model, pick the rows, explain them: the result table."""
    request = job.request
    action_set = parse_action_set(request["action_set"])
    names = action_set.names
    progress(0.05, "loading the model")
    model = _fitted_model(store, job, names)
    rows_id = (request.get("rows") or {}).get("dataset_id") or job.dataset_id
    X = read_columns(store, rows_id, names)
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
        model, action_set, target=request.get("desired", 1),
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
    frame = read_columns(store, job.dataset_id, [*names, target])
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
