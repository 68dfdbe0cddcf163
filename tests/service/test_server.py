"""The whole flow through the app's HTTP API, driven with httpx; many clients
at once against a real uvicorn server."""

import io
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
import pytest

from featimp.datasets import load_dataset, load_german_credit
from featimp.methods import get_method
from tests.service.conftest import (
    KEY_B,
    assert_problem,
    upload_frame,
    wait_for_job,
)


@pytest.fixture(scope="module")
def german_frame():
    X, y = load_german_credit()
    return X.assign(creditability=y)


@pytest.fixture(scope="module")
def german(service, german_frame):
    with service.client() as c:
        return upload_frame(c, german_frame, name="german.csv")


def submit(client, body, **headers):
    response = client.post("/v1/jobs", json=body, headers=headers)
    assert response.status_code == 202, response.text
    assert response.headers["location"] == f"/v1/jobs/{response.json()['id']}"
    return response.json()


def test_health_and_docs(service):
    with service.client(key=None) as c:
        assert c.get("/healthz").json()["status"] == "ok"
        assert "swagger" in c.get("/docs").text.lower()
        schema = c.get("/openapi.json").json()
    job_create = schema["components"]["schemas"]["JobCreate"]
    assert "mi" in job_create["properties"]["method"]["enum"]
    assert job_create["examples"]
    assert "/v1/selectors/{selector_id}/transform" in schema["paths"]


def test_dataset_is_described_listed_and_deleted(client, german_frame):
    dataset = upload_frame(client, german_frame.head(100), name="../../etc/passwd")
    assert dataset["name"] == "passwd"  # metadata only, never a path
    assert (dataset["n_rows"], dataset["n_columns"]) == (100, 21)
    assert client.get(f"/v1/datasets/{dataset['id']}").json() == dataset
    ids = [d["id"] for d in client.get("/v1/datasets").json()["data"]]
    assert dataset["id"] in ids
    assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 204
    assert_problem(client.get(f"/v1/datasets/{dataset['id']}"), 404)


def test_rank_flow_matches_the_library(client, german):
    job = submit(
        client,
        {
            "dataset_id": german["id"],
            "target": "creditability",
            "method": "mi",
            "params": {"random_state": 0, "n_features_to_select": 5},
        },
    )
    assert job["status"] in ("queued", "running")
    job = wait_for_job(client, job["id"])
    assert job["status"] == "succeeded", job
    assert job["progress"] == 1 and job["started_at"] and job["finished_at"]

    rows, cursor = [], None
    while True:
        page = client.get(
            f"/v1/jobs/{job['id']}/result",
            params={"limit": 7, **({"cursor": cursor} if cursor else {})},
        )
        page = page.raise_for_status().json()
        rows += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(rows) == page["count"] == 20
    X, y = load_german_credit()
    expected = get_method("mi").make_selector(random_state=0).fit(X, y)
    got = pd.DataFrame(rows).set_index("feature").loc[list(X.columns)]
    np.testing.assert_allclose(
        got["importance"], expected.importances_, rtol=0, atol=1e-12
    )
    assert got["selected"].sum() == 5

    csv = client.get(f"/v1/jobs/{job['id']}/result", params={"format": "csv"})
    assert csv.headers["content-type"].startswith("text/csv")
    assert list(pd.read_csv(io.StringIO(csv.text))["feature"]) == [
        r["feature"] for r in rows
    ]
    parquet = client.get(f"/v1/jobs/{job['id']}/result", params={"format": "parquet"})
    assert pd.read_parquet(io.BytesIO(parquet.content)).shape == (20, 4)


def test_select_then_transform_a_new_batch(client):
    X, y = load_dataset("breast_cancer")
    buffer = io.BytesIO()
    X.assign(target=y).to_parquet(buffer)
    train = client.post(
        "/v1/datasets",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert train.status_code == 201 and train.json()["format"] == "parquet"
    job = submit(
        client,
        {
            "type": "select",
            "dataset_id": train.json()["id"],
            "target": "target",
            "method": "mrmr",
            "params": {"n_features_to_select": 4, "random_state": 0},
        },
    )
    job = wait_for_job(client, job["id"])
    assert job["status"] == "succeeded", job
    selector = client.get(job["links"]["selector"]).json()
    assert len(selector["selected"]) == 4 and len(selector["features_in"]) == 30

    # New batch: other rows, columns shuffled, an extra column: still matches.
    batch = X.sample(frac=1, axis=1, random_state=0).iloc[:50].assign(extra=1)
    batch_id = upload_frame(client, batch)["id"]
    reduced = client.post(
        f"/v1/selectors/{selector['id']}/transform", json={"dataset_id": batch_id}
    )
    assert reduced.status_code == 200, reduced.text
    frame = pd.read_csv(io.StringIO(reduced.text))
    assert list(frame.columns) == selector["selected"] and len(frame) == 50
    np.testing.assert_allclose(frame.to_numpy(), X.iloc[:50][selector["selected"]])

    short_id = upload_frame(client, X.drop(columns=selector["selected"][:1]))["id"]
    assert_problem(
        client.post(
            f"/v1/selectors/{selector['id']}/transform", json={"dataset_id": short_id}
        ),
        422,
        field="dataset_id",
        contains=selector["selected"][0],
    )


def test_idempotency_key_replays_the_same_job(client, german):
    body = {
        "dataset_id": german["id"],
        "target": "creditability",
        "method": "mi",
        "params": {"random_state": 1},
    }
    first = submit(client, body, **{"Idempotency-Key": "order-42"})
    again = submit(client, body, **{"Idempotency-Key": "order-42"})
    assert again["id"] == first["id"]
    other = client.post(
        "/v1/jobs",
        json={**body, "method": "mrmr"},
        headers={"Idempotency-Key": "order-42"},
    )
    assert_problem(other, 409)
    wait_for_job(client, first["id"])


# On the real server: clients at once through uvicorn's event loop and
# thread pool, as deployed.
def test_twenty_concurrent_jobs_all_succeed(server):
    X, y = load_dataset("wine")
    with server.client() as c:
        dataset_id = upload_frame(c, X.assign(target=y))["id"]

    def one(seed):
        with server.client() as c:
            job = submit(
                c,
                {
                    "dataset_id": dataset_id,
                    "target": "target",
                    "method": "mi",
                    "params": {"random_state": seed},
                },
            )
            return wait_for_job(c, job["id"])

    with ThreadPoolExecutor(20) as pool:
        jobs = list(pool.map(one, range(20)))
    assert [j["status"] for j in jobs] == ["succeeded"] * 20
    assert len({j["id"] for j in jobs}) == 20


def test_cancel_a_running_job(client):
    X, y = load_dataset("taiwan_credit")
    dataset_id = upload_frame(client, X.assign(target=y))["id"]
    job = submit(
        client,
        {
            "dataset_id": dataset_id,
            "target": "target",
            "method": "mi",
            "params": {
                "estimator": "knn",
                "discrete_features": False,
                "random_state": 0,
            },
        },
    )
    wait_for_job(client, job["id"], until=("running", "succeeded", "failed"))
    canceled = client.delete(f"/v1/jobs/{job['id']}")
    assert canceled.status_code == 200 and canceled.json()["status"] == "canceled"
    assert_problem(client.get(f"/v1/jobs/{job['id']}/result"), 409)
    # A second DELETE removes the job that the first one stopped.
    assert client.delete(f"/v1/jobs/{job['id']}").status_code == 204
    assert_problem(client.get(f"/v1/jobs/{job['id']}"), 404)
    assert client.get("/healthz").status_code == 200


def test_each_key_sees_only_its_own(service, client, german):
    job = submit(
        client,
        {
            "dataset_id": german["id"],
            "target": "creditability",
            "method": "mi",
            "params": {"random_state": 2},
        },
    )
    with service.client(KEY_B) as bob:
        assert_problem(bob.get(f"/v1/jobs/{job['id']}"), 404)
        assert_problem(bob.get(f"/v1/jobs/{job['id']}/result"), 404)
        assert_problem(bob.delete(f"/v1/jobs/{job['id']}"), 404)
        assert_problem(bob.get(f"/v1/datasets/{german['id']}"), 404)
        assert german["id"] not in [
            d["id"] for d in bob.get("/v1/datasets").json()["data"]
        ]
        assert_problem(
            bob.post(
                "/v1/jobs",
                json={
                    "dataset_id": german["id"],
                    "target": "creditability",
                    "method": "mi",
                },
            ),
            422,
            field="dataset_id",
        )
    wait_for_job(client, job["id"])
