"""Rank and select jobs: fit the registry's selector, rank the features.

A ``select`` job also keeps its fitted selector (joblib, beside the
database) for :func:`transform_dataset`, which reduces another dataset with
it. What a method reads is decided by its input tags, so a job with text or
missing feature values starts whenever the method accepts them.
"""

from __future__ import annotations

import warnings
from contextlib import contextmanager

import joblib
import pandas as pd

from featimp import rank_dataset
from featimp.methods import get_method, infer_task
from service.jobs.progress import following
from service.jobs.validate import JobRejected, requested_task, stream_params
from service.references import check_unchanged, shown_paths
from service.store import Store
from service.store import selectors as selector_store
from service.store.datasets import DatasetRecord
from service.store.db import new_id
from service.store.files import read_frame
from service.store.selectors import SelectorRecord


def read_X_y(store: Store, dataset_id: str, request: dict):
    """The features and target of a job; only those columns leave Arrow."""
    features, target = request.get("features"), request.get("target")
    columns = [*features, target] if features and target is not None else features
    X = read_frame(store, dataset_id, columns or None)
    y = None if target is None else X.pop(target)
    return X, y


def selector_params(spec, request: dict, y) -> dict:
    """The job's params, plus its resolved task for methods that take one."""
    params = dict(request.get("params") or {})
    if y is not None and "task" in spec.parameters() and "task" not in params:
        params["task"] = infer_task(y.to_numpy(), requested_task(request))
    return params


def fit(store: Store, job, progress) -> tuple[object, list[str]]:
    """The job's selector, fitted on its dataset, and the features it saw."""
    request = job.request
    progress(0.05, "loading data")
    X, y = read_X_y(store, job.dataset_id, request)
    features = list(X.columns)
    spec = get_method(request["method"])
    selector = spec.make_selector(**selector_params(spec, request, y))
    label = f"fitting {spec.name} on {X.shape[0]} x {X.shape[1]}"
    progress(0.15, label)
    with following(progress, 0.15, 0.9, label):
        selector.fit(X, y)
    progress(0.9, "writing result")
    return selector, features


def rank_streamed(job, dataset: DatasetRecord, progress, executor: str):
    """The ranking table of a rank job on a dataset registered by reference:
    :func:`featimp.rank_dataset` over its files, in batches. On a Dask
    worker the counting passes fan out over the cluster, one task per file
    (from this task, through ``distributed.worker_client``)."""
    reference = dataset.reference
    request = job.request
    label = f"streaming {request['method']} over {len(reference['files'])} file(s)"
    progress(0.05, label)
    try:
        files = check_unchanged(reference)
        with _cluster(executor) as client, following(progress, 0.05, 0.95, label):
            table = rank_dataset(
                files,
                request["target"],
                method=request["method"],
                client=client,
                features=request.get("features") or None,
                **stream_params(request),
            )
    except (ValueError, TypeError) as exc:
        # Name the user's files by their path under the root, never where
        # the operator mounted them.
        raise type(exc)(shown_paths(str(exc), reference)) from None
    progress(0.95, "writing result")
    for column, rate in table.attrs["hashed"].items():
        warnings.warn(
            f"column {column!r} has more distinct values than max_categories "
            f"and was hashed (collision rate {rate:.2%})",
            stacklevel=2,
        )
    return table


@contextmanager
def _cluster(executor: str):
    """A client of the job's Dask cluster when the job runs on one."""
    if executor != "dask":
        yield None
        return
    from distributed import worker_client

    with worker_client() as client:
        yield client


def store_selector(store: Store, job, selector, features: list[str]) -> str:
    """Keep a select job's fitted selector; returns its id."""
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
    if dataset.streamed:
        raise JobRejected(
            "dataset_id",
            f"dataset {dataset.id} is registered by reference and is streamed: "
            "a selector cannot transform it (upload the rows to transform)",
        )
    missing = [f for f in selector.features_in if f not in dataset.column_names]
    if missing:
        raise JobRejected(
            "dataset_id",
            f"the dataset lacks column(s) the selector was fitted on: "
            f"{', '.join(map(repr, missing[:20]))}",
        )
    fitted = joblib.load(store.path("selectors", selector.id))
    # Arrow-backed columns keep the stored types through the selector (a
    # DataFrame comes back as its selected columns) into the CSV or Parquet
    # written: text stays text, an integer column with gaps stays integer.
    frame = read_frame(store, dataset.id, selector.features_in, arrow_dtypes=True)
    return fitted.transform(frame)
