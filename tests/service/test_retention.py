"""The data directory: what is deleted (a job on DELETE, or past the
retention), and who may read what stays (the service alone)."""

from __future__ import annotations

import os
import stat
import time
from datetime import UTC, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from service.housekeeping import expire_jobs, remove_stray_results, restrict_modes
from service.main import _stored_api_key
from service.store import jobs as job_store
from service.store import open_store
from service.store.db import new_id
from tests.service.conftest import (
    KEY_B,
    SLOW_JOB_PARAMS,
    App,
    assert_problem,
    upload_frame,
    wait_for_job,
)


def _frame(n=120, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame(rng.normal(size=(n, 3)), columns=["a", "b", "c"])
    return frame.assign(y=(frame.a > 0).astype(int))


def _select(dataset_id: str) -> dict:
    return {
        "type": "select",
        "dataset_id": dataset_id,
        "target": "y",
        "method": "mi",
        "params": {"n_features_to_select": 2, "random_state": 0},
    }


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


# -- DELETE /v1/jobs/{id} ------------------------------------------------------


def test_delete_a_finished_job_removes_it_and_its_result(service, client):
    dataset = upload_frame(client, _frame())
    job = client.post("/v1/jobs", json=_select(dataset["id"])).json()
    job = wait_for_job(client, job["id"])
    assert job["status"] == "succeeded"
    result = service.data_dir / "results" / f"{job['id']}.parquet"
    assert result.exists()

    response = client.delete(f"/v1/jobs/{job['id']}")
    assert response.status_code == 204 and not response.content
    assert not result.exists()
    assert_problem(client.get(f"/v1/jobs/{job['id']}"), 404)
    assert_problem(client.get(f"/v1/jobs/{job['id']}/result"), 404)
    assert_problem(client.delete(f"/v1/jobs/{job['id']}"), 404)
    listed = client.get("/v1/jobs", params={"limit": 1000}).json()["data"]
    assert job["id"] not in [j["id"] for j in listed]
    # The selector it fitted is a resource of its own, and stays.
    selector = client.get(f"/v1/selectors/{job['selector_id']}")
    assert selector.status_code == 200


def test_delete_a_running_job_cancels_it_first(client):
    dataset = upload_frame(client, _frame(n=5000))
    body = {"dataset_id": dataset["id"], "target": "y", "method": "mi"}
    job = client.post("/v1/jobs", json={**body, "params": SLOW_JOB_PARAMS}).json()
    wait_for_job(client, job["id"], until=("running", "succeeded", "failed"))
    canceled = client.delete(f"/v1/jobs/{job['id']}")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert client.get(f"/v1/jobs/{job['id']}").json()["status"] == "canceled"
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert_problem(client.get(f"/v1/jobs/{job['id']}"), 404)


def test_another_key_cannot_delete_a_job(service, client):
    dataset = upload_frame(client, _frame())
    job = wait_for_job(
        client, client.post("/v1/jobs", json=_select(dataset["id"])).json()["id"]
    )
    with service.client(KEY_B) as bob:
        assert_problem(bob.delete(f"/v1/jobs/{job['id']}"), 404)
    assert client.get(f"/v1/jobs/{job['id']}").status_code == 200


# -- retention, on a temporary store -------------------------------------------


@pytest.fixture
def store(tmp_path, database_url):
    return open_store(tmp_path / "data", database_url)


def _job(store, *, status: str, ended_days_ago: float | None, owner="alice") -> str:
    job, _ = job_store.create_job(
        store=store,
        owner=owner,
        job_type="rank",
        dataset_id=new_id(),
        request={"method": "mi"},
    )
    ended = None
    if ended_days_ago is not None:
        ended = (datetime.now(UTC) - timedelta(days=ended_days_ago)).isoformat(
            timespec="milliseconds"
        )
    with store.connect() as conn:
        conn.execute(
            "UPDATE jobs SET status = ?, finished_at = ? WHERE id = ?",
            (status, ended, job.id),
        )
    store.path("results", job.id).write_bytes(b"parquet")
    return job.id


def test_expire_jobs_deletes_those_that_ended_before_the_retention(store):
    old = {s: _job(store, status=s, ended_days_ago=31) for s in job_store.FINISHED}
    recent = _job(store, status="succeeded", ended_days_ago=29)
    running = _job(store, status="running", ended_days_ago=None)

    deleted = expire_jobs(store, retention_days=30)

    assert sorted(deleted) == sorted(old.values())
    for job_id in old.values():
        assert job_store.get_job(store=store, job_id=job_id) is None
        assert not store.path("results", job_id).exists()
    for job_id in (recent, running):
        assert job_store.get_job(store=store, job_id=job_id) is not None
        assert store.path("results", job_id).exists()


def test_stray_results_are_removed(store):
    kept = _job(store, status="succeeded", ended_days_ago=1)
    running = _job(store, status="running", ended_days_ago=None)
    writing = store.path("results", running).with_suffix(".partial")
    writing.write_bytes(b"half")
    stray = store.path("results", new_id())
    stray.write_bytes(b"nobody's")
    left = store.path("results", kept).with_suffix(".partial")
    left.write_bytes(b"half")
    stray_report = store.path("reports", new_id())
    stray_report.write_bytes(b"{}")
    store.path("reports", kept).write_bytes(b"{}")

    removed = remove_stray_results(store)

    assert sorted(removed) == sorted([stray, left, stray_report])
    assert store.path("reports", kept).exists()
    assert store.path("results", kept).exists() and writing.exists()


def test_the_service_expires_jobs_by_itself(tmp_path):
    app = App(
        tmp_path / "data",
        workers=1,
        result_retention_days=1 / 86400,  # one second
        retention_sweep_seconds=0.2,
    ).start()
    try:
        with app.client() as client:
            dataset = upload_frame(client, _frame())
            job = client.post("/v1/jobs", json=_select(dataset["id"])).json()
            deadline = time.monotonic() + 60
            while client.get(f"/v1/jobs/{job['id']}").status_code == 200:
                assert time.monotonic() < deadline, "the job was never expired"
                time.sleep(0.1)
            assert_problem(client.get(f"/v1/jobs/{job['id']}"), 404)
            assert not (app.data_dir / "results" / f"{job['id']}.parquet").exists()
            # Datasets are not jobs: they stay.
            assert client.get(f"/v1/datasets/{dataset['id']}").status_code == 200
    finally:
        app.stop()


# -- file modes -------------------------------------------------------------------


# On the real server: its workers get the umask it sets at start; in this
# process, a forkserver an earlier test started keeps its own (results 0o644).
def test_what_the_service_writes_is_its_own(server):
    with server.client() as client:
        dataset = upload_frame(client, _frame())
        job = wait_for_job(
            client, client.post("/v1/jobs", json=_select(dataset["id"])).json()["id"]
        )
    written = [
        server.data_dir / "featimp.sqlite3",
        server.data_dir / "datasets" / f"{dataset['id']}.arrow",
        server.data_dir / "results" / f"{job['id']}.parquet",
        server.data_dir / "selectors" / f"{job['selector_id']}.joblib",
    ]
    assert all(path.exists() for path in written)
    assert _mode(server.data_dir) == 0o700
    for root, folders, files in os.walk(server.data_dir):
        for name in folders:
            assert _mode(os.path.join(root, name)) == 0o700, name
        for name in files:
            assert _mode(os.path.join(root, name)) == 0o600, (root, name)


def test_a_data_directory_readable_by_others_is_made_private(tmp_path):
    data = tmp_path / "data"
    (data / "datasets").mkdir(parents=True, mode=0o755)
    os.chmod(data, 0o755)
    loose = data / "datasets" / f"{new_id()}.arrow"
    loose.write_bytes(b"x")
    os.chmod(loose, 0o644)

    store = open_store(data)
    assert _mode(data) == 0o700 and _mode(data / "datasets") == 0o700
    assert _mode(store.database_path) == 0o600
    assert restrict_modes(data) >= 1
    assert _mode(loose) == 0o600


def test_the_generated_api_key_is_private(store):
    key = _stored_api_key(store)
    assert key and _mode(store.data_dir / "api_key") == 0o600
    assert _stored_api_key(store) == key
