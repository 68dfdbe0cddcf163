"""Real tabular data over HTTP: text columns and empty cells, as uploaded."""

import io

import numpy as np
import pandas as pd
import pytest

from tests._shared import GERMAN_TARGET, german_with_blanks
from tests.service.conftest import FAST_PARAMS, assert_problem, run_job, upload_frame


@pytest.fixture(scope="module")
def blanks_frame():
    return german_with_blanks()


@pytest.fixture(scope="module")
def blanks(service, blanks_frame):
    with service.client() as c:
        return upload_frame(c, blanks_frame, name="german_blanks.csv")


def test_upload_keeps_text_and_counts_empty_cells(blanks):
    columns = {c["name"]: c for c in blanks["columns"]}
    assert columns["purpose"]["dtype"] == "string"
    assert [columns[c]["n_missing"] for c in ("purpose", "credit_amount")] == [100] * 2
    assert columns[GERMAN_TARGET]["n_missing"] == 0


@pytest.mark.parametrize("method", list(FAST_PARAMS))
def test_rank_jobs_on_text_and_empty_cells(client, blanks, blanks_frame, method):
    job = run_job(
        client,
        {
            "dataset_id": blanks["id"],
            "target": GERMAN_TARGET,
            "method": method,
            "params": FAST_PARAMS[method],
        },
    )
    assert job["result_rows"] == 20 and job["warnings"] == []
    page = client.get(f"/v1/jobs/{job['id']}/result").raise_for_status().json()
    features = blanks_frame.columns.drop(GERMAN_TARGET)
    assert sorted(r["feature"] for r in page["data"]) == sorted(features)
    assert all(np.isfinite(r["importance"]) for r in page["data"])


def test_select_then_transform_keeps_text_columns(client, blanks, blanks_frame):
    job = run_job(
        client,
        {
            "type": "select",
            "dataset_id": blanks["id"],
            "target": GERMAN_TARGET,
            "method": "lasso",
            "params": {**FAST_PARAMS["lasso"], "n_features_to_select": 8},
        },
    )
    selected = client.get(job["links"]["selector"]).json()["selected"]
    assert "purpose" in selected  # text with empty cells

    url = f"/v1/selectors/{job['selector_id']}/transform"
    csv = client.post(url, json={"dataset_id": blanks["id"]})
    assert csv.status_code == 200, csv.text
    reduced = pd.read_csv(io.StringIO(csv.text))
    expected = pd.read_csv(io.StringIO(blanks_frame[selected].to_csv(index=False)))
    pd.testing.assert_frame_equal(reduced, expected)

    parquet = client.post(url, json={"dataset_id": blanks["id"], "format": "parquet"})
    assert parquet.status_code == 200, parquet.text
    reduced = pd.read_parquet(io.BytesIO(parquet.content))
    assert list(reduced.columns) == selected
    assert reduced["purpose"].isna().sum() == 100
    assert pd.api.types.is_string_dtype(reduced["purpose"])
    assert reduced["purpose"].dropna().tolist() == (
        blanks_frame["purpose"].dropna().tolist()
    )


def test_parquet_with_nullable_and_categorical_columns(client, blanks_frame):
    frame = blanks_frame.astype(
        {"duration_in_month": "Int64", "purpose": "string", "job": "category"}
    )
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    response = client.post(
        "/v1/datasets",
        content=buffer.getvalue(),
        headers={"Content-Type": "application/vnd.apache.parquet"},
    )
    assert response.status_code == 201, response.text
    dtypes = {c["name"]: c["dtype"] for c in response.json()["columns"]}
    assert dtypes["job"].startswith("dictionary")
    job = run_job(
        client,
        {
            "dataset_id": response.json()["id"],
            "target": GERMAN_TARGET,
            "method": "mi",
            "params": FAST_PARAMS["mi"],
        },
    )
    assert job["result_rows"] == 20


def test_unusable_columns_reach_the_job_as_warnings(client, blanks_frame):
    dataset = upload_frame(client, blanks_frame.assign(empty=np.nan))
    job = run_job(
        client,
        {
            "dataset_id": dataset["id"],
            "target": GERMAN_TARGET,
            "method": "ecfs",
        },
    )
    assert len(job["warnings"]) == 1
    assert "'empty' is entirely missing" in job["warnings"][0]
    assert client.get(f"/v1/jobs/{job['id']}").json()["warnings"] == job["warnings"]


def test_target_with_missing_values_is_a_422_naming_it(client, blanks_frame):
    frame = blanks_frame.copy()
    frame.loc[[4, 9], GERMAN_TARGET] = None
    dataset = upload_frame(client, frame)
    response = client.post(
        "/v1/jobs",
        json={"dataset_id": dataset["id"], "target": GERMAN_TARGET, "method": "mi"},
    )
    assert_problem(response, 422, field="target", contains=f"'{GERMAN_TARGET}'")


def test_methods_show_their_input_tags(client):
    methods = client.get("/v1/methods").raise_for_status().json()["data"]
    assert all(
        m["input_tags"] == {"categorical": True, "string": True, "allow_nan": True}
        for m in methods
    ), [(m["name"], m["input_tags"]) for m in methods]
    one = client.get("/v1/methods/lasso").json()
    assert one["input_tags"]["string"] is True
