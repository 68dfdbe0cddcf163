"""Jobs survive what ends workers, and workers come back: crashes, a full
disk, hung jobs, deadlines, memory limits, cancels and shutdowns.

The executor cases run a :class:`LocalProcessExecutor` on a temporary store,
the request cases the app in process (so that a write can be made to fail),
and two cases the real server: on a small tmpfs that really fills up (where
unprivileged user namespaces allow one), and stopped with SIGTERM.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import time

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from featimp.datasets import load_dataset
from service import executors
from service.config import Settings
from service.diskspace import reserve_path
from service.executors import JobLimits, LocalProcessExecutor
from service.jobs import run as job_run
from service.main import create_app
from service.scheduling import FairQueue
from service.store import StorageFull, open_store
from service.store import jobs as js
from service.store.datasets import create_dataset
from service.store.db import new_id
from service.tables import describe_and_store
from tests.service.conftest import (
    SLOW_JOB_PARAMS,
    Server,
    assert_problem,
    run_job,
    upload_frame,
    wait_for_job,
    wait_in_store,
)
from tests.service.test_jobs import request as rank_request

#: About a second on breast_cancer.
QUICK = {"stability": 200, "random_state": 0}
ENOSPC = OSError(errno.ENOSPC, "No space left on device")
DISK_FULL = StorageFull("database or disk is full")


def _add(store, frame: pd.DataFrame, owner="alice"):
    upload = store.temp_path(".csv")
    frame.to_csv(upload, index=False)
    dataset_id = new_id()
    table = describe_and_store(
        upload, store.path("datasets", dataset_id), max_rows=10**6, max_columns=10**4
    )
    upload.unlink()
    return create_dataset(
        store=store,
        dataset_id=dataset_id,
        owner=owner,
        name="t.csv",
        fmt="csv",
        size_bytes=1,
        n_rows=table.n_rows,
        columns=table.columns,
    )


def _frame(name: str) -> pd.DataFrame:
    X, y = load_dataset(name)
    return X.assign(target=y)


def _create(store, dataset, params, *, owner="alice", method="mi") -> str:
    request = rank_request(dataset, target="target", method=method, params=params)
    job, _ = js.create_job(
        store=store,
        owner=owner,
        job_type="rank",
        dataset_id=dataset.id,
        request=request,
    )
    return job.id


def _submit(store, executor, dataset, params, **kwargs) -> str:
    job_id = _create(store, dataset, params, **kwargs)
    executor.submit(job_id)
    return job_id


def _eventually(condition, timeout=30):
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def _pid_of(executor, job_id) -> int:
    def slot():
        return next(
            (s for s in executor._slots if s.job and s.job.job_id == job_id), None
        )

    _eventually(lambda: slot() is not None)
    return slot().worker.process.pid


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


@pytest.fixture
def wine(store):
    return _add(store, _frame("wine"))


@pytest.fixture
def taiwan(store):
    return _add(store, _frame("taiwan_credit"))


# -- workers come back ----------------------------------------------------------


def test_killed_workers_are_replaced_even_when_the_disk_is_full(
    store, wine, taiwan, monkeypatch
):
    # Both workers die while the disk is full, so that their jobs' failure
    # cannot be written at first: the pool kept no worker and the jobs stayed
    # running for ever.
    real_fail, tries = js.fail_job, []

    def full_at_first(**kwargs):
        tries.append(kwargs["job_id"])
        if len(tries) <= 2:
            raise DISK_FULL
        return real_fail(**kwargs)

    monkeypatch.setattr(js, "fail_job", full_at_first)
    executor = LocalProcessExecutor(store=store, workers=2)
    try:
        jobs = [_submit(store, executor, taiwan, SLOW_JOB_PARAMS) for _ in range(2)]
        pids = [_pid_of(executor, job_id) for job_id in jobs]
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        ended = [wait_in_store(store, job_id) for job_id in jobs]
        _eventually(lambda: executor.capacity().workers_alive == 2)
        later = wait_in_store(
            store, _submit(store, executor, wine, {"random_state": 0})
        )
        new_pids = [slot.worker.process.pid for slot in executor._slots]
    finally:
        executor.shutdown()
    assert [j.status for j in ended] == ["failed", "failed"]
    assert all("killed by SIGKILL" in j.error["detail"] for j in ended)
    assert len(tries) > 2 and later.status == "succeeded"
    assert not set(pids) & set(new_pids)


def test_a_worker_the_os_refuses_is_started_again(store, wine, monkeypatch):
    monkeypatch.setattr(executors, "_BACKOFF_SECONDS", (0.05, 0.2))
    real_worker, refused = executors._Worker, []

    class Refused(real_worker):
        def __init__(self, *args, **kwargs):
            if len(refused) < 3:
                refused.append(1)
                raise ENOSPC
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(executors, "_Worker", Refused)
    executor = LocalProcessExecutor(store=store, workers=1)
    try:
        job = wait_in_store(store, _submit(store, executor, wine, {"random_state": 0}))
        capacity = executor.capacity()
    finally:
        executor.shutdown()
    assert job.status == "succeeded" and len(refused) == 3
    assert capacity.workers_alive == 1


def test_cancel_kills_a_worker_that_ignores_sigterm(store, wine, taiwan):
    executor = LocalProcessExecutor(
        store=store, workers=2, limits=JobLimits(cancel_grace_seconds=0.3)
    )
    try:
        job_id = _submit(store, executor, taiwan, SLOW_JOB_PARAMS)
        pid = _pid_of(executor, job_id)
        os.kill(pid, signal.SIGSTOP)  # hung: SIGTERM stays pending
        js.cancel_job(store=store, owner="alice", job_id=job_id)
        executor.cancel(job_id)
        _eventually(
            lambda: (
                executor.capacity().workers_alive == 2
                and pid not in [s.worker.process.pid for s in executor._slots]
            ),
            timeout=10,
        )
        later = wait_in_store(
            store, _submit(store, executor, wine, {"random_state": 0})
        )
    finally:
        executor.shutdown()
    assert js.get_job(store=store, job_id=job_id).status == "canceled"
    assert later.status == "succeeded"


# -- limits -----------------------------------------------------------------------


def test_a_job_past_its_deadline_is_stopped_and_failed(store, wine, taiwan):
    limits = JobLimits(deadline_seconds=0.5, cancel_grace_seconds=0.3)
    executor = LocalProcessExecutor(store=store, workers=1, limits=limits)
    try:
        started = time.monotonic()
        job = wait_in_store(store, _submit(store, executor, taiwan, SLOW_JOB_PARAMS))
        took = time.monotonic() - started
        later = wait_in_store(
            store, _submit(store, executor, wine, {"random_state": 0})
        )
    finally:
        executor.shutdown()
    assert job.status == "failed", job
    assert "exceeded its deadline of 0.5 s" in job.error["detail"]
    assert took < 10 and later.status == "succeeded"


def test_a_job_over_its_memory_limit_is_stopped_and_failed(store, wine):
    # A dense 3000 x 3000 affinity matrix, and copies: over 100 MB in a second.
    rng = np.random.default_rng(0)
    wide = pd.DataFrame(rng.normal(size=(60, 3000))).add_prefix("f")
    dataset = _add(store, wide.assign(target=(wide.f0 > 0).astype(int)))
    limits = JobLimits(memory_bytes=64 * 1024**2, cancel_grace_seconds=0.3)
    executor = LocalProcessExecutor(store=store, workers=1, limits=limits)
    try:
        job_id = _submit(store, executor, dataset, {"solver": "dense"}, method="ecfs")
        job = wait_in_store(store, job_id)
        later = wait_in_store(
            store, _submit(store, executor, wine, {"random_state": 0})
        )
    finally:
        executor.shutdown()
    assert job.status == "failed", job
    assert "exceeded the memory limit of 64 MiB" in job.error["detail"]
    assert later.status == "succeeded"


# -- fair turns -------------------------------------------------------------------


@pytest.fixture
def any_store(tmp_path, database_url):
    """A store on either backend, for what runs no job."""
    return open_store(tmp_path / "data", database_url)


def test_keys_take_turns_for_free_workers(any_store):
    store, wine = any_store, _add(any_store, _frame("wine"))
    first = [_create(store, wine, {}, owner="alice") for _ in range(3)]
    bob = _create(store, wine, {}, owner="bob")
    queue = FairQueue(store)
    order = [queue.claim(lease=f"L{i}", executor="local") for i in range(4)]
    # Bob's one job starts second, not behind all of Alice's.
    assert order == [first[0], bob, first[1], first[2]]
    assert queue.claim(lease="L", executor="local") is None


def test_a_key_may_be_held_to_some_running_jobs(any_store):
    store, wine = any_store, _add(any_store, _frame("wine"))
    alice = [_create(store, wine, {}, owner="alice") for _ in range(2)]
    queue = FairQueue(store, max_running_per_owner=1)
    assert queue.claim(lease="L1", executor="local") == alice[0]
    assert queue.claim(lease="L2", executor="local") is None
    js.finish_job(store=store, job_id=alice[0], lease="L1", result_rows=0)
    assert queue.claim(lease="L3", executor="local") == alice[1]


# -- a full disk ------------------------------------------------------------------


def _claimed(store, dataset) -> tuple[str, str]:
    job_id = _create(store, dataset, {"random_state": 0})
    assert js.claim_job(store=store, owner="alice", lease="L", executor="local")
    return job_id, "L"


def test_a_full_disk_fails_the_job_with_a_reason(store, wine, monkeypatch):
    reserve_path(store.data_dir).write_bytes(b"0" * 1024)
    job_id, lease = _claimed(store, wine)
    monkeypatch.setattr(job_run.pq, "write_table", _raise(ENOSPC))
    status = job_run.run_job(
        job_id, str(store.data_dir), lease, store=store, claimed=True
    )
    job = js.get_job(store=store, job_id=job_id)
    assert status == "failed" and job.error["status"] == 507
    assert "no space left on the disk" in job.error["detail"]
    assert "DELETE /v1/datasets/{id}" in job.error["detail"]
    assert not list((store.data_dir / "results").iterdir())  # no partial file
    assert not reserve_path(store.data_dir).exists()  # room to write this


def test_a_worker_that_cannot_write_the_outcome_hands_it_over(store, wine, monkeypatch):
    # It raised, and the worker died with the job left running.
    job_id, lease = _claimed(store, wine)
    monkeypatch.setattr(job_run.pq, "write_table", _raise(ENOSPC))
    monkeypatch.setattr(js, "fail_job", _raise(DISK_FULL))
    status, error = executors._run_one(job_id, store, lease, "local", None)
    assert status == "failed" and error["status"] == 507
    assert js.get_job(store=store, job_id=job_id).status == "running"


def _raise(exc):
    def fail(*args, **kwargs):
        raise exc

    return fail


@pytest.fixture
def app_client(tmp_path):
    settings = Settings(
        data_dir=tmp_path / "data",
        api_keys="k",
        workers=1,
        disk_reserve_bytes=1024**2,
        min_free_disk_bytes=0,
        shutdown_grace_seconds=0,
    )
    with TestClient(create_app(settings), headers={"X-API-Key": "k"}) as client:
        yield client


def _csv(frame: pd.DataFrame) -> dict:
    return {
        "files": {"file": ("t.csv", frame.to_csv(index=False).encode(), "text/csv")}
    }


def test_a_full_disk_is_a_507_and_deletes_still_work(app_client, monkeypatch):
    c, frame = app_client, _frame("wine")
    dataset = c.post("/v1/datasets", **_csv(frame)).json()
    data_dir = c.app.state.store.data_dir
    assert reserve_path(data_dir).exists()

    monkeypatch.setattr("service.api.uploads._Sink.write", _raise(ENOSPC))
    body = assert_problem(c.post("/v1/datasets", **_csv(frame)), 507)
    assert "no space left" in body["detail"] and "DELETE" in body["detail"]
    assert not reserve_path(data_dir).exists()  # released for what follows
    assert not list((data_dir / "tmp").glob("*.upload"))

    monkeypatch.setattr(js, "create_job", _raise(DISK_FULL))
    job = {"dataset_id": dataset["id"], "target": "target", "method": "mi"}
    assert_problem(c.post("/v1/jobs", json=job), 507, contains="no space left")

    # Under the minimum of free space: refused before anything is written.
    c.app.state.settings = c.app.state.settings.model_copy(
        update={"min_free_disk_bytes": 10**18}
    )
    assert_problem(c.post("/v1/datasets", **_csv(frame)), 507, contains="minimum")
    assert_problem(c.post("/v1/jobs", json=job), 507, contains="minimum")
    assert_problem(c.get("/readyz"), 503, contains="disk")
    health = c.get("/healthz")
    assert health.status_code == 200 and health.json()["status"] == "degraded"
    assert c.delete(f"/v1/datasets/{dataset['id']}").status_code == 204


def test_readyz_is_503_while_no_worker_runs(tmp_path, monkeypatch):
    monkeypatch.setattr(executors, "_BACKOFF_SECONDS", (0.05, 0.1))
    monkeypatch.setattr(executors, "_Worker", _raise(ENOSPC))
    settings = Settings(data_dir=tmp_path / "data", api_keys="k", workers=2)
    with TestClient(create_app(settings)) as c:
        health = c.get("/healthz").json()
        assert (health["workers"], health["workers_alive"]) == (2, 0)
        assert health["status"] == "degraded"
        assert_problem(c.get("/readyz"), 503, contains="no worker is running (0 of 2)")
        monkeypatch.undo()
        _eventually(lambda: c.get("/healthz").json()["status"] == "ok")
        assert c.get("/readyz").status_code == 200


# -- the real server ---------------------------------------------------------------


def _tmpfs_works(path) -> bool:
    if not (shutil.which("unshare") and shutil.which("nsenter")):
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$0"', path],
        capture_output=True,
    )
    return probe.returncode == 0


@pytest.fixture
def tmpfs_server(tmp_path):
    """The server on a 16 MiB tmpfs of its own: a disk that really fills."""
    data = tmp_path / "data"
    data.mkdir()
    if not _tmpfs_works(data):
        pytest.skip("no unprivileged user namespaces to mount a tmpfs in")
    mount = 'mount -t tmpfs -o size=16m tmpfs "$0" && exec "$@"'
    srv = Server(
        data,
        env={
            "FEATIMP_DISK_RESERVE_BYTES": str(2 * 1024**2),
            "FEATIMP_MIN_FREE_DISK_BYTES": str(1024**2),
        },
        command_prefix=("unshare", "-rm", "sh", "-c", mount, str(data)),
    ).start()
    yield srv
    srv.stop()


def _in_its_namespace(srv, script: str) -> None:
    enter = (
        "nsenter",
        "-t",
        str(srv.process.pid),
        "-U",
        "-m",
        "--preserve-credentials",
    )
    subprocess.run([*enter, "sh", "-c", script], check=True)


def test_the_disk_fills_up_while_jobs_run(tmpfs_server):
    srv, filler = tmpfs_server, tmpfs_server.data_dir / "filler"
    with srv.client() as c:
        _eventually(lambda: c.get("/readyz").status_code == 200)
        data = upload_frame(c, _frame("breast_cancer"))
        spare = upload_frame(c, _frame("wine"))
        body = {"dataset_id": data["id"], "target": "target", "method": "mi"}
        jobs = [c.post("/v1/jobs", json={**body, "params": QUICK}).json() for _ in "ab"]
        for job in jobs:
            wait_for_job(c, job["id"], until=("running",))
        _in_its_namespace(srv, f"cat /dev/zero > {filler} 2>/dev/null || true")

        ended = [wait_for_job(c, job["id"], timeout=60) for job in jobs]
        failed = [j for j in ended if j["status"] == "failed"]
        # The first job to write found no space; the reserve it freed may
        # have let the other one write its result.
        assert failed and {j["status"] for j in ended} <= {"failed", "succeeded"}
        assert all("no space left on the disk" in j["error"]["detail"] for j in failed)
        health = c.get("/healthz").json()
        assert health["workers_alive"] == 2 and health["status"] == "degraded"
        assert_problem(c.get("/readyz"), 503, contains="disk")
        response = c.post("/v1/datasets", content=b"a,b\n1,2\n", headers=_CSV)
        assert_problem(response, 507, contains="DELETE /v1/datasets/{id}")
        assert_problem(c.post("/v1/jobs", json=body), 507)
        assert c.delete(f"/v1/datasets/{spare['id']}").status_code == 204

        _in_its_namespace(srv, f"rm {filler}")
        _eventually(lambda: c.get("/readyz").status_code == 200)
        run_job(c, body)


_CSV = {"Content-Type": "text/csv"}


def test_sigterm_lets_running_jobs_finish_and_requeues_the_rest(tmp_path):
    srv = Server(tmp_path / "data", env={"FEATIMP_SHUTDOWN_GRACE_SECONDS": "4"}).start()
    try:
        with srv.client() as c:
            quick_data = upload_frame(c, _frame("breast_cancer"))["id"]
            slow_data = upload_frame(c, _frame("taiwan_credit"))["id"]
            jobs = {
                name: c.post(
                    "/v1/jobs",
                    json={
                        "dataset_id": dataset,
                        "target": "target",
                        "method": "mi",
                        "params": params,
                    },
                ).json()["id"]
                for name, dataset, params in [
                    ("quick", quick_data, QUICK),
                    ("slow", slow_data, SLOW_JOB_PARAMS),
                    ("queued", quick_data, {}),
                ]
            }
            for name in ("quick", "slow"):
                wait_for_job(c, jobs[name], until=("running",))
        srv.process.send_signal(signal.SIGTERM)
        # Uvicorn shuts down, then raises the signal again for its default.
        assert srv.process.wait(timeout=30) == -signal.SIGTERM
    finally:
        srv.stop()
    store = open_store(srv.data_dir)
    status = {n: js.get_job(store=store, job_id=i) for n, i in jobs.items()}
    assert status["quick"].status == "succeeded"
    # Past the grace period: back in the queue as if never started, not failed.
    assert (status["slow"].status, status["slow"].started_at) == ("queued", None)
    assert status["queued"].status == "queued"
