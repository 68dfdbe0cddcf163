"""Every bad request gets a 4xx problem+json and leaves the service healthy."""

import pytest

from featimp.datasets import load_german_credit
from tests.service.conftest import MAX_UPLOAD_BYTES as LIMIT
from tests.service.conftest import assert_problem, upload_frame


@pytest.fixture(scope="module")
def german(service):
    X, y = load_german_credit()
    with service.client() as c:
        return upload_frame(c, X.assign(creditability=y).head(200))


@pytest.fixture(autouse=True)
def still_healthy(service):
    yield
    with service.client() as c:
        assert c.get("/healthz").status_code == 200
        assert c.get("/v1/methods").status_code == 200


def _upload(client, data: bytes):
    return client.post("/v1/datasets", files={"file": ("x.csv", data, "text/csv")})


@pytest.mark.parametrize(
    ("data", "status", "contains"),
    [
        (b"", 422, "empty"),
        (bytes(range(256)) * 4, 415, "binary"),
        (b"a,b\n1,2\n3,4,5\n", 422, "line 3"),
        ("a,b\n1,caf\u00e9\n".encode("latin-1"), 422, "not UTF-8"),
        ("\ufeffa,b\n1,2\n".encode("utf-16-le"), 415, "binary"),
        (b"a,b\n", 422, "no rows"),
        (b"a,b,a\n1,2,3\n", 422, "duplicate column name(s): 'a'"),
        (b'a,b\n"' + b"x" * 300_000 + b"\n1,2\n", 422, "line"),
    ],
    ids=[
        "empty",
        "binary",
        "ragged",
        "latin-1",
        "utf-16",
        "header only",
        "duplicate names",
        "unclosed quote",
    ],
)
def test_bad_files(client, data, status, contains):
    assert_problem(_upload(client, data), status, field="file", contains=contains)


def test_a_huge_cell_is_read_whole(client):
    cell = "y" * 3_000_000  # one 3 MB text cell, under the upload limit
    response = _upload(client, f"a,b\n1,{cell}\n2,z\n".encode())
    assert response.status_code == 201, response.text
    assert response.json()["n_rows"] == 2


def test_file_over_the_limit(client):
    big = b"a,b\n" + b"1,2\n" * (LIMIT // 4 + 1)
    assert_problem(_upload(client, big), 413)
    # Without Content-Length the byte counter stops it while streaming.
    chunks = (b"1,2\n" * 65536 for _ in range(40))
    response = client.post(
        "/v1/datasets", content=chunks, headers={"Content-Type": "text/csv"}
    )
    assert_problem(response, 413, contains="limit")


def test_multipart_without_a_file_part(client):
    response = client.post("/v1/datasets", files={"other": ("x.csv", b"a\n1\n")})
    assert_problem(response, 422, field="file")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"target": "salary"}, "target"),
        ({"method": "no-such-method"}, "method"),
        ({"params": {"n_features_to_select": "ten"}}, "params.n_features_to_select"),
        ({"params": {"random_state": [1, 2]}}, "params.random_state"),
        ({"params": "mi"}, "params"),
        ({"type": "train"}, "type"),
        ({"colour": "red"}, "colour"),
        ({"dataset_id": "0" * 32}, "dataset_id"),
        ({"dataset_id": "../etc"}, "dataset_id"),
    ],
)
def test_bad_job_requests(client, german, changes, field):
    body = {
        "dataset_id": german["id"],
        "target": "creditability",
        "method": "mi",
        **changes,
    }
    assert_problem(client.post("/v1/jobs", json=body), 422, field=field)


def test_malformed_json(client):
    response = client.post(
        "/v1/jobs", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert_problem(response, 422)


@pytest.mark.parametrize("key", [None, "wrong-key"])
def test_missing_or_wrong_api_key(service, key):
    with service.client(key) as c:
        for method, path in [
            ("GET", "/v1/datasets"),
            ("POST", "/v1/jobs"),
            ("GET", "/v1/jobs/" + "0" * 32),
        ]:
            assert_problem(c.request(method, path), 401)


def test_unknown_ids_and_cursor(client, german):
    assert_problem(client.get("/v1/jobs/" + "0" * 32), 404)
    assert_problem(client.get("/v1/jobs/..%2F..%2Fetc"), 404)
    assert_problem(client.get("/v1/selectors/" + "0" * 32), 404)
    assert_problem(
        client.post(
            "/v1/selectors/" + "0" * 32 + "/transform",
            json={"dataset_id": german["id"]},
        ),
        404,
    )
    assert_problem(client.get("/v1/jobs", params={"limit": 0}), 422, field="limit")
