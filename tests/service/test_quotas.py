"""What one API key may start and store: parameter bounds, queued jobs,
datasets and bytes, requests per second; and keys take turns for workers."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest

from featimp.datasets import load_dataset
from service.config import Settings
from service.main import create_app
from tests.service.conftest import (
    KEY_A,
    KEY_B,
    SLOW_JOB_PARAMS,
    App,
    assert_problem,
    upload_frame,
    wait_for_job,
)

MAX_BYTES = 100_000


@pytest.fixture(scope="module")
def wine(service):
    X, y = load_dataset("wine")
    with service.client() as c:
        return upload_frame(c, X.assign(target=y))


def _job(dataset, **changes) -> dict:
    return {"dataset_id": dataset["id"], "target": "target", "method": "mi", **changes}


@pytest.mark.parametrize(
    ("changes", "field", "cap"),
    [
        ({"method": "consensus", "params": {"stability": 10**9}}, "stability", 200),
        (
            {"method": "consensus", "params": {"methods": [["mi", {"n_bins": 10**6}]]}},
            "methods[0][1].n_bins",
            1000,
        ),
        ({"params": {"stability": 100_000}}, "stability", 200),
    ],
    ids=["consensus stability=1e9", "a consensus member's n_bins", "stability"],
)
def test_job_parameters_have_upper_bounds(client, wine, changes, field, cap):
    response = client.post("/v1/jobs", json=_job(wine, **changes))
    body = assert_problem(response, 422, field=f"params.{field}")
    assert f"over the limit of {cap} (FEATIMP_PARAM_CAPS)" in body["detail"]


def test_a_trained_model_has_bounds_too(client, wine):
    body = {
        "type": "responsiveness",
        "dataset_id": wine["id"],
        "target": "target",
        "action_set": {"features": []},
        "model": {"type": "xgboost", "params": {"n_estimators": 10**7}},
    }
    response = client.post("/v1/jobs", json=body)
    assert_problem(response, 422, field="model.params.n_estimators", contains="5000")


# -- per-key limits, on a service of one worker ---------------------------------


@pytest.fixture(scope="module")
def small_service(tmp_path_factory):
    app = App(
        tmp_path_factory.mktemp("quotas") / "data",
        workers=1,
        max_queued_jobs_per_key=2,
        max_datasets_per_key=3,
        max_stored_bytes_per_key=MAX_BYTES,
    ).start()
    yield app
    app.stop()


def _table(n_bytes: int, seed: int) -> pd.DataFrame:
    """A CSV of about ``n_bytes``."""
    rng = np.random.default_rng(seed)
    n = n_bytes // 20
    return pd.DataFrame(
        {"a": rng.integers(10**8, 10**9, n), "y": rng.integers(10**8, 10**9, n)}
    )


def test_a_key_may_queue_so_many_jobs(small_service):
    X, y = load_dataset("wine")
    with small_service.client(KEY_A) as a, small_service.client(KEY_B) as b:
        data = upload_frame(a, X.assign(target=y))
        running = a.post("/v1/jobs", json=_job(data, params=SLOW_JOB_PARAMS)).json()
        wait_for_job(a, running["id"], until=("running",))
        queued = [
            a.post("/v1/jobs", json=_job(data), headers={"Idempotency-Key": k}).json()
            for k in "12"
        ]
        try:
            response = a.post("/v1/jobs", json=_job(data))
            body = assert_problem(
                response, 429, contains="FEATIMP_MAX_QUEUED_JOBS_PER_KEY"
            )
            assert "2 queued jobs" in body["detail"]
            assert int(response.headers["Retry-After"]) > 0
            # Replaying an accepted job is no new job.
            replay = a.post(
                "/v1/jobs", json=_job(data), headers={"Idempotency-Key": "1"}
            )
            assert replay.status_code == 202 and replay.json()["id"] == queued[0]["id"]
            # Another key has a queue of its own.
            other = upload_frame(b, X.assign(target=y))
            b_job = b.post("/v1/jobs", json=_job(other))
            assert b_job.status_code == 202, b_job.text
        finally:
            for job in [running, *queued]:
                a.delete(f"/v1/jobs/{job['id']}")
        wait_for_job(b, b_job.json()["id"])


def test_keys_take_turns_for_the_worker(small_service):
    X, y = load_dataset("wine")
    with small_service.client(KEY_A) as a, small_service.client(KEY_B) as b:
        frame = X.assign(target=y)
        data_a, data_b = upload_frame(a, frame), upload_frame(b, frame)
        # Most of a second: the others are all queued before it ends.
        first = a.post("/v1/jobs", json=_job(data_a, params={"stability": 200})).json()
        wait_for_job(a, first["id"], until=("running",))
        more = [a.post("/v1/jobs", json=_job(data_a)).json() for _ in range(2)]
        bobs = b.post("/v1/jobs", json=_job(data_b)).json()
        jobs = [wait_for_job(a, j["id"]) for j in [first, *more]]
        jobs.insert(1, wait_for_job(b, bobs["id"]))
    order = sorted(jobs, key=lambda j: j["started_at"])
    assert [j["id"] for j in order] == [j["id"] for j in jobs]  # Bob's second


def test_a_key_may_store_so_much(small_service):
    with small_service.client(KEY_B) as b:
        for d in b.get("/v1/datasets").json()["data"]:  # of the tests above
            b.delete(f"/v1/datasets/{d['id']}")
        stored = [upload_frame(b, _table(25_000, seed)) for seed in range(3)]
        response = b.post(
            "/v1/datasets",
            files={"file": ("t.csv", b"a,y\n1,2\n", "text/csv")},
        )
        assert_problem(response, 507, contains="3 datasets, its limit")
        assert "FEATIMP_MAX_DATASETS_PER_KEY" in response.json()["detail"]

        assert b.delete(f"/v1/datasets/{stored[0]['id']}").status_code == 204
        big = _table(60_000, 7).to_csv(index=False).encode()
        response = b.post("/v1/datasets", files={"file": ("t.csv", big, "text/csv")})
        body = assert_problem(response, 507, contains=f"limit of {MAX_BYTES} bytes")
        assert "FEATIMP_MAX_STORED_BYTES_PER_KEY" in body["detail"]
        # Under the quota again once something is deleted.
        assert b.delete(f"/v1/datasets/{stored[1]['id']}").status_code == 204
        upload_frame(b, _table(60_000, 7))


def test_uploads_at_once_cannot_pass_the_dataset_quota(small_service):
    with small_service.client(KEY_B) as b:
        for d in b.get("/v1/datasets").json()["data"]:
            b.delete(f"/v1/datasets/{d['id']}")
    csv = _table(2_000, 0).to_csv(index=False).encode()
    barrier = threading.Barrier(6)

    def upload(_):
        with small_service.client(KEY_B) as b:
            barrier.wait()
            return b.post("/v1/datasets", files={"file": ("t.csv", csv, "text/csv")})

    with ThreadPoolExecutor(6) as pool:
        statuses = sorted(r.status_code for r in pool.map(upload, range(6)))
    assert statuses == [201] * 3 + [507] * 3
    with small_service.client(KEY_B) as b:
        assert len(b.get("/v1/datasets").json()["data"]) == 3
    # The refused uploads left no files behind.
    owned = {d.name for d in (small_service.data_dir / "datasets").iterdir()}
    with small_service.client(KEY_A) as a:
        ids = {d["id"] for d in a.get("/v1/datasets").json()["data"]}
    with small_service.client(KEY_B) as b:
        ids |= {d["id"] for d in b.get("/v1/datasets").json()["data"]}
    assert {name.split(".")[0] for name in owned} == ids


# -- requests per second --------------------------------------------------------


def test_a_key_may_make_so_many_requests_per_second(tmp_path):
    app = create_app(
        Settings(
            data_dir=tmp_path / "data",
            api_keys="k",
            rate_limit_per_second=1,
            rate_limit_burst=3,
        )
    )

    async def burst():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            a = [
                await c.get("/v1/nothing", headers={"X-API-Key": "a"}) for _ in range(4)
            ]
            b = await c.get("/v1/nothing", headers={"X-API-Key": "b"})
            outside = await c.get("/nothing", headers={"X-API-Key": "a"})
            return a, b, outside

    a, b, outside = asyncio.run(burst())
    assert [r.status_code for r in a[:3]] == [404] * 3
    body = assert_problem(a[3], 429, contains="FEATIMP_RATE_LIMIT_PER_SECOND")
    assert a[3].headers["Retry-After"] == "1" and "retry in 1 s" in body["detail"]
    assert b.status_code == 404  # another key has its own bucket
    assert outside.status_code == 404  # only /v1 is limited (not /healthz)
