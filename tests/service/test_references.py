"""Datasets registered by reference (``POST /v1/datasets`` with a URI):
only under the operator's roots, described from metadata, ranked by
streaming, locally and on Dask."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from featimp import rank_dataset
from service import references
from service.config import Settings
from service.main import create_app
from service.store import datasets as dataset_store
from service.store import jobs as js
from service.store import open_store
from tests.service.conftest import assert_problem, wait_for_job, wait_in_store


def _frame(n=900, seed=0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    signal = y + rng.normal(0, 0.6, n)
    signal[rng.random(n) < 0.1] = np.nan
    words = np.array(["red", "green", "blue"])
    text = words[(y + rng.integers(0, 2, n)) % 3].astype(object)
    text[rng.random(n) < 0.1] = None
    return pd.DataFrame(
        {
            "signal": signal,
            "noise": rng.normal(size=n),
            "text": pd.Series(text, dtype=object),
            "ids": rng.integers(0, 50, n),
            "y": y,
        }
    )


def _write(frame, folder, parts=3, suffix="parquet") -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), parts)):
        path = folder / f"part-{i}.{suffix}"
        chunk = frame.iloc[rows]
        if suffix == "csv":
            chunk.to_csv(path, index=False)
        else:
            chunk.to_parquet(path, index=False)
        paths.append(str(path))
    return paths


@pytest.fixture
def root(tmp_path):
    folder = tmp_path / "allowed"
    folder.mkdir()
    return folder


@pytest.fixture
def api(tmp_path, root):
    settings = Settings(
        data_dir=tmp_path / "service",
        api_keys="k",
        workers=1,
        data_roots=str(root),
        rate_limit_per_second=0,
    )
    with TestClient(create_app(settings), headers={"X-API-Key": "k"}) as client:
        yield client


def _register(api, uri, **extra):
    return api.post("/v1/datasets", json={"uri": uri, **extra})


def test_a_glob_is_registered_from_its_metadata(api, root):
    frame = _frame()
    _write(frame, root / "events")
    response = _register(api, f"{root}/events/*.parquet", name="events")
    assert response.status_code == 201, response.text
    body = response.json()
    assert response.headers["Location"] == f"/v1/datasets/{body['id']}"
    assert body["uri"] == f"{root}/events/*.parquet"
    assert (body["name"], body["format"], body["n_files"]) == ("events", "parquet", 3)
    assert body["n_rows"] == len(frame)
    columns = {c["name"]: c for c in body["columns"]}
    assert list(columns) == list(frame.columns)
    # Missing values from the row groups' statistics: no row was read.
    assert columns["signal"]["n_missing"] == int(frame["signal"].isna().sum())
    assert columns["text"]["n_missing"] == int(frame["text"].isna().sum())
    assert columns["text"]["dtype"] == "string"
    files = sorted((root / "events").iterdir())
    assert body["size_bytes"] == sum(f.stat().st_size for f in files)
    assert api.get(f"/v1/datasets/{body['id']}").json() == body


def test_referenced_files_count_against_no_storage_quota(tmp_path, root):
    _write(_frame(), root / "events")
    settings = Settings(
        data_dir=tmp_path / "s",
        api_keys="k",
        workers=1,
        data_roots=str(root),
        max_stored_bytes_per_key=1000,
        max_datasets_per_key=2,
    )
    with TestClient(create_app(settings), headers={"X-API-Key": "k"}) as api:
        for _ in range(2):  # 3 files of several kB each time
            assert _register(api, f"{root}/events").status_code == 201
        # The count of datasets still counts.
        assert_problem(_register(api, f"{root}/events"), 507)


def test_directories_file_urls_and_csv(api, root):
    _write(_frame(), root / "csv", suffix="csv")
    body = _register(api, f"file://{root}/csv").json()
    assert (body["format"], body["n_files"], body["n_rows"]) == ("csv", 3, None)
    assert {c["n_missing"] for c in body["columns"]} == {None}
    one = _register(api, f"{root}/csv/part-1.csv").json()
    assert one["n_files"] == 1


@pytest.mark.parametrize(
    ("uri", "contains"),
    [
        ("/etc/passwd", "outside the allowed data roots"),
        ("{root}/../outside/x.parquet", "outside the allowed data roots"),
        ("s3://bucket/events/*.parquet", "only local paths"),
        ("file://otherhost{root}/x.parquet", "another host"),
    ],
)
def test_anything_outside_the_roots_is_403(api, root, uri, contains):
    outside = root.parent / "outside"
    _write(_frame(), outside)
    response = _register(api, uri.format(root=root))
    assert_problem(response, 403, field="uri", contains=contains)


def test_a_link_out_of_the_roots_is_403(api, root, tmp_path):
    outside = tmp_path / "secret"
    _write(_frame(), outside)
    (root / "events").mkdir()
    os.symlink(outside / "part-0.parquet", root / "events" / "part-0.parquet")
    response = _register(api, f"{root}/events")
    assert_problem(response, 403, contains="leads outside the allowed data roots")
    os.symlink(outside, root / "linked")
    assert_problem(_register(api, f"{root}/linked/*.parquet"), 403, field="uri")


def test_no_roots_configured_is_403(tmp_path):
    settings = Settings(data_dir=tmp_path / "s", api_keys="k", workers=1)
    with TestClient(create_app(settings), headers={"X-API-Key": "k"}) as api:
        response = _register(api, str(tmp_path))
    assert_problem(response, 403, contains="FEATIMP_DATA_ROOTS")


def test_unusable_uris_are_422_naming_the_file(api, root):
    assert_problem(_register(api, "relative/x.parquet"), 422, contains="absolute")
    assert_problem(_register(api, f"{root}/none/*.parquet"), 422, contains="names no")
    assert_problem(_register(api, f"{root}/missing.parquet"), 422, contains="no such")
    _write(_frame(), root / "mixed", parts=2)
    _frame().to_csv(root / "mixed" / "extra.csv", index=False)
    assert_problem(_register(api, f"{root}/mixed"), 422, contains="mixes Parquet")
    frame = _frame()
    _write(frame, root / "schemas", parts=2)
    frame.drop(columns="ids").to_parquet(root / "schemas" / "part-9.parquet")
    assert_problem(
        _register(api, f"{root}/schemas"),
        422,
        contains="'schemas/part-9.parquet' has a different schema from 'schemas/part-0",
    )
    (root / "broken").mkdir()
    (root / "broken" / "a.parquet").write_bytes(b"not parquet at all")
    assert_problem(
        _register(api, f"{root}/broken"), 422, contains="cannot read 'broken/a.parquet'"
    )
    response = api.post("/v1/datasets", json={"uri": str(root), "path": "/etc"})
    assert_problem(response, 422, field="path")
    assert api.get("/v1/datasets").json()["count"] == 0


def _rank(api, dataset_id, **body):
    request = {"type": "rank", "dataset_id": dataset_id, "target": "y", **body}
    response = api.post("/v1/jobs", json=request)
    assert response.status_code == 202, response.text
    job = wait_for_job(api, response.json()["id"])
    return job


def _result(api, job) -> pd.DataFrame:
    rows = api.get(f"/v1/jobs/{job['id']}/result").json()["data"]
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    "params",
    [
        {"random_state": 0, "n_features_to_select": 2},
        {"null_correction": "expected", "threshold": "mean"},
        {"method": "mrmr", "null_correction": "expected", "n_features": 3},
    ],
)
def test_a_rank_job_streams_the_files(api, root, params):
    paths = _write(_frame(), root / "events")
    dataset = _register(api, f"{root}/events/*.parquet").json()
    params = dict(params)
    method = params.pop("method", "mi")
    job = _rank(api, dataset["id"], method=method, params=params)
    assert job["status"] == "succeeded", job
    got = _result(api, job)
    selection = {
        k: params.pop(k) for k in ("n_features_to_select", "threshold") if k in params
    }
    expected = rank_dataset(paths, "y", method=method, **params)
    assert got["feature"].tolist() == expected["feature"].tolist()
    np.testing.assert_array_equal(got["importance"], expected["importance"])
    assert got["rank"].tolist() == [1, 2, 3, 4]
    if "n_features_to_select" in selection:
        assert got["selected"].tolist() == [True, True, False, False]
    if "threshold" in selection:
        mean = expected["importance"].mean()
        assert got["selected"].tolist() == (expected["importance"] >= mean).tolist()


def test_jobs_a_reference_cannot_run_are_422(api, root):
    _write(_frame(), root / "events")
    dataset_id = _register(api, f"{root}/events").json()["id"]
    base = {"type": "rank", "dataset_id": dataset_id, "target": "y", "method": "mi"}
    cases = [
        ({"type": "select"}, "type", "can be ranked"),
        ({"method": "lasso"}, "method", "does not stream"),
        ({"target": "nope"}, "target", "not in the dataset"),
        ({"features": ["signal", "y"]}, "features", "'y'"),
        ({"features": ["signal", "signal"]}, "features", "distinct"),
        ({"params": {"n_neighbors": 3}}, "params", "unexpected"),
        ({"params": {"n_bins": -1}}, "params", "n_bins"),
        ({"params": {"threshold": "max"}}, "params", "threshold"),
        ({"params": {"n_features_to_select": 9}}, "params", "larger than"),
    ]
    for change, field, contains in cases:
        response = api.post("/v1/jobs", json={**base, **change})
        assert_problem(response, 422, field=field, contains=contains)


def test_a_file_changed_under_a_dataset_fails_its_job(api, root, tmp_path):
    paths = _write(_frame(), root / "events")
    dataset_id = _register(api, f"{root}/events").json()["id"]
    os.unlink(paths[1])
    os.symlink(paths[0], paths[1])  # the same name now leads elsewhere
    job = _rank(api, dataset_id, method="mi", params={"null_correction": False})
    assert job["status"] == "failed"
    assert job["error"]["status"] == 422
    assert "'events/part-1.parquet' of dataset" in job["error"]["detail"]
    assert "leads elsewhere" in job["error"]["detail"]


def test_deleting_a_reference_keeps_the_files(api, root):
    paths = _write(_frame(), root / "events")
    dataset_id = _register(api, f"{root}/events").json()["id"]
    assert api.delete(f"/v1/datasets/{dataset_id}").status_code == 204
    assert all(os.path.exists(p) for p in paths)
    assert api.get(f"/v1/datasets/{dataset_id}").status_code == 404


def test_the_catalog_says_which_methods_stream(api):
    methods = {m["name"]: m for m in api.get("/v1/methods").json()["data"]}
    assert methods["mi"]["streams"] and methods["mrmr"]["streams"]
    assert (
        not methods["lasso"]["streams"] and methods["lasso"]["stream_parameters"] == []
    )
    assert {"sample_size", "max_categories", "null_correction"} <= set(
        methods["mi"]["stream_parameters"]
    )


def test_a_streamed_job_on_dask_fans_out_and_matches(tmp_path, root):
    distributed = pytest.importorskip("distributed")
    from service.executors import DaskExecutor

    paths = _write(_frame(), root / "events", parts=4)
    store = open_store(tmp_path / "data")
    found = references.register(f"{root}/events", [str(root)], max_columns=100)
    dataset = dataset_store.create_dataset(
        store=store,
        dataset_id="d" * 32,
        owner="a",
        name="events",
        fmt=found.format,
        size_bytes=found.size_bytes,
        n_rows=found.n_rows,
        columns=found.columns,
        reference=found.to_record(),
    )
    request = {
        "type": "rank",
        "dataset_id": dataset.id,
        "target": "y",
        "method": "mrmr",
        "params": {"random_state": 0},
        "task": "auto",
        "features": None,
    }
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster.scheduler_address) as watcher,
    ):
        watcher.get_task_stream()  # from now on the scheduler records tasks
        executor = DaskExecutor(
            store=store, address=cluster.scheduler_address, workers=2
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
            wait_in_store(store, job.id, timeout=90)
            stream = watcher.get_task_stream()
        finally:
            executor.shutdown()
    finished = js.get_job(store=store, job_id=job.id)
    assert (finished.status, finished.executor) == ("succeeded", "dask"), finished
    got = pd.read_parquet(store.path("results", job.id))
    expected = rank_dataset(paths, "y", method="mrmr", random_state=0)
    np.testing.assert_array_equal(got["importance"], expected["importance"])
    # The counting passes ran as tasks of their own, on both workers.
    counted = {t["worker"] for t in stream if t["key"].startswith("_count_part")}
    assert len(counted) == 2, stream


def test_a_streamed_job_ranks_the_features_it_names(api, root):
    paths = _write(_frame(), root / "events")
    dataset_id = _register(api, f"{root}/events").json()["id"]
    job = _rank(api, dataset_id, method="mi", features=["noise", "signal"],
                params={"null_correction": "expected"})  # fmt: skip
    assert job["status"] == "succeeded", job
    got = _result(api, job)
    expected = rank_dataset(
        paths, "y", features=["noise", "signal"], null_correction="expected"
    )
    assert got["feature"].tolist() == ["signal", "noise"]
    np.testing.assert_array_equal(got["importance"], expected["importance"])
