"""The local executor: long-lived workers, replaced when canceled or retired."""

import time

import pytest

from featimp.datasets import load_dataset
from service.executors import LocalProcessExecutor
from service.store import jobs as js
from service.store import open_store
from tests.service.conftest import wait_in_store
from tests.service.test_jobs import add_dataset

SLOW = {"estimator": "knn", "discrete_features": False, "random_state": 0}


def _submit(store, executor, dataset, params):
    job, _ = js.create_job(
        store=store,
        owner="alice",
        job_type="rank",
        dataset_id=dataset.id,
        request={
            "type": "rank",
            "dataset_id": dataset.id,
            "target": "target",
            "method": "mi",
            "params": params,
            "task": "auto",
            "features": None,
        },
    )
    executor.submit(job.id)
    return job.id


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


def test_cancel_replaces_the_worker_and_later_jobs_run(store):
    X, y = load_dataset("taiwan_credit")
    slow_data = add_dataset(store, X.assign(target=y))
    X, y = load_dataset("wine")
    wine = add_dataset(store, X.assign(target=y))
    executor = LocalProcessExecutor(store=store, workers=1, max_jobs_per_worker=2)
    try:
        slow = _submit(store, executor, slow_data, SLOW)
        wait_in_store(store, slow, until=("running",))
        after = [_submit(store, executor, wine, {"random_state": s}) for s in range(3)]
        js.cancel_job(store=store, owner="alice", job_id=slow)
        executor.cancel(slow)
        jobs = [wait_in_store(store, job_id) for job_id in after]
        deadline = time.monotonic() + 30
        (slot,) = executor._slots
        while slot.job is not None and time.monotonic() < deadline:
            time.sleep(0.02)
        idle = slot.worker
    finally:
        executor.shutdown()
    assert js.get_job(store=store, job_id=slow).status == "canceled"
    assert [j.status for j in jobs] == ["succeeded"] * 3
    # The canceled job's worker was replaced; its successor retired after two
    # jobs, so the third ran on a third worker.
    assert idle.jobs == 1
