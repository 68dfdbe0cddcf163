"""The SQLite store on a temporary file: ownership, job states, leases, recovery."""

import threading

import pytest

from service.store import datasets as ds
from service.store import jobs as js
from service.store import open_store

COLUMNS = [{"name": "a", "dtype": "int64", "n_missing": 0}]


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


def _job(store, owner="alice", key=None):
    job, created = js.create_job(
        store=store,
        owner=owner,
        job_type="rank",
        dataset_id="d" * 32,
        request={"method": "mi"},
        idempotency_key=key,
        request_hash="h",
    )
    return job, created


def test_datasets_are_seen_only_by_their_owner(store):
    record = ds.create_dataset(
        store=store,
        dataset_id="a" * 32,
        owner="alice",
        name="x.csv",
        fmt="csv",
        size_bytes=10,
        n_rows=3,
        columns=COLUMNS,
    )
    assert ds.get_dataset(store=store, owner="alice", dataset_id=record.id) == record
    assert ds.get_dataset(store=store, owner="bob", dataset_id=record.id) is None
    assert ds.list_datasets(store=store, owner="bob", limit=10) == ([], 0)
    assert not ds.delete_dataset(store=store, owner="bob", dataset_id=record.id)
    assert ds.delete_dataset(store=store, owner="alice", dataset_id=record.id)


def test_paths_come_only_from_generated_ids(store):
    assert store.path("results", "0" * 32).parent == store.data_dir / "results"
    for bad in ("../../etc/passwd", "A" * 32, "0" * 31, "x"):
        with pytest.raises(ValueError, match="invalid"):
            store.path("datasets", bad)


def test_job_lifecycle_under_a_lease(store):
    job, created = _job(store)
    assert created and job.status == "queued"
    assert js.start_job(store=store, job_id=job.id, lease="L1", executor="local")
    assert not js.start_job(store=store, job_id=job.id, lease="L2", executor="local")
    assert js.report_progress(
        store=store, job_id=job.id, lease="L1", progress=0.5, stage="fitting"
    )
    assert not js.report_progress(
        store=store, job_id=job.id, lease="L2", progress=0.6, stage="x"
    )
    assert js.finish_job(store=store, job_id=job.id, lease="L1", result_rows=4)
    done = js.get_job(store=store, job_id=job.id)
    assert (done.status, done.progress, done.result_rows) == ("succeeded", 1.0, 4)


def test_canceled_job_ignores_its_worker(store):
    job, _ = _job(store)
    js.start_job(store=store, job_id=job.id, lease="L", executor="local")
    assert js.cancel_job(store=store, owner="alice", job_id=job.id).status == "canceled"
    assert not js.report_progress(
        store=store, job_id=job.id, lease="L", progress=1, stage="x"
    )
    assert not js.finish_job(store=store, job_id=job.id, lease="L", result_rows=1)
    assert js.get_job(store=store, job_id=job.id).status == "canceled"


def test_idempotency_key_returns_the_same_job_per_owner(store):
    first, created = _job(store, key="k1")
    again, created_again = _job(store, key="k1")
    other, created_other = _job(store, owner="bob", key="k1")
    assert created and not created_again and created_other
    assert again.id == first.id != other.id


def test_recover_fails_running_jobs_and_keeps_queued_ones(store):
    running, _ = _job(store)
    queued, _ = _job(store)
    js.start_job(store=store, job_id=running.id, lease="L", executor="local")
    failed, requeued = js.recover_jobs(store=store)
    assert (failed, requeued) == ([running.id], [queued.id])
    job = js.get_job(store=store, job_id=running.id)
    assert job.status == "failed" and "stopped" in job.error["detail"]
    # A worker that outlived the restart cannot overwrite the verdict.
    assert not js.finish_job(store=store, job_id=running.id, lease="L", result_rows=1)


def test_store_uses_wal(store):
    with store.connect() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL


def test_each_thread_keeps_one_connection(store):
    with store.connect() as first, store.connect() as again:
        assert first is again
    seen = []

    def other():
        with store.connect() as conn:
            seen.append(conn)
        store.close()

    thread = threading.Thread(target=other)
    thread.start()
    thread.join()
    assert seen and seen[0] is not first


def test_job_warnings_are_kept_and_older_stores_gain_the_column(store):
    job, _ = _job(store)
    js.start_job(store=store, job_id=job.id, lease="L", executor="local")
    js.finish_job(
        store=store, job_id=job.id, lease="L", result_rows=1, warnings=["w1", "w2"]
    )
    assert js.get_job(store=store, job_id=job.id).warnings == ["w1", "w2"]

    # A store made before job warnings existed.
    with store.connect() as conn:
        conn.execute("ALTER TABLE jobs DROP COLUMN warnings")
    store.close()
    reopened = open_store(store.data_dir)
    assert js.get_job(store=reopened, job_id=job.id).warnings == []
    assert _job(reopened)[0].warnings == []
