"""Responsiveness jobs and model uploads through the service's HTTP API."""

import io
import json
from html.parser import HTMLParser

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from featimp.datasets import load_german_credit
from featimp.datasets._recourse import load_german_recourse
from featimp.recourse import (
    STATUSES,
    ActionSet,
    ResponsivenessExplainer,
    german_action_set,
)
from tests.service.conftest import (
    KEY_B,
    assert_problem,
    run_job,
    upload_frame,
)

TARGET = "IsCreditRiskGood"


@pytest.fixture(scope="module")
def german():
    X, y = load_german_recourse()
    return X, y, german_action_set(X)


@pytest.fixture(scope="module")
def dataset(service, german):
    X, y, _ = german
    with service.client() as c:
        return upload_frame(c, X.assign(**{TARGET: y}), name="german.csv")


@pytest.fixture(autouse=True)
def still_healthy(service):
    yield
    with service.client() as c:
        assert c.get("/healthz").status_code == 200


def body(dataset, A, **changes):
    return {
        "type": "responsiveness",
        "dataset_id": dataset["id"],
        "target": TARGET,
        "action_set": A.to_dict(),
        "model": {"type": "logistic_regression", "params": {"max_iter": 2000}},
        "rows": {"filter": "denied"},
        **changes,
    }


def all_pages(client, job_id: str) -> pd.DataFrame:
    rows, cursor = [], None
    while True:
        params = {"limit": 64, **({"cursor": cursor} if cursor else {})}
        page = client.get(f"/v1/jobs/{job_id}/result", params=params)
        page = page.raise_for_status().json()
        rows += page["data"]
        cursor = page["next_cursor"]
        if cursor is None:
            return pd.DataFrame(rows, columns=page["columns"])


def assert_same(result: pd.DataFrame, expected, rows) -> None:
    names = list(expected.scores.columns)
    np.testing.assert_array_equal(result["row"], rows)
    np.testing.assert_array_equal(result[names].to_numpy(float), expected.scores)
    assert result["fixed"].tolist() == [
        None if pd.isna(v) else bool(v) for v in expected.fixed
    ]
    np.testing.assert_array_equal(
        result["n_reachable"].to_numpy(float), expected.n_reachable
    )


def test_denied_rows_of_a_model_the_service_trains(client, dataset, german):
    X, y, A = german
    job = run_job(client, body(dataset, A))
    result = all_pages(client, job["id"])

    clf = LogisticRegression(max_iter=2000).fit(X, y)
    denied = X[clf.predict(X) != 1]
    assert job["result_rows"] == len(denied) == len(result)
    assert_same(result, ResponsivenessExplainer(clf, A).explain(denied), denied.index)

    csv = client.get(f"/v1/jobs/{job['id']}/result", params={"format": "csv"})
    from_csv = pd.read_csv(io.StringIO(csv.text))
    np.testing.assert_array_equal(from_csv[A.names], result[A.names].to_numpy(float))
    parquet = client.get(f"/v1/jobs/{job['id']}/result", params={"format": "parquet"})
    table = pd.read_parquet(io.BytesIO(parquet.content))
    assert table.shape == (len(denied), 5 + len(A.names))
    assert set(table["status"]) <= set(STATUSES)
    assert str(table["fixed"].dtype) == "boolean"


def test_uploaded_xgboost_model_on_a_second_dataset(service, client, dataset, german):
    xgboost = pytest.importorskip("xgboost")
    X, y, A = german
    model = xgboost.XGBClassifier(
        n_estimators=10, max_depth=3, random_state=0, n_jobs=1
    )
    model.fit(X, y)
    buffer = bytearray(model.get_booster().save_raw("json"))
    upload = client.post(
        "/v1/models",
        files={"file": ("credit.json", bytes(buffer), "application/json")},
    )
    assert upload.status_code == 201, upload.text
    uploaded = upload.json()
    assert (uploaded["format"], uploaded["n_features"]) == ("xgboost-json", 36)
    assert client.get(f"/v1/models/{uploaded['id']}").json() == uploaded
    with service.client(KEY_B) as bob:
        assert_problem(bob.get(f"/v1/models/{uploaded['id']}"), 404)

    batch = X.iloc[:12]
    rows = upload_frame(client, batch, name="applicants.csv")
    job = run_job(
        client,
        body(
            dataset,
            A,
            target=None,
            model={"model_id": uploaded["id"]},
            rows={"dataset_id": rows["id"], "filter": "all"},
        ),
    )
    result = all_pages(client, job["id"])
    assert_same(result, ResponsivenessExplainer(model, A).explain(batch), batch.index)
    np.testing.assert_array_equal(result["prediction"], model.predict(batch))

    assert client.delete(f"/v1/models/{uploaded['id']}").status_code == 204
    assert_problem(client.get(f"/v1/models/{uploaded['id']}"), 404)


@pytest.mark.parametrize(
    ("content", "status"),
    [(b"\x80\x04\x95\x10pickled", 415), (b'{"learner": []}', 422), (b"", 422)],
    ids=["pickle", "json-but-not-a-model", "empty"],
)
def test_files_that_are_not_models_get_a_problem(client, content, status):
    response = client.post(
        "/v1/models", files={"file": ("model.json", content, "application/json")}
    )
    assert_problem(response, status, field="file")


def test_bad_responsiveness_requests(client, dataset, german):
    X, _, A = german
    bad_kind = A.to_dict()
    bad_kind["features"][4]["kind"] = "complex"
    cases = [
        ({"action_set": bad_kind}, "action_set.features[4]", "YearsAtResidence"),
        ({"model": {"type": "random_forest"}}, "model.type", None),
        ({"model": {"type": "xgboost", "model_id": "0" * 32}}, "model", None),
        ({"model": {"model_id": "0" * 32}}, "model.model_id", "no model"),
        ({"rows": {"filter": "rejected"}}, "rows.filter", None),
        ({"params": {"n_samples": -1}}, "params.n_samples", None),
        ({"colour": "red"}, "colour", None),
    ]
    for changes, field, contains in cases:
        response = client.post("/v1/jobs", json=body(dataset, A, **changes))
        assert_problem(response, 422, field=field, contains=contains)

    violating = X.head(20).assign(YearsAtResidence=[1] * 19 + [9])
    violating.loc[4, "Male"] = 3
    bad_rows = upload_frame(client, violating)
    response = client.post(
        "/v1/jobs",
        json=body(dataset, A, rows={"dataset_id": bad_rows["id"], "filter": "all"}),
    )
    problem = assert_problem(response, 422, field="action_set", contains="row 4")
    assert "row 19" in problem["detail"]


class _Outline(HTMLParser):
    """The headings and list items of a page, as text."""

    def __init__(self):
        super().__init__()
        self.items, self._tag = [], None

    def handle_starttag(self, tag, attrs):
        if tag in {"h1", "h2", "h3", "li", "script"}:
            self._tag = tag
            self.items.append((tag, ""))

    def handle_endtag(self, tag):
        self._tag = None if tag == self._tag else self._tag

    def handle_data(self, data):
        if self._tag is not None:
            tag, text = self.items[-1]
            self.items[-1] = (tag, text + data)


def outline(page: str) -> list[tuple[str, str]]:
    parser = _Outline()
    parser.feed(page)
    return parser.items


@pytest.fixture(scope="module")
def raw_german(service):
    """The bundled German credit table as users have it: 13 text columns."""
    X, y = load_german_credit()
    A = ActionSet.from_data(X)
    with service.client() as c:
        train = upload_frame(c, X.assign(creditability=y), name="german_raw.csv")
        rows = upload_frame(c, X.iloc[:40], name="applicants_raw.csv")
    return X, y, A, train, rows


def test_raw_columns_action_set_and_its_report(client, raw_german):
    X, y, A, train, rows = raw_german
    assert A.raw_columns is not None and len(A.names) > X.shape[1]
    req = body(
        train,
        A,
        target="creditability",
        desired="good",
        rows={"dataset_id": rows["id"], "filter": "denied"},
        n_reasons=3,
    )
    job = run_job(client, req)
    assert job["links"]["report"] == f"/v1/jobs/{job['id']}/report"

    clf = LogisticRegression(max_iter=2000).fit(A.encode(X), y)
    batch = X.iloc[:40]
    denied = batch[clf.predict(A.encode(batch)) != "good"]
    expected = ResponsivenessExplainer(clf, A, target="good").explain(denied)
    result = all_pages(client, job["id"])
    assert_same(result, expected, denied.index)
    assert result["status"].tolist() == expected.status.astype(str).tolist()

    report = client.get(f"/v1/jobs/{job['id']}/report").raise_for_status().json()
    assert report == json.loads(expected.to_json(n_reasons=3))
    assert {r["feature"] for p in report["people"] for r in p["reasons"]} <= set(
        X.columns
    )  # reasons speak of the user's columns, not one-hot features

    page = client.get(f"/v1/jobs/{job['id']}/report", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html")
    items = outline(page.text)
    assert ("h1", f"Recourse report of job {job['id']}") in items
    assert not any(tag == "script" for tag, _ in items)
    people = [t for tag, t in items if tag == "h2" and t.startswith("Applicant")]
    assert people == [f"Applicant {p['row']}" for p in report["people"]]

    someone = next(p for p in report["people"] if p["options"])
    one = client.get(
        f"/v1/jobs/{job['id']}/report",
        params={"format": "html", "row": str(someone["row"])},
    )
    items = outline(one.text)
    assert [t for tag, t in items if tag == "h2"] == [f"Applicant {someone['row']}"]
    actions = [t for tag, t in items if tag == "li" and "(cost " in t]
    assert len(actions) == len(someone["options"])
    first = someone["options"][0]["changes"][0]
    assert str(first["feature"]) in actions[0]
    alone = client.get(
        f"/v1/jobs/{job['id']}/report", params={"row": str(someone["row"])}
    ).json()
    assert alone["people"] == [someone]


def test_report_problems(client, dataset, german):
    A = german[2]
    job = run_job(client, body(dataset, A))
    url = f"/v1/jobs/{job['id']}/report"
    assert_problem(client.get(url, params={"row": "no-such-row"}), 404, contains="row")
    assert_problem(client.get(url, params={"format": "pdf"}), 422)
    assert_problem(client.get("/v1/jobs/nope/report"), 404)
    ranked = run_job(
        client,
        {"type": "rank", "dataset_id": dataset["id"], "target": TARGET, "method": "mi"},
    )
    assert "report" not in ranked["links"]
    assert_problem(
        client.get(f"/v1/jobs/{ranked['id']}/report"), 409, contains="rank job"
    )
