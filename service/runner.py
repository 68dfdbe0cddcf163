"""Runs jobs: with :mod:`service.recourse`, the only code that imports featimp.

The web process calls :func:`validate_job` before it accepts a job and
:func:`method_catalog` to list methods; the executors call :func:`run_job` in
a worker process (or on a Dask worker), which reads the dataset, fits the
registry's selector, and writes the result beside the SQLite database.

What a method reads is decided by its input tags (``MethodSpec.input_tags``),
so a job with text or missing feature values starts whenever the method
accepts them. Warnings raised during a job (such as columns that cannot be
used, which score 0) are kept on the job, one message each.
"""

from __future__ import annotations

import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.feather as feather
import pyarrow.parquet as pq

from featimp.methods import (
    SELECTION_PARAMETERS,
    TASKS,
    UNSUPERVISED,
    InputColumn,
    all_methods,
    get_method,
    infer_task,
)
from service import job_warnings, recourse
from service.diskspace import HOW_TO_FREE, is_disk_full, release_reserve
from service.schemas import MAX_JOB_WARNINGS
from service.store import Store
from service.store import jobs as job_store
from service.store import selectors as selector_store
from service.store.datasets import DatasetRecord
from service.store.db import new_id, redact_paths
from service.store.selectors import SelectorRecord

log = logging.getLogger("service.runner")

_NUMERIC_PREFIXES = ("int", "uint", "float", "double", "halffloat", "bool", "decimal")
_TEXT_TYPES = ("string", "large_string", "string_view")


class JobRejected(ValueError):
    """A job request that cannot run; ``field`` names the field at fault."""

    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field
        self.detail = detail


class JobStopped(Exception):
    """The job was canceled (or failed by a restart) while it ran."""


def available_methods() -> list:
    """The registered methods whose code imports (optional extras may be missing)."""
    available = []
    for spec in all_methods():
        try:
            spec.selector_class()
        except ImportError as exc:
            log.warning("method %s is not available: %s", spec.name, exc)
            continue
        available.append(spec)
    return available


def method_catalog() -> list[dict]:
    """Every available method with its tasks and parameters."""
    return [spec.to_dict() for spec in available_methods()]


def method_names() -> list[str]:
    return [spec.name for spec in available_methods()]


def validate_job(*, store: Store, dataset: DatasetRecord, request: dict) -> None:
    """Check a job request against the registry (or the recourse rules) and
    the dataset.

    Builds the selector with the registry's ``make_selector``, so a job is
    only accepted when it would start. Raises :class:`JobRejected`.
    """
    if request["type"] == "responsiveness":
        try:
            recourse.validate(store=store, dataset=dataset, request=request)
        except recourse.Rejected as exc:
            raise JobRejected(exc.field, exc.detail) from None
        return
    try:
        spec = get_method(request["method"])
        spec.selector_class()
    except (ValueError, ImportError) as exc:
        raise JobRejected("method", str(exc)) from None
    features = _check_columns(dataset, request, spec)
    if request.get("target") is not None:
        _check_task(store, dataset, request, spec)
    _check_params(spec, request.get("params") or {}, n_features=len(features))


def read_dataset(store: Store, dataset_id: str, columns=None) -> pd.DataFrame:
    """A stored dataset (memory-mapped Arrow) as a DataFrame."""
    path = store.path("datasets", dataset_id)
    return feather.read_table(path, columns=columns, memory_map=True).to_pandas()


def read_X_y(store: Store, dataset_id: str, request: dict):
    """The features and target of a job; only those columns leave Arrow.

    Selecting before ``to_pandas`` spares a copy of the whole table.
    """
    table = feather.read_table(store.path("datasets", dataset_id), memory_map=True)
    target = request.get("target")
    features = request.get("features") or [c for c in table.column_names if c != target]
    X = table.select(features).to_pandas()
    y = None if target is None else table.column(target).to_pandas()
    return X, y


def _check_columns(dataset: DatasetRecord, request: dict, spec) -> list[str]:
    columns = {c["name"]: c for c in dataset.columns}
    target = request.get("target")
    if target is None and not spec.supports(UNSUPERVISED):
        raise JobRejected(
            "target", f"method {spec.name!r} is supervised: give a target column"
        )
    if target is not None and target not in columns:
        shown = ", ".join(list(columns)[:20])
        raise JobRejected(
            "target",
            f"target column {target!r} is not in the dataset; its columns are: {shown}",
        )
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


def column_kind(dtype: str) -> str:
    """The :class:`~featimp.methods.InputColumn` kind of an Arrow type name."""
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


def _check_task(store: Store, dataset: DatasetRecord, request: dict, spec) -> None:
    requested = requested_task(request)
    y = read_dataset(store, dataset.id, columns=[request["target"]]).iloc[:, 0]
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


@dataclass
class _Progress:
    """Reports progress; raises JobStopped once the job is no longer ours."""

    store: Store
    job_id: str
    lease: str

    def __call__(self, fraction: float, stage: str) -> None:
        if not job_store.report_progress(
            store=self.store,
            job_id=self.job_id,
            lease=self.lease,
            progress=fraction,
            stage=stage,
        ):
            raise JobStopped(self.job_id)


def run_job(
    job_id: str,
    data_dir: str,
    lease: str,
    executor: str = "local",
    *,
    store: Store | None = None,
    claimed: bool = False,
    memory_limit: int | None = None,
    database_url: str | None = None,
    replica: str | None = None,
) -> str:
    """Run one job to its end and record the outcome; returns the final status.

    Every error of the job is recorded on it as problem details, never
    raised: a bad job cannot take its worker down. Only when even that
    record cannot be written (a full disk) does the error go to the caller.
    A worker that runs many jobs passes its open ``store`` (else the one of
    ``data_dir`` and ``database_url`` is used, which the service made); a
    ``claimed`` job was started under ``lease`` by the executor already,
    else it is started here, held by ``replica``.
    ``memory_limit`` (bytes) is named when the job runs out of memory.
    """
    store = store or Store(Path(data_dir), database_url)
    job = _take(store, job_id, lease, executor, claimed, replica)
    if job is None:
        return "skipped"
    started = time.perf_counter()
    try:
        with job_warnings.capture() as caught:
            result_rows, selector_id = _fit_and_write(
                store, job, _Progress(store, job_id, lease)
            )
    except JobStopped:
        return "canceled"
    except Exception as exc:
        error = job_problem(exc, store.data_dir, memory_limit=memory_limit)
        job_store.fail_job(store=store, job_id=job_id, lease=lease, error=error)
        return "failed"
    job_store.finish_job(
        store=store,
        job_id=job_id,
        lease=lease,
        result_rows=result_rows,
        selector_id=selector_id,
        warnings=warning_messages(caught),
    )
    log.info("job %s done in %.3fs", job_id, time.perf_counter() - started)
    return "succeeded"


def _take(store: Store, job_id: str, lease: str, executor: str, claimed, replica):
    """The job, started under ``lease`` (or checked to run under it); None
    if it is no longer ours to run."""
    if not claimed and not job_store.start_job(
        store=store, job_id=job_id, lease=lease, executor=executor, replica=replica
    ):
        return None
    job = job_store.get_job(store=store, job_id=job_id)
    if job is None or job.status != "running" or job.lease != lease:
        return None
    return job


def run_job_on_dask(
    job_id: str,
    data_dir: str,
    lease: str,
    replica: str | None = None,
    database_url: str | None = None,
) -> str:
    """:func:`run_job` on a Dask worker; joblib work inside goes to the cluster."""
    with joblib.parallel_config(backend="dask"):
        return run_job(
            job_id,
            data_dir,
            lease,
            executor="dask",
            database_url=database_url,
            replica=replica,
        )


def job_problem(
    exc: BaseException, data_dir: Path, *, memory_limit: int | None = None
) -> dict:
    """The problem details a job failed with."""
    if is_disk_full(exc):
        # Let the outcome of this job, and deletes, be written.
        release_reserve(data_dir)
        return {
            "type": "about:blank",
            "title": "Job failed: disk full",
            "status": 507,
            "detail": "no space left on the disk of the service while the job "
            f"ran; {HOW_TO_FREE}, then submit the job again",
        }
    if isinstance(exc, MemoryError):
        limit = (
            f"the memory limit of {memory_limit // 1024**2} MiB (FEATIMP_JOB_MEMORY_MB)"
            if memory_limit
            else "the memory of the service"
        )
        return {
            "type": "about:blank",
            "title": "Job failed: memory limit exceeded",
            "status": 422,
            "detail": f"the job exceeded {limit}; give it fewer rows or "
            "features, or lighter parameters",
        }
    # A message naming a file (a dataset deleted under the job, say) must not
    # show where the service keeps its files.
    message = redact_paths(" ".join(str(exc).split()), data_dir)
    if isinstance(exc, ValueError | TypeError):
        return {
            "type": "about:blank",
            "title": "Job failed: invalid input",
            "status": 422,
            "detail": message,
        }
    log.error("job failed", exc_info=exc)
    return {
        "type": "about:blank",
        "title": "Job failed",
        "status": 500,
        "detail": f"{type(exc).__name__}: {message}",
    }


def warning_messages(caught: list[warnings.WarningMessage]) -> list[str]:
    """One line per distinct warning, after its category unless plain.

    A method fitted on several folds or resamples warns on each: the job
    keeps the message once, and at most :data:`MAX_JOB_WARNINGS` of them.
    """
    lines = []
    for record in caught:
        message = " ".join(str(record.message).split())
        if record.category is not UserWarning:
            message = f"{record.category.__name__}: {message}"
        lines.append(message)
    lines = list(dict.fromkeys(lines))
    if len(lines) > MAX_JOB_WARNINGS:
        more = len(lines) - MAX_JOB_WARNINGS + 1
        lines = [*lines[: MAX_JOB_WARNINGS - 1], f"... and {more} more warning(s)"]
    return lines


def selector_params(spec, request: dict, y) -> dict:
    """The job's params, plus its resolved task for methods that take one."""
    params = dict(request.get("params") or {})
    if y is not None and "task" in spec.parameters() and "task" not in params:
        params["task"] = infer_task(y.to_numpy(), requested_task(request))
    return params


def _fit_and_write(store: Store, job, progress) -> tuple[int, str | None]:
    if job.type == "responsiveness":
        table = recourse.run(store, job, progress)
        _write_parquet_atomic(table, store.path("results", job.id))
        return len(table), None
    request = job.request
    progress(0.05, "loading data")
    X, y = read_X_y(store, job.dataset_id, request)
    features = list(X.columns)
    spec = get_method(request["method"])
    selector = spec.make_selector(**selector_params(spec, request, y))
    progress(0.15, f"fitting {spec.name} on {X.shape[0]} x {X.shape[1]}")
    selector.fit(X, y)
    progress(0.9, "writing result")
    table = ranking_table(selector, features)
    _write_parquet_atomic(table, store.path("results", job.id))
    selector_id = None
    if job.type == "select":
        selector_id = _store_selector(store, job, selector, features)
    return len(table), selector_id


def ranking_table(selector, features: list[str]) -> pd.DataFrame:
    """One row per feature, best first: rank, feature, importance, selected."""
    table = pd.DataFrame(
        {
            "rank": np.asarray(selector.ranking_, dtype=np.int64),
            "feature": [str(f) for f in features],
            "importance": np.asarray(selector.importances_, dtype=float),
            "selected": np.asarray(selector.get_support(), dtype=bool),
        }
    )
    return table.sort_values("rank", kind="stable").reset_index(drop=True)


def _write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    tmp = path.with_suffix(".partial")
    try:
        pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), tmp)
        tmp.replace(path)
    finally:  # a full disk leaves no half-written file behind
        tmp.unlink(missing_ok=True)


def _store_selector(store: Store, job, selector, features: list[str]) -> str:
    selector_id = new_id()
    path = store.path("selectors", selector_id)
    tmp = path.with_suffix(".partial")
    try:
        joblib.dump(selector, tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    support = selector.get_support()
    selector_store.create_selector(
        store=store,
        selector_id=selector_id,
        owner=job.owner,
        job_id=job.id,
        method=job.request["method"],
        params=job.request.get("params") or {},
        features_in=features,
        selected=[f for f, keep in zip(features, support, strict=True) if keep],
    )
    return selector_id


def transform_dataset(
    *, store: Store, selector: SelectorRecord, dataset: DatasetRecord
) -> pd.DataFrame:
    """The dataset reduced by a fitted selector; its columns must match."""
    missing = [f for f in selector.features_in if f not in dataset.column_names]
    if missing:
        raise JobRejected(
            "dataset_id",
            f"the dataset lacks column(s) the selector was fitted on: "
            f"{', '.join(map(repr, missing[:20]))}",
        )
    fitted = joblib.load(store.path("selectors", selector.id))
    table = feather.read_table(
        store.path("datasets", dataset.id),
        columns=selector.features_in,
        memory_map=True,
    )
    # Arrow-backed columns keep the stored types through the selector (a
    # DataFrame comes back as its selected columns) into the CSV or Parquet
    # written: text stays text, an integer column with gaps stays integer.
    return fitted.transform(table.to_pandas(types_mapper=pd.ArrowDtype))


def featimp_version() -> str:
    import featimp

    return featimp.__version__
