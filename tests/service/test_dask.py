"""Jobs on a real Dask LocalCluster give the same results as in-process runs."""

import time

import pandas as pd
import pytest

from featimp.datasets import load_dataset
from service.executors import DaskExecutor
from service.jobs import run_job, validate_job
from service.store import jobs as js
from service.store import open_store
from tests.service.test_jobs import add_dataset
from tests.service.test_jobs import request as rank_request

distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=2,
        processes=False,
        dashboard_address=None,
    ) as cluster:
        yield cluster


def _wait(store, job_id, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = js.get_job(store=store, job_id=job_id)
        if job.status in js.FINISHED:
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} is still {job.status}")


def _cancer_job(store, kind, method, params):
    """A breast-cancer dataset in ``store`` and a job request on it."""
    X, y = load_dataset("breast_cancer")
    dataset = add_dataset(store, X.assign(target=y))
    return dataset, rank_request(
        dataset, type=kind, target="target", method=method, params=params
    )


def test_jobs_on_a_local_cluster_match_local_runs(tmp_path, cluster):
    store = open_store(tmp_path / "data")
    dataset, request = _cancer_job(
        store, "select", "mrmr", {"n_features_to_select": 5, "random_state": 0}
    )
    executor = DaskExecutor(store=store, address=cluster.scheduler_address, workers=1)
    try:
        on_dask = [
            js.create_job(
                store=store,
                owner="a",
                job_type="select",
                dataset_id=dataset.id,
                request=request,
            )[0]
            for _ in range(3)
        ]
        for job in on_dask:
            executor.submit(job.id)
        finished = [_wait(store, job.id) for job in on_dask]
    finally:
        executor.shutdown()
    assert [(j.status, j.executor) for j in finished] == [("succeeded", "dask")] * 3

    local, _ = js.create_job(
        store=store,
        owner="a",
        job_type="select",
        dataset_id=dataset.id,
        request=request,
    )
    assert run_job(local.id, str(store.data_dir), "L") == "succeeded"
    expected = pd.read_parquet(store.path("results", local.id))
    for job in finished:
        pd.testing.assert_frame_equal(
            pd.read_parquet(store.path("results", job.id)), expected
        )


def test_responsiveness_job_on_a_local_cluster_matches_a_local_run(tmp_path, cluster):
    from featimp.datasets._recourse import load_german_recourse
    from featimp.recourse import german_action_set

    store = open_store(tmp_path / "data")
    X, y = load_german_recourse()
    dataset = add_dataset(store, X.assign(good=y))
    rows = add_dataset(store, X.iloc[:40])
    request = {
        "type": "responsiveness",
        "dataset_id": dataset.id,
        "target": "good",
        "action_set": german_action_set(X).to_dict(),
        "model": {"type": "logistic_regression", "params": {"max_iter": 2000}},
        "rows": {"dataset_id": rows.id, "filter": "all"},
        "desired": 1,
        "params": {"n_jobs": 2},
    }
    validate_job(store=store, dataset=dataset, request=request)
    jobs = [
        js.create_job(
            store=store,
            owner="a",
            job_type="responsiveness",
            dataset_id=dataset.id,
            request=request,
        )[0]
        for _ in range(2)
    ]
    executor = DaskExecutor(store=store, address=cluster.scheduler_address, workers=1)
    try:
        executor.submit(jobs[0].id)
        on_dask = _wait(store, jobs[0].id)
    finally:
        executor.shutdown()
    assert (on_dask.status, on_dask.executor) == ("succeeded", "dask"), on_dask.error
    assert run_job(jobs[1].id, str(store.data_dir), "L") == "succeeded"
    pd.testing.assert_frame_equal(
        pd.read_parquet(store.path("results", jobs[0].id)),
        pd.read_parquet(store.path("results", jobs[1].id)),
    )


def test_workers_get_the_database_url_from_a_plugin(cluster):
    """A PostgreSQL URL (with its password) reaches the workers once, in a
    plugin; a task names it by digest, and the plugin never prints it."""
    from service.dask_secrets import DatabaseURL, database_url, digest

    url = "postgresql://featimp:s3cret@db.example/featimp"
    plugin = DatabaseURL(url)
    assert "s3cret" not in repr(plugin) and plugin.key == digest(url)
    with distributed.Client(cluster.scheduler_address, set_as_default=False) as client:
        client.register_plugin(plugin)
        assert client.submit(database_url, plugin.key, pure=False).result() == url
        assert client.submit(database_url, None, pure=False).result() is None
        with pytest.raises(RuntimeError, match="no database URL"):
            client.submit(database_url, "0" * 16, pure=False).result()


def test_jobs_on_dask_carry_no_database_url(tmp_path, cluster, postgres_url):
    store = open_store(tmp_path / "data", database_url=postgres_url)
    dataset, request = _cancer_job(store, "rank", "mi", {"random_state": 0})
    executor = DaskExecutor(store=store, address=cluster.scheduler_address, workers=1)
    submitted = []
    submit = executor._client.submit
    executor._client.submit = lambda *a, **k: (
        submitted.append((a, k)) or submit(*a, **k)
    )
    try:
        job, _ = js.create_job(
            store=store,
            owner="a",
            job_type="rank",
            dataset_id=dataset.id,
            request=request,
        )
        executor.submit(job.id)
        assert _wait(store, job.id).status == "succeeded"
    finally:
        executor.shutdown()
    assert submitted
    assert all(postgres_url not in repr((a, k)) for a, k in submitted)
