"""The checks a job request passes before it is queued.

:func:`validate_job` checks a rank or select request against the registry
(building the selector with the registry's ``make_selector``, so a job is
only accepted when it would start) and a responsiveness request against the
recourse rules (the action set, the columns, the model, the rows). Either
raises :class:`JobRejected`, naming the field at fault.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from featimp.methods import (
    SELECTION_PARAMETERS,
    TASKS,
    UNSUPERVISED,
    InputColumn,
    get_method,
    infer_task,
    method_names,
)
from featimp.recourse import RESULT_COLUMNS, ActionSet, ResponsivenessExplainer
from service.jobs.responsiveness import EXPLAINER_PARAMETERS, make_estimator
from service.store import Store
from service.store import datasets as dataset_store
from service.store import models as model_store
from service.store.datasets import DatasetRecord
from service.store.files import read_frame

_NUMERIC_PREFIXES = ("int", "uint", "float", "double", "halffloat", "bool", "decimal")
_TEXT_TYPES = ("string", "large_string", "string_view")


class JobRejected(ValueError):
    """A job request that cannot run; ``field`` names the field at fault."""

    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field
        self.detail = detail


def validate_job(*, store: Store, dataset: DatasetRecord, request: dict) -> None:
    """Check a job request against the registry (or the recourse rules) and
    the dataset; raises :class:`JobRejected`."""
    if dataset.streamed:
        _validate_streamed(dataset, request)
        return
    if request["type"] == "responsiveness":
        _validate_responsiveness(store=store, dataset=dataset, request=request)
        return
    spec = _method(request)
    features = _check_columns(dataset, request, spec)
    if request.get("target") is not None:
        _check_task(store, dataset, request, spec)
    _check_params(spec, request.get("params") or {}, n_features=len(features))


def _method(request: dict):
    try:
        spec = get_method(request["method"])
        spec.selector_class()
    except (ValueError, ImportError) as exc:
        raise JobRejected("method", str(exc)) from None
    return spec


def _validate_streamed(dataset: DatasetRecord, request: dict) -> None:
    """A job on a dataset registered by reference: a rank job of a method
    that streams, ranking its ``features`` (every column by default) against
    a target, with parameters :func:`featimp.rank_dataset` takes (and the
    selection parameters)."""
    if request["type"] != "rank":
        raise JobRejected(
            "type",
            f"dataset {dataset.id} is registered by reference and is streamed: "
            f"it can be ranked (type 'rank'), not used by a {request['type']!r} "
            "job, which needs its rows in memory",
        )
    spec = _method(request)
    if not spec.streams:
        streaming = [n for n in method_names() if get_method(n).streams]
        raise JobRejected(
            "method",
            f"method {spec.name!r} does not stream, and dataset {dataset.id} is "
            f"registered by reference; the methods that stream: "
            f"{', '.join(streaming)}",
        )
    columns = {c["name"]: c for c in dataset.columns}
    target = request.get("target")
    if target is None:
        raise JobRejected("target", "a streamed ranking needs a target column")
    if target not in columns:
        raise _unknown_target(target, columns)
    if columns[target]["n_missing"]:
        raise JobRejected(
            "target",
            f"target column {target!r} has "
            f"{columns[target]['n_missing']} missing value(s)",
        )
    features = _feature_names(dataset, request)
    unknown = [f for f in features if f not in columns or f == target]
    if unknown or not features or len(set(features)) < len(features):
        raise JobRejected(
            "features",
            "features must be distinct columns of the dataset other than the "
            f"target; not usable: {', '.join(map(repr, unknown or features))}",
        )
    try:
        spec.check_stream_params(stream_params(request), n_features=len(features))
    except (ValueError, TypeError) as exc:
        raise JobRejected("params", str(exc)) from None


def stream_params(request: dict) -> dict:
    """A streamed job's ``params``, with its ``task`` when one is set."""
    params = dict(request.get("params") or {})
    task = requested_task(request)
    if task != "auto":
        params["task"] = task
    return params


def column_kind(dtype: str) -> str:
    """The :class:`~featimp.methods.InputColumn` kind of an Arrow type name.

    Examples
    --------
    >>> [column_kind(t) for t in ("halffloat", "decimal128(10, 2)", "large_string")]
    ['numeric', 'numeric', 'string']
    """
    if dtype.startswith(_NUMERIC_PREFIXES):
        return "numeric"
    if dtype.startswith("dictionary"):
        return "categorical"
    return "string" if dtype in _TEXT_TYPES else "other"


def requested_task(request: dict) -> str:
    """The job's ``task``, or ``params.task`` when ``task`` is left on auto."""
    task = request.get("task", "auto")
    given = (request.get("params") or {}).get("task")
    if task == "auto":
        return given if given in TASKS else "auto"
    if given is not None and given != task:
        raise JobRejected(
            "params.task", f"params.task={given!r} conflicts with task={task!r}"
        )
    return task


def _check_columns(dataset: DatasetRecord, request: dict, spec) -> list[str]:
    columns = {c["name"]: c for c in dataset.columns}
    target = request.get("target")
    if target is None and not spec.supports(UNSUPERVISED):
        raise JobRejected(
            "target", f"method {spec.name!r} is supervised: give a target column"
        )
    if target is not None and target not in columns:
        raise _unknown_target(target, columns)
    if target is not None and columns[target]["n_missing"]:
        raise JobRejected(
            "target",
            f"target column {target!r} has "
            f"{columns[target]['n_missing']} missing value(s)",
        )
    features = _feature_names(dataset, request)
    unknown = [f for f in features if f not in columns]
    if unknown or target in features or not features:
        raise JobRejected(
            "features",
            "features must be columns of the dataset other than the "
            f"target; not usable: {', '.join(map(repr, unknown or [target]))}",
        )
    _check_feature_types([columns[f] for f in features], spec)
    return features


def _unknown_target(target: str, columns: dict) -> JobRejected:
    shown = ", ".join(list(columns)[:20])
    return JobRejected(
        "target",
        f"target column {target!r} is not in the dataset; its columns are: {shown}",
    )


def _check_feature_types(columns: list[dict], spec) -> None:
    """Refuse the columns the method's input tags do not accept."""
    try:
        spec.check_input(
            [
                InputColumn(c["name"], column_kind(c["dtype"]), c["n_missing"])
                for c in columns
            ]
        )
    except ValueError as exc:
        raise JobRejected("features", f"{exc} (see 'features')") from None


def _check_task(store: Store, dataset: DatasetRecord, request: dict, spec) -> None:
    requested = requested_task(request)
    y = read_frame(store, dataset.id, [request["target"]]).iloc[:, 0]
    try:
        task = infer_task(y.to_numpy(), requested)
    except ValueError as exc:
        raise JobRejected("task", str(exc)) from None
    if task == "regression" and not pd.api.types.is_numeric_dtype(y):
        raise JobRejected(
            "task",
            f"target column {request['target']!r} is not numeric: it "
            "cannot be a regression target",
        )
    if not spec.supports(task):
        raise JobRejected(
            "method",
            f"method {spec.name!r} does not support {task} "
            f"(it supports: {', '.join(spec.tasks)})",
        )


def _check_params(spec, params: dict, *, n_features: int) -> None:
    known = spec.parameters()
    for name, value in params.items():
        if name not in known:
            raise JobRejected(
                f"params.{name}",
                f"method {spec.name!r} has no parameter {name!r}; "
                f"its parameters are: {', '.join(sorted(known))}",
            )
        try:
            spec.make_selector(**{name: value})
        except (ValueError, TypeError) as exc:
            raise JobRejected(f"params.{name}", str(exc)) from None
    try:
        spec.make_selector(**params)
    except (ValueError, TypeError) as exc:
        raise JobRejected("params", str(exc)) from None
    k = params.get(SELECTION_PARAMETERS[0])
    if isinstance(k, int) and not isinstance(k, bool) and k > n_features:
        raise JobRejected(
            f"params.{SELECTION_PARAMETERS[0]}",
            f"n_features_to_select={k} is larger than the number of features "
            f"({n_features})",
        )


def _feature_names(dataset: DatasetRecord, request: dict) -> list[str]:
    if request.get("features"):
        return list(request["features"])
    return [n for n in dataset.column_names if n != request.get("target")]


def _validate_responsiveness(
    *, store: Store, dataset: DatasetRecord, request: dict
) -> None:
    action_set = parse_action_set(request["action_set"])
    names = action_set.names
    _check_names(names, action_set.input_names, request.get("target"))
    rows = _rows_dataset(store, dataset, request)
    rows_field = "dataset_id" if rows is dataset else "rows.dataset_id"
    _check_model_columns(rows, action_set, rows_field)
    _check_rows(store, rows, action_set, rows_field)
    _check_explainer(action_set, request.get("params") or {})
    model = request["model"]
    if model.get("model_id"):
        _check_uploaded(store, dataset.owner, model["model_id"], names, request)
    else:
        if rows is not dataset:  # the training data needs the features too
            _check_model_columns(dataset, action_set, "dataset_id")
            _check_rows(store, dataset, action_set, "dataset_id", encode_only=True)
        _check_training(store, dataset, request)


def parse_action_set(data) -> ActionSet:
    """``ActionSet.from_dict``, with errors that name the entry at fault."""
    if not isinstance(data, dict) or not isinstance(data.get("features"), list):
        raise JobRejected(
            "action_set",
            "the action set must be ActionSet.to_dict() output: an object "
            "with a 'features' list (and optionally 'constraints')",
        )
    constraints = data.get("constraints") or []
    if not isinstance(constraints, list):
        raise JobRejected("action_set.constraints", "constraints must be a list")
    features = data["features"]
    if not features:
        raise JobRejected("action_set.features", "the action set has no features")
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
        raise JobRejected(field, f"invalid entry{label}: {reason}") from None


def _check_names(names: list[str], inputs: list[str], target: str | None) -> None:
    reserved = [n for n in names if n in RESULT_COLUMNS]
    if reserved:
        raise JobRejected(
            "action_set.features",
            f"feature name(s) {reserved} clash with the result columns "
            f"{list(RESULT_COLUMNS)}; rename them",
        )
    if target is not None and target in {*names, *inputs}:
        raise JobRejected(
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
        raise JobRejected("rows.dataset_id", f"no dataset with id {rows_id!r}")
    if rows.streamed:
        raise JobRejected(
            "rows.dataset_id",
            f"dataset {rows_id} is registered by reference and is streamed; "
            "the rows to explain must be an uploaded dataset",
        )
    return rows


def _model_reads(dtype: str) -> bool:
    """Whether every model kind takes the column: numeric to
    :func:`column_kind`, but not decimal. A selector encodes decimals itself;
    pandas hands them to a model as ``Decimal`` objects, which XGBoost and
    LightGBM refuse."""
    return column_kind(dtype) == "numeric" and not dtype.startswith("decimal")


def _check_model_columns(
    dataset: DatasetRecord, action_set: ActionSet, field: str
) -> None:
    """The dataset has the action set's input columns; without raw columns
    (which the action set encodes itself) they must be complete numbers."""
    names = action_set.input_names
    columns = {c["name"]: c for c in dataset.columns}
    missing = [n for n in names if n not in columns]
    if missing:
        what = "column(s)" if action_set.raw_columns else "feature(s)"
        raise JobRejected(
            field,
            f"the dataset lacks action-set {what} {', '.join(map(repr, missing[:20]))}",
        )
    if action_set.raw_columns:
        return
    text = [n for n in names if not _model_reads(columns[n]["dtype"])]
    holes = [n for n in names if columns[n]["n_missing"]]
    if text or holes:
        bad = ", ".join(map(repr, (text or holes)[:8]))
        what = "are not numeric (int, float or bool)" if text else "have missing values"
        raise JobRejected(field, f"feature column(s) {bad} {what}")


def _check_rows(
    store: Store,
    rows: DatasetRecord,
    action_set: ActionSet,
    field: str,
    *,
    encode_only: bool = False,
) -> None:
    """The rows must encode (raw columns: known categories, missing values
    only where the action set saw them) and lie within the action set,
    named if not; ``encode_only`` checks just the encoding (training data)."""
    X = read_frame(store, rows.id, action_set.input_names)
    try:
        X = action_set.encode(X)
    except ValueError as exc:
        raise JobRejected(field, f"dataset {rows.id}: {exc}") from None
    if encode_only:
        return
    violations = action_set.validate(X)
    if violations.empty:
        return
    head = violations.head(5)
    listed = "; ".join(
        f"row {r}: {check} ({detail})"
        for r, check, detail in head.itertuples(index=False)
    )
    more = len(violations) - len(head)
    raise JobRejected(
        "action_set",
        f"{violations['row'].nunique()} row(s) of dataset {rows.id} violate "
        f"the action set (rows count from 0): {listed}"
        f"{f'; ... {more} more' if more > 0 else ''}",
    )


def _check_explainer(action_set: ActionSet, params: dict) -> None:
    for name in params:
        if name not in EXPLAINER_PARAMETERS:
            raise JobRejected(
                f"params.{name}",
                f"unknown explainer parameter {name!r}; the parameters are: "
                f"{', '.join(EXPLAINER_PARAMETERS)}",
            )
    for name, value in params.items():
        try:
            explainer = ResponsivenessExplainer(None, action_set, **{name: value})
            explainer._validate_params()
        except (ValueError, TypeError) as exc:
            raise JobRejected(f"params.{name}", str(exc)) from None


def _check_uploaded(store, owner: str, model_id: str, names, request) -> None:
    record = model_store.get_model(store=store, owner=owner, model_id=model_id)
    if record is None:
        raise JobRejected("model.model_id", f"no model with id {model_id!r}")
    if record.feature_names is not None and set(record.feature_names) != set(names):
        missing = sorted(set(record.feature_names) - set(names))
        extra = sorted(set(names) - set(record.feature_names))
        raise JobRejected(
            "model.model_id",
            f"the model's features differ from the action set's: the action "
            f"set lacks {missing[:10]} and has extra {extra[:10]}",
        )
    if record.n_features != len(names):
        raise JobRejected(
            "model.model_id",
            f"the model takes {record.n_features} features, the action set "
            f"has {len(names)}",
        )
    desired = request.get("desired", 1)
    if isinstance(desired, bool) or desired not in range(record.n_classes):
        raise JobRejected(
            "desired",
            f"an uploaded model predicts the classes 0..{record.n_classes - 1}; "
            f"got desired={desired!r}",
        )


def _check_training(store, dataset: DatasetRecord, request: dict) -> None:
    target = request.get("target")
    columns = {c["name"]: c for c in dataset.columns}
    if target is None:
        raise JobRejected("target", "give the label column to train the model on")
    if target not in columns:
        raise _unknown_target(target, columns)
    if columns[target]["n_missing"]:
        raise JobRejected("target", f"target column {target!r} has missing values")
    labels = np.unique(read_frame(store, dataset.id, [target])[target].to_numpy())
    if len(labels) < 2:
        raise JobRejected("target", f"target column {target!r} has only one class")
    model = request["model"]
    consecutive = np.array_equal(labels, np.arange(len(labels)))
    if model["type"] == "xgboost" and not consecutive:
        raise JobRejected(
            "target",
            f"XGBoost needs labels 0..k-1; {target!r} has {labels.tolist()[:10]}",
        )
    if request.get("desired", 1) not in labels.tolist():
        raise JobRejected(
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
            raise JobRejected(f"model.params.{name}", str(exc)) from None
        except ImportError as exc:
            raise JobRejected("model.type", str(exc)) from None
        if name not in make_estimator(kind, {}).get_params():
            raise JobRejected(
                f"model.params.{name}",
                f"{type(estimator).__name__} has no parameter {name!r}",
            )
        if hasattr(estimator, "_parameter_constraints"):  # sklearn's own
            try:
                estimator._validate_params()
            except (ValueError, TypeError) as exc:
                raise JobRejected(f"model.params.{name}", str(exc)) from None
    _check_model_values(kind, params)


#: Boosting rounds and iterations the trial fit of a model's values keeps.
_TRIAL_ROUNDS = ("n_estimators", "max_iter", "num_iterations", "num_boost_round")


def _check_model_values(kind: str, params: dict) -> None:
    """Fit the model on 40 synthetic rows: a value the library refuses only
    when it trains (LightGBM's ``num_leaves=-3``, XGBoost's
    ``max_depth="deep"``) is a 422 now, not a failed job later. Rounds are
    cut to 3 (a positive count stays positive), so the trial is quick."""
    trial = dict(params)
    for name in _TRIAL_ROUNDS:
        value = trial.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 3:
            trial[name] = 3
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    y = np.tile([0, 1], 20)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            make_estimator(kind, trial).fit(X, y)
    except Exception as exc:  # whatever the library raises for a bad value
        message = " ".join(str(exc).split())[:500]
        raise JobRejected(
            "model.params",
            f"{kind} refused these parameters: {type(exc).__name__}: {message}",
        ) from None
