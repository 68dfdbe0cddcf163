"""Fitted selectors are unpickled and applied in a worker process, never in
the web process (service.transforms)."""

from __future__ import annotations

import os
import time

import joblib
import numpy as np
import pandas as pd
import pytest

from service.store import open_store
from service.store import selectors as selector_store
from service.store.db import new_id
from service.transforms import TransformFailed, TransformPool, TransformRejected
from tests.service.test_jobs import add_dataset


class PidSelector:
    """Keeps the columns it was given and adds the pid that transformed them."""

    def transform(self, X):
        return X.assign(pid=os.getpid())


class CrashingSelector:
    def transform(self, X):
        os._exit(7)


class HangingSelector:
    def transform(self, X):
        time.sleep(600)  # blocked: no CPU limit would end it
        return X


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


@pytest.fixture
def dataset(store):
    rng = np.random.default_rng(0)
    return add_dataset(
        store, pd.DataFrame(rng.normal(size=(20, 2)), columns=["a", "b"])
    )


@pytest.fixture(scope="module")
def pool():
    pool = TransformPool(workers=1)
    yield pool
    pool.shutdown()


def _selector(store, fitted, features=("a", "b")):
    selector_id = new_id()
    joblib.dump(fitted, store.path("selectors", selector_id))
    return selector_store.create_selector(
        store=store,
        selector_id=selector_id,
        owner="alice",
        job_id=new_id(),
        method="mi",
        params={},
        features_in=list(features),
        selected=list(features),
    )


def test_the_selector_is_loaded_and_applied_in_another_process(store, dataset, pool):
    selector = _selector(store, PidSelector())
    path = pool.transform(store=store, selector=selector, dataset=dataset, fmt="csv")
    frame = pd.read_csv(path)
    assert list(frame.columns) == ["a", "b", "pid"] and len(frame) == 20
    assert frame.pid.nunique() == 1 and frame.pid[0] != os.getpid()
    again = pool.transform(
        store=store, selector=selector, dataset=dataset, fmt="parquet"
    )
    assert pd.read_parquet(again).pid[0] == frame.pid[0]  # a warm worker


def test_missing_columns_and_deleted_files(store, dataset, pool):
    before = set((store.data_dir / "tmp").iterdir())
    selector = _selector(store, PidSelector(), features=("a", "zzz"))
    with pytest.raises(TransformRejected, match="zzz") as info:
        pool.transform(store=store, selector=selector, dataset=dataset, fmt="csv")
    assert info.value.field == "dataset_id"
    gone = _selector(store, PidSelector())
    store.path("selectors", gone.id).unlink()
    with pytest.raises(FileNotFoundError):
        pool.transform(store=store, selector=gone, dataset=dataset, fmt="csv")
    assert set((store.data_dir / "tmp").iterdir()) == before  # no output left


def test_a_worker_that_dies_fails_only_its_transform(store, dataset, pool):
    with pytest.raises(TransformFailed):
        pool.transform(
            store=store,
            selector=_selector(store, CrashingSelector()),
            dataset=dataset,
            fmt="csv",
        )
    path = pool.transform(
        store=store,
        selector=_selector(store, PidSelector()),
        dataset=dataset,
        fmt="csv",
    )
    assert pd.read_csv(path).pid[0] != os.getpid()


def test_a_transform_past_the_job_deadline_is_stopped(store, dataset):
    hung = TransformPool(workers=1, seconds=1)
    try:
        start = time.monotonic()
        with pytest.raises(TransformFailed, match="1 s job deadline"):
            hung.transform(
                store=store,
                selector=_selector(store, HangingSelector()),
                dataset=dataset,
                fmt="csv",
            )
        assert time.monotonic() - start < 60
        # The next transform gets a fresh worker.
        path = hung.transform(
            store=store,
            selector=_selector(store, PidSelector()),
            dataset=dataset,
            fmt="csv",
        )
        assert len(pd.read_csv(path)) == 20
    finally:
        hung.shutdown()
