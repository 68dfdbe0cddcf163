"""Two ``featimp serve`` replicas on one database and one data directory, on
both backends: they serve the same keys' jobs, and when one is killed (-9)
mid-job the other fails that job once its lease runs out, and goes on."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from featimp.datasets import load_dataset
from service.store import jobs as js
from service.store import open_store
from tests.service.conftest import (
    REPO,
    SLOW_JOB_PARAMS,
    Server,
    run_job,
    upload_frame,
    wait_for_job,
    wait_in_store,
)

LEASE_SECONDS = 2.0


def _replica(store, server: Server) -> str:
    with store.connect() as conn:
        (replica_id,) = conn.execute(
            "SELECT id FROM replicas WHERE pid = ?", (server.process.pid,)
        ).fetchone()
    return replica_id


def _slow(dataset_id: str) -> dict:
    return {
        "dataset_id": dataset_id,
        "target": "target",
        "method": "mi",
        "params": SLOW_JOB_PARAMS,
    }


def _csv(client, job_id: str) -> bytes:
    response = client.get(f"/v1/jobs/{job_id}/result", params={"format": "csv"})
    return response.raise_for_status().content


@pytest.fixture
def replicas(tmp_path, database_url):
    data = tmp_path / "data"
    servers = [
        Server(
            data,
            workers=1,
            env={"FEATIMP_LEASE_SECONDS": str(LEASE_SECONDS)},
            database_url=database_url,
            name=name,
        )
        for name in ("a", "b")
    ]
    for server in servers:
        server.start()
    yield servers, open_store(data, database_url)
    for server in servers:
        server.stop()


def test_replicas_share_jobs_and_survive_a_kill(replicas):
    (a, b), store = replicas
    X, y = load_dataset("taiwan_credit")
    wine_X, wine_y = load_dataset("wine")
    quick = {"target": "target", "method": "mi", "params": {"random_state": 0}}
    with a.client() as ca, b.client() as cb:
        taiwan = upload_frame(ca, X.assign(target=y))["id"]
        wine = upload_frame(cb, wine_X.assign(target=wine_y))["id"]
        done = run_job(ca, {**quick, "dataset_id": wine})
        before = _csv(cb, done["id"])
        assert before == _csv(ca, done["id"])
        # One slow job runs on each replica's one worker; a third waits.
        slow = [cb.post("/v1/jobs", json=_slow(taiwan)).json()["id"] for _ in range(2)]
        for job_id in slow:
            wait_in_store(store, job_id, until=("running",))
        queued = ca.post("/v1/jobs", json={**quick, "dataset_id": wine}).json()["id"]
    holders = {js.get_job(store=store, job_id=j).replica: j for j in slow}
    on_a, on_b = holders[_replica(store, a)], holders[_replica(store, b)]

    killed = time.monotonic()
    a.kill()
    with b.client() as cb:
        failed = wait_for_job(cb, on_a, timeout=LEASE_SECONDS + 30)
        waited = time.monotonic() - killed
        assert failed["status"] == "failed", failed
        assert "stopped while this job was running" in failed["error"]["detail"]
        # Not before the lease ran out (less the heartbeat's period).
        assert waited >= 0.7 * LEASE_SECONDS
        assert cb.get(f"/v1/jobs/{on_b}").json()["status"] == "running"
        assert cb.get(f"/v1/jobs/{queued}").json()["status"] == "queued"

    a.start()  # a restart on the same host does not touch B's job
    with a.client() as ca, b.client() as cb:
        assert ca.get(f"/v1/jobs/{on_b}").json()["status"] == "running"
        assert cb.delete(f"/v1/jobs/{on_b}").json()["status"] == "canceled"
        assert wait_for_job(cb, queued)["status"] == "succeeded"
        assert _csv(ca, queued) == _csv(cb, queued) == before
        assert _csv(cb, done["id"]) == before
        again = run_job(cb, {**quick, "dataset_id": wine})
        assert _csv(ca, again["id"]) == before
        datasets = {d["id"]: d for d in ca.get("/v1/datasets").json()["data"]}
        assert datasets[taiwan]["n_rows"] == 30000 and wine in datasets
        # The killed job stays failed: nothing ran it to the end after all.
        assert cb.get(f"/v1/jobs/{on_a}").json()["status"] == "failed"
    statuses = [js.get_job(store=store, job_id=j).status for j in (*slow, queued)]
    assert statuses == ["failed", "canceled", "succeeded"] or statuses == [
        "canceled",
        "failed",
        "succeeded",
    ]
    assert not store.path("results", on_a).exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://user:secret@db/featimp", "must start with postgresql://"),
        ("postgresql://user:secret@127.0.0.1:1/featimp", "cannot connect"),
    ],
    ids=["not postgres", "unreachable"],
)
def test_a_bad_database_url_is_one_line_and_exit_2(tmp_path, url, message):
    done = subprocess.run(
        [sys.executable, "-m", "featimp.cli", "serve", "--database-url", url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin", "FEATIMP_DATA_DIR": str(tmp_path / "data")},
    )
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("featimp: error: ")
    assert message in lines[0] and "secret" not in lines[0]
