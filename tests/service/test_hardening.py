"""Service hardening: bad requests are 4xx problems, bodies have limits, no
paths leak, datasets in use stay, and an unhandled error is logged once.

The matrix runs against the service of ``conftest`` (in this process); the
store and job cases against a temporary store.
"""

import asyncio
import base64
import json
import logging

import httpx
import numpy as np
import pandas as pd
import pytest

from featimp.datasets import load_german_credit
from service import jobs
from service.config import Settings
from service.main import create_app
from service.store import datasets as ds
from service.store import jobs as js
from service.store import open_store
from tests._shared import GERMAN_TARGET
from tests.service.conftest import assert_problem, upload_frame, wait_for_job
from tests.service.test_jobs import add_dataset
from tests.service.test_jobs import request as rank_request

INT64_MAX = 2**63 - 1
JSON_LIMIT = 1024**2  # FEATIMP_MAX_JSON_BYTES of the test service (the default)
B = "b0undary"
FILE_PART = (
    f'--{B}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
    "Content-Type: text/csv\r\n\r\na,b\n1,2\n3,4\r\n"
).encode()
JSON = {"Content-Type": "application/json"}
#: A job that runs for seconds on a tiny dataset, in little memory (within
#: the service's parameter bounds).
SLOW = {
    "estimator": "knn",
    "discrete_features": False,
    "stability": 200,
    "random_state": 0,
}


@pytest.fixture(scope="module")
def german(service):
    X, y = load_german_credit()
    with service.client() as c:
        return upload_frame(c, X.assign(creditability=y).head(100))


@pytest.fixture(scope="module")
def selector(service, german):
    with service.client() as c:
        job = c.post(
            "/v1/jobs",
            json={
                "type": "select",
                "dataset_id": german["id"],
                "target": "creditability",
                "method": "mi",
                "params": {"n_features_to_select": 3, "random_state": 0},
            },
        ).json()
        return wait_for_job(c, job["id"])["selector_id"]


def _get(path: str, **params):
    return "GET", path, {"params": params}


def _post(path: str, content: bytes, content_type: str | None = "application/json"):
    headers = {"Content-Type": content_type} if content_type else {}
    return "POST", path, {"content": content, "headers": headers}


def _job(german, **changes) -> dict:
    return {
        "dataset_id": german["id"],
        "target": "creditability",
        "method": "mi",
        **changes,
    }


def _job_post(**changes):
    """A job on the German dataset (filled in by the test), as Python's json
    writes it: NaN and Infinity included, lone surrogates kept."""
    return "POST", "/v1/jobs", {"job": changes}


def _recourse(action_set: dict) -> dict:
    model = {"type": "logistic_regression"}
    return {"type": "responsiveness", "action_set": action_set, "model": model}


def _bound(ub) -> dict:
    feature = {"name": "duration", "kind": "int", "lb": 0, "ub": ub}
    return {"features": [{**feature, "actionable": True}], "constraints": []}


def _cursor(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode()


def _nested(depth: int) -> bytes:
    return b'{"params": {"a": ' + b"[" * depth + b"]" * depth + b"}}"


RESULT = "/v1/jobs/{job}/result"
TRANSFORM = "/v1/selectors/{selector}/transform"
MULTIPART_TYPE = f"multipart/form-data; boundary={B}"
CLOSE = f"--{B}--\r\n".encode()
BAD_HEADER = f"--{B}\r\nNoColon\r\n\r\nx\r\n".encode() + CLOSE
LONG_BOUNDARY = "multipart/form-data; boundary=" + "x" * 300
BIG_RAGGED = b"a,b\n" + b"x" * 200_000 + b",1,2\n"
UNCLOSED_QUOTE = b'a,b\n"' + b"x" * 200_000 + b"\n1,2\n"
PARQUET = "application/vnd.apache.parquet"
#: id -> ((method, path, request arguments), status, text in the detail).
#: The comments name what the service did before.
CASES = {
    # OverflowError into SQLite: 500
    "datasets offset 2**63": (_get("/v1/datasets", offset=2**63), 422, "offset"),
    "jobs offset 2**64": (_get("/v1/jobs", offset=2**64), 422, "offset"),
    "selectors offset 2**63": (_get("/v1/selectors", offset=2**63), 422, "offset"),
    "jobs offset -1": (_get("/v1/jobs", offset=-1), 422, "offset"),
    "jobs offset 1e3": (_get("/v1/jobs", offset="1e3"), 422, "offset"),
    # MultipartParseError, FormParserError: 500
    "multipart bad part header": (
        _post("/v1/datasets", BAD_HEADER, MULTIPART_TYPE),
        400,
        "malformed multipart",
    ),
    "multipart garbage": (
        _post("/v1/datasets", b"garbage", MULTIPART_TYPE),
        400,
        "malformed multipart",
    ),
    "multipart boundary of 300": (
        _post("/v1/datasets", b"--" + b"x" * 300, LONG_BOUNDARY),
        400,
        "exceeds maximum of 256",
    ),
    # accepted
    "multipart without closing boundary": (
        _post("/v1/datasets", FILE_PART, MULTIPART_TYPE),
        400,
        "closing boundary",
    ),
    "multipart cut short": (
        _post("/v1/datasets", FILE_PART[:60], MULTIPART_TYPE),
        400,
        "closing boundary",
    ),
    "multipart with two file parts": (
        _post("/v1/datasets", FILE_PART * 2 + CLOSE, MULTIPART_TYPE),
        400,
        "more than one part named 'file'",
    ),
    # read as a CSV
    "multipart/mixed": (
        _post("/v1/datasets", FILE_PART + CLOSE, f"multipart/mixed; boundary={B}"),
        415,
        "multipart/form-data",
    ),
    # csv.Error (a field over 128 KiB): 500
    "csv field over 128 KiB": (
        _post("/v1/datasets", BIG_RAGGED, "text/csv"),
        422,
        "line 2",
    ),
    "csv unclosed quote": (
        _post("/v1/datasets", UNCLOSED_QUOTE, "text/csv"),
        422,
        "line 2",
    ),
    # the upload's path in the detail
    "parquet garbage": (
        _post("/v1/datasets", b"PAR1" + b"x" * 100, PARQUET),
        422,
        "not a valid Parquet file",
    ),
    # AttributeError in the job schema's discriminator: 500
    "job body array": (_post("/v1/jobs", b"[1]"), 422, "valid dictionary"),
    "job body empty array": (_post("/v1/jobs", b"[]"), 422, "valid dictionary"),
    "job body string": (_post("/v1/jobs", b'"mi"'), 422, "valid dictionary"),
    "job body number": (_post("/v1/jobs", b"1"), 422, "valid dictionary"),
    "job body null": (_post("/v1/jobs", b"null"), 422, "valid dictionary"),
    "job body text/plain": (_post("/v1/jobs", b"mi", "text/plain"), 415, "json"),
    "job body without a type": (_post("/v1/jobs", b"{}", None), 415, "no Content-Type"),
    "job body as a form": (
        _post("/v1/jobs", b"a=1", "application/x-www-form-urlencoded"),
        415,
        "application/json",
    ),
    "job body as multipart": (
        _post("/v1/jobs", FILE_PART, MULTIPART_TYPE),
        415,
        "json",
    ),
    "job body empty": (_post("/v1/jobs", b""), 422, "required"),
    "job body not UTF-8": (_post("/v1/jobs", b'{"a": "\xff"}'), 400, "not UTF-8"),
    "job body nested 100000 deep": (_post("/v1/jobs", _nested(100_000)), 400, "nested"),
    "job body nested 100 deep": (
        _post("/v1/jobs", _nested(100)),
        400,
        "deeper than 64",
    ),
    # UnicodeEncodeError writing the detail: 500
    "surrogate parameter name": (
        _job_post(params={"\ud800": 1}),
        422,
        "params.\\ud800",
    ),
    "surrogate constraint kind": (
        _job_post(**_recourse({"features": [], "constraints": [{"kind": "\ud800"}]})),
        422,
        "action_set.constraints[0].kind",
    ),
    # OverflowError in the action set: 500; a job that fails on inf
    "bound of 10**400": (
        _job_post(**_recourse(_bound(10**400))),
        422,
        "action_set.features[0].ub",
    ),
    "bound Infinity": (
        _job_post(**_recourse(_bound(float("inf")))),
        422,
        "action_set.features[0].ub",
    ),
    "threshold NaN": (_job_post(params={"threshold": float("nan")}), 422, "threshold"),
    "threshold 1e400": (_job_post(params={"threshold": "<1e400>"}), 422, "threshold"),
    # the other JSON route
    "transform body array": (_post(TRANSFORM, b"[]"), 422, "valid dictionary"),
    "transform text/plain": (_post(TRANSFORM, b"x", "text/plain"), 415, "json"),
    # a cursor of other digits, or a ValueError naming Python's digit limit
    "cursor of arabic digits": (
        _get(RESULT, cursor=_cursor("o:\u0661")),
        422,
        "cursor",
    ),
    "cursor of 5000 digits": (
        _get(RESULT, cursor=_cursor("o:" + "9" * 5000)),
        422,
        "cursor",
    ),
}


def _fill(request, client, german, selector):
    method, path, kwargs = request
    if "{job}" in path:
        job = client.post("/v1/jobs", json=_job(german)).json()
        path = path.replace("{job}", wait_for_job(client, job["id"])["id"])
    path = path.replace("{selector}", selector)
    if "job" in kwargs:
        # json.dumps writes 1e400 as Infinity: "<1e400>" stands for the number.
        text = json.dumps(_job(german, **kwargs["job"])).replace('"<1e400>"', "1e400")
        content = text.encode("utf-8", "surrogatepass")
        kwargs = {"content": content, "headers": {"Content-Type": "application/json"}}
    return method, path, kwargs


@pytest.mark.parametrize("case", CASES, ids=list(CASES))
def test_bad_requests_are_4xx_problems(service, client, german, selector, case):
    request, status, contains = CASES[case]
    method, path, kwargs = _fill(request, client, german, selector)
    response = client.request(method, path, **kwargs)
    body = assert_problem(response, status, contains=contains)
    assert body["instance"] == path
    assert "/tmp" not in response.text and str(service.data_dir) not in response.text
    assert client.get("/healthz").status_code == 200


@pytest.mark.parametrize("offset", [INT64_MAX, 2**63, 2**64, -(2**63) - 1])
@pytest.mark.parametrize("path", ["/datasets", "/jobs", "/selectors", "/models"])
def test_list_offsets_at_the_int64_bounds(client, path, offset):
    response = client.get(f"/v1{path}", params={"offset": offset})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 200:
        assert response.json()["data"] == []
    elif path != "/models":  # its route is checked with its owner's tests
        assert_problem(response, 422, field="offset")


def test_json_bodies_have_a_size_limit(client, german):
    body = json.dumps(_job(german)).encode()
    # Up to the limit is accepted, whitespace included ...
    padded = body[:-1] + b" " * (JSON_LIMIT - len(body)) + b"}"
    accepted = client.post("/v1/jobs", content=padded, headers=JSON)
    assert accepted.status_code == 202, accepted.text
    # ... one byte more is not, from Content-Length ...
    response = client.post("/v1/jobs", content=padded + b" ", headers=JSON)
    assert_problem(response, 413, contains=f"limit of {JSON_LIMIT} bytes")
    # ... nor counted while a chunked body streams (no Content-Length).
    chunks = [padded[i : i + 65536] for i in range(0, len(padded), 65536)]
    response = client.post("/v1/jobs", content=iter([*chunks, b" "]), headers=JSON)
    assert "content-length" not in response.request.headers
    assert_problem(response, 413, contains="limit")
    transform = "/v1/selectors/" + "0" * 32 + "/transform"
    response = client.post(transform, content=padded + b" ", headers=JSON)
    assert_problem(response, 413)
    wait_for_job(client, accepted.json()["id"])


def test_listings_leave_requests_out(client):
    # A dataset with long column names makes a large features list.
    names = [f"{'feature_' * 24}{i}" for i in range(400)]
    frame = pd.DataFrame(
        np.arange(20 * 401).reshape(20, 401) % 7, columns=[*names, "y"]
    )
    dataset = upload_frame(client, frame)
    body = {
        "dataset_id": dataset["id"],
        "target": "y",
        "method": "mi",
        "features": names,
        "params": {"random_state": 0},
    }
    job = client.post("/v1/jobs", json=body).json()
    assert job["request"]["features"] == names  # the job itself has it
    listing = client.get("/v1/jobs", params={"limit": 1000})
    listed = {j["id"]: j for j in listing.json()["data"]}[job["id"]]
    assert "request" not in listed
    assert listed["links"]["self"] == f"/v1/jobs/{job['id']}"
    per_job = len(listing.content) / listing.json()["count"]
    assert per_job < len(json.dumps(body)) / 20
    assert client.get(f"/v1/jobs/{job['id']}").json()["request"]["features"] == names
    wait_for_job(client, job["id"])


def test_a_dataset_in_use_is_not_deleted(client):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(200, 3)), columns=["a", "b", "c"])
    dataset = upload_frame(client, frame.assign(y=(frame.a > 0).astype(int)))
    body = {"dataset_id": dataset["id"], "target": "y", "method": "mi"}
    job = client.post("/v1/jobs", json={**body, "params": SLOW}).json()
    try:
        response = client.delete(f"/v1/datasets/{dataset['id']}")
        assert_problem(response, 409, contains=job["id"])
        assert client.get(f"/v1/datasets/{dataset['id']}").status_code == 200
    finally:
        client.delete(f"/v1/jobs/{job['id']}")
    assert client.delete(f"/v1/datasets/{dataset['id']}").status_code == 204
    assert_problem(client.delete(f"/v1/datasets/{dataset['id']}"), 404)


# -- the store and the jobs, on a temporary store ---------------------------


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


@pytest.fixture
def small(store):
    X, y = load_german_credit()
    return add_dataset(store, X.assign(**{GERMAN_TARGET: y}).head(60))


def _create(store, dataset, request):
    job, _ = js.create_job(
        store=store,
        owner=dataset.owner,
        job_type=request["type"],
        dataset_id=dataset.id,
        request=request,
        requires=js.input_datasets(request),
    )
    return job


def test_a_queued_job_keeps_its_rows_dataset(store, small):
    rows = add_dataset(store, pd.DataFrame({"a": [1, 2]}))
    request = {
        "type": "responsiveness",
        "dataset_id": small.id,
        "rows": {"dataset_id": rows.id, "filter": "all"},
    }
    job = _create(store, small, request)
    for dataset in (small, rows):
        with pytest.raises(ds.DatasetInUse) as info:
            ds.delete_dataset(store=store, owner="alice", dataset_id=dataset.id)
        assert info.value.job_ids == [job.id]
    js.cancel_job(store=store, owner="alice", job_id=job.id)
    assert ds.delete_dataset(store=store, owner="alice", dataset_id=rows.id)
    assert not store.path("datasets", rows.id).exists()


def test_a_job_is_not_created_on_a_deleted_dataset(store, small):
    request = rank_request(small)
    assert ds.delete_dataset(store=store, owner="alice", dataset_id=small.id)
    with pytest.raises(js.DatasetGone) as info:
        _create(store, small, request)
    assert info.value.dataset_id == small.id
    assert js.list_jobs(store=store, owner="alice", limit=10) == ([], 0)


def test_a_job_error_never_names_a_path(store, small):
    job = _create(store, small, rank_request(small))
    store.path("datasets", small.id).unlink()  # as a version without the 409 did
    assert jobs.run_job(job.id, str(store.data_dir), lease="L") == "failed"
    error = js.get_job(store=store, job_id=job.id).error
    assert str(store.data_dir) not in error["detail"] and "/tmp" not in error["detail"]
    assert "<path>" in error["detail"]


def test_an_unhandled_error_is_logged_once(tmp_path, caplog):
    app = create_app(Settings(data_dir=tmp_path / "data", api_keys="k"))

    def boom():
        raise RuntimeError(f"failed on {tmp_path}/secret")

    app.add_api_route("/boom", boom)

    async def get():
        # The transport raises what the app lets out, as the server would log it.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            return await c.get("/boom")

    with caplog.at_level(logging.ERROR):
        response = asyncio.run(get())
    assert_problem(response, 500, contains="RuntimeError")
    assert str(tmp_path) not in response.text
    assert [r.getMessage() for r in caplog.records] == ["unhandled error on GET /boom"]
