"""Responsiveness jobs, against a temporary store."""

import json
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from featimp.datasets._recourse import load_german_recourse
from featimp.recourse import (
    RESULT_COLUMNS,
    ResponsivenessExplainer,
    german_action_set,
)
from service import jobs
from service.jobs.validate import column_kind
from service.model_files import ModelFileError, describe_model
from service.store import jobs as js
from service.store import models as ms
from service.store import open_store
from service.store.db import new_id
from tests.service.test_jobs import add_dataset

TARGET = "IsCreditRiskGood"
LR = {"type": "logistic_regression", "params": {"max_iter": 2000}, "model_id": None}
SMALL = {"n_estimators": 15, "max_depth": 3, "random_state": 0, "n_jobs": 1}


def xgb():
    return pytest.importorskip("xgboost")


def lgb():
    return pytest.importorskip("lightgbm")


@pytest.fixture(scope="module")
def german():
    X, y = load_german_recourse()
    return X, y, german_action_set(X)


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


@pytest.fixture
def data(store, german):
    X, y, _ = german
    return add_dataset(store, X.assign(**{TARGET: y}))


def request(dataset, action_set, /, **changes):
    base = {
        "type": "responsiveness",
        "dataset_id": dataset.id,
        "target": TARGET,
        "action_set": action_set.to_dict(),
        "model": LR,
        "rows": {"dataset_id": None, "filter": "denied"},
        "desired": 1,
        "params": {},
    }
    return {**base, **changes}


def run_stored_job(store, dataset, req):
    """Check, queue and run a responsiveness job; it must succeed."""
    jobs.validate_job(store=store, dataset=dataset, request=req)
    job, _ = js.create_job(
        store=store,
        owner=dataset.owner,
        job_type="responsiveness",
        dataset_id=dataset.id,
        request=req,
    )
    status = jobs.run_job(job.id, str(store.data_dir), lease="L")
    job = js.get_job(store=store, job_id=job.id)
    assert status == "succeeded", job.error
    return job


def run(store, dataset, req):
    job = run_stored_job(store, dataset, req)
    return pd.read_parquet(store.path("results", job.id))


def assert_same(result: pd.DataFrame, expected, rows: pd.Index) -> None:
    names = list(expected.scores.columns)
    assert list(result.columns) == [*RESULT_COLUMNS, *names]
    np.testing.assert_array_equal(result["row"], rows)
    np.testing.assert_array_equal(result[names], expected.scores)
    pd.testing.assert_series_equal(
        result["fixed"], expected.fixed.reset_index(drop=True), check_names=False
    )
    np.testing.assert_array_equal(result["n_reachable"], expected.n_reachable)


def test_denied_rows_of_a_trained_model_equal_the_explainer(store, data, german):
    X, y, A = german
    result = run(store, data, request(data, A))
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    denied = X[clf.predict(X) != 1]
    assert_same(result, ResponsivenessExplainer(clf, A).explain(denied), denied.index)
    assert (result["prediction"] == 0).all() and len(result) == len(denied)


def test_the_report_is_stored_with_the_result_and_deleted_with_the_job(
    store, data, german
):
    X, y, A = german
    req = request(data, A, rows={"dataset_id": None, "filter": "all"}, n_reasons=2)
    result = run(store, data, req)
    (job,) = js.list_jobs(store=store, owner=data.owner, limit=10)[0]
    report = jobs.read_report(store, job.id)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    expected = ResponsivenessExplainer(clf, A).explain(X)
    assert report == json.loads(expected.to_json(n_reasons=2))
    assert [p["status"] for p in report["people"]] == result["status"].tolist()
    assert js.delete_job(store=store, owner=data.owner, job_id=job.id)
    assert not store.path("reports", job.id).exists()
    assert not store.path("results", job.id).exists()


@pytest.mark.parametrize("kind", ["xgboost", "lightgbm"])
def test_boosters_trained_by_the_service_on_a_second_dataset(store, data, german, kind):
    X, y, A = german
    rows = add_dataset(store, X.iloc[:8])
    req = request(
        data,
        A,
        model={"type": kind, "params": SMALL, "model_id": None},
        rows={"dataset_id": rows.id, "filter": "all"},
    )
    result = run(store, data, req)
    if kind == "xgboost":
        model = xgb().XGBClassifier(**SMALL)
    else:
        model = lgb().LGBMClassifier(verbose=-1, **SMALL)
    model.fit(X, y)
    expected = ResponsivenessExplainer(model, A).explain(X.iloc[:8])
    assert_same(result, expected, X.index[:8])
    np.testing.assert_array_equal(result["prediction"], model.predict(X.iloc[:8]))


@pytest.mark.parametrize("kind", ["xgboost", "lightgbm"])
def test_boosters_trained_on_raw_text_columns(store, kind):
    """German credit as users have it: its one-hot column names carry
    characters the boosters refuse in feature names ("... < 0 DM")."""
    from featimp.datasets import load_german_credit
    from tests._shared import credit_team_action_set

    X, y = load_german_credit()
    A = credit_team_action_set(X)
    raw = add_dataset(store, X.assign(**{TARGET: (y == "good").astype(int)}))
    req = request(raw, A, model={"type": kind, "params": SMALL, "model_id": None})
    job = run_stored_job(store, raw, req)
    result = pd.read_parquet(store.path("results", job.id))
    assert len(result) == job.result_rows > 0
    assert set(result["status"]) <= {"responsive", "joint_only", "fixed"}


def _upload(store, path, owner="alice"):
    description = describe_model(path)
    model_id = new_id()
    path.replace(store.path("models", model_id))
    return ms.create_model(
        store=store,
        model_id=model_id,
        owner=owner,
        name=path.name,
        fmt=description.format,
        size_bytes=1,
        objective=description.objective,
        n_classes=description.n_classes,
        n_features=description.n_features,
        feature_names=description.feature_names,
    )


def _saved_booster(kind, X, y, path):
    if kind == "xgboost":
        model = xgb().XGBClassifier(**SMALL).fit(X, y)
        model.save_model(path)
    else:
        model = lgb().LGBMClassifier(verbose=-1, **SMALL).fit(X, y)
        model.booster_.save_model(path)
    return model


@pytest.mark.parametrize(
    ("kind", "name"), [("xgboost", "m.json"), ("lightgbm", "m.txt")]
)
def test_uploaded_models_equal_their_originals(
    store, data, german, tmp_path, kind, name
):
    X, y, A = german
    # Columns in another order than the action set: matched by name.
    original = _saved_booster(kind, X.iloc[:, ::-1], y, tmp_path / name)
    model = _upload(store, tmp_path / name)
    rows = add_dataset(store, X.iloc[100:130])
    req = request(
        data,
        A,
        target=None,
        model={"type": None, "params": {}, "model_id": model.id},
        rows={"dataset_id": rows.id, "filter": "denied"},
    )
    result = run(store, data, req)
    batch = X.iloc[100:130]
    denied = batch[original.predict(batch.iloc[:, ::-1]) != 1]
    assert len(denied) > 0
    expected = ResponsivenessExplainer(original, A).explain(denied)
    assert_same(result, expected, denied.index - 100)


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"action_set": {"feature": []}}, "action_set", "'features' list"),
        (
            {"action_set": "kind-of-complex"},
            "action_set",
            "ActionSet.to_dict()",
        ),
        ({"action_set": {"features": []}}, "action_set.features", "no features"),
        (
            {"action_set": {"features": [{"name": "Age"}, {"name": "Age"}]}},
            "action_set.features",
            "unique",
        ),
        ({"params": {"n_samples": 0}}, "params.n_samples", "n_samples"),
        ({"params": {"rule": "paper"}}, "params.rule", "rule"),
        ({"params": {"estimator": "x"}}, "params.estimator", "unknown"),
        ({"desired": "good"}, "desired", "not a label"),
        ({"target": "Age"}, "target", "feature of the action set"),
        ({"target": None}, "target", "label column"),
        (
            {"model": {**LR, "params": {"colour": "red"}}},
            "model.params.colour",
            "colour",
        ),
        (
            {"model": {**LR, "params": {"C": "high"}}},
            "model.params.C",
            "'C' parameter",
        ),
        (  # refused by LightGBM only when it trains
            {"model": {"type": "lightgbm", "params": {"num_leaves": -3}}},
            "model.params",
            "lightgbm refused these parameters: LightGBMError",
        ),
        (
            {"model": {"type": "xgboost", "params": {"max_depth": "deep"}}},
            "model.params",
            "xgboost refused these parameters: XGBoostError",
        ),
        (
            {"model": {"type": None, "params": {}, "model_id": "0" * 32}},
            "model.model_id",
            "no model",
        ),
        (
            {"rows": {"dataset_id": "0" * 32, "filter": "all"}},
            "rows.dataset_id",
            "no dataset",
        ),
    ],
)
def test_bad_requests_name_their_field(store, data, german, changes, field, message):
    _, _, A = german
    with pytest.raises(jobs.JobRejected, match=message) as info:
        jobs.validate_job(
            store=store, dataset=data, request=request(data, A, **changes)
        )
    assert info.value.field == field


@pytest.mark.parametrize(
    ("index", "entry", "message"),
    [
        ("features", {"kind": "complex"}, "kind must be one of"),
        ("features", {"step_direction": 2}, "step_direction"),
        ("features", {"lb": "low"}, "could not convert"),
        ("features", {"colour": "red"}, "colour"),
        ("constraints", {"kind": "spline", "names": ["Age", "Male"]}, "spline"),
        ("constraints", {"kind": "one_hot", "names": ["Age", "Nope"]}, "Nope"),
    ],
)
def test_bad_action_set_entries_are_named(store, data, german, index, entry, message):
    _, _, A = german
    action_set = A.to_dict()
    if index == "features":
        action_set["features"][1] = {**action_set["features"][1], **entry}
        field = "action_set.features[1]"
    else:
        action_set["constraints"] = [*action_set["constraints"], entry]
        field = f"action_set.constraints[{len(A.constraints)}]"
    with pytest.raises(jobs.JobRejected, match=message) as info:
        jobs.validate_job(
            store=store, dataset=data, request=request(data, A, action_set=action_set)
        )
    assert info.value.field == field


def test_rows_that_violate_the_action_set_are_named(store, german):
    X, y, A = german
    bad = X.assign(Male=X["Male"].where(X.index != 3, 2))
    bad.loc[7, "YearsAtResidence"] = 9
    dataset = add_dataset(store, bad.assign(**{TARGET: y}))
    with pytest.raises(jobs.JobRejected, match=r"row 3.*row 7") as info:
        jobs.validate_job(store=store, dataset=dataset, request=request(dataset, A))
    assert info.value.field == "action_set"


def test_xgboost_needs_labels_zero_to_k(store, german):
    X, y, A = german
    dataset = add_dataset(store, X.assign(**{TARGET: y.map({0: "bad", 1: "good"})}))
    req = request(
        dataset,
        A,
        desired="good",
        model={"type": "xgboost", "params": {}, "model_id": None},
    )
    with pytest.raises(jobs.JobRejected, match=r"0\.\.k-1") as info:
        jobs.validate_job(store=store, dataset=dataset, request=req)
    assert info.value.field == "target"


def test_uploaded_model_must_match_the_action_set(store, data, german, tmp_path):
    X, y, A = german
    _saved_booster("lightgbm", X.drop(columns="Age"), y, tmp_path / "m.txt")
    model = _upload(store, tmp_path / "m.txt")
    req = request(data, A, model={"type": None, "params": {}, "model_id": model.id})
    with pytest.raises(jobs.JobRejected, match="has extra \\['Age'\\]"):
        jobs.validate_job(store=store, dataset=data, request=req)
    req["model"]["model_id"] = _upload(store, _lr_as_text(tmp_path), owner="bob").id
    with pytest.raises(jobs.JobRejected, match="no model"):
        jobs.validate_job(store=store, dataset=data, request=req)


def _lr_as_text(tmp_path):
    X, y = load_german_recourse()
    _saved_booster("lightgbm", X, y, tmp_path / "bob.txt")
    return tmp_path / "bob.txt"


def test_filter_that_keeps_no_row_fails_the_job_with_a_reason(store, data, german):
    X, y, A = german
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    rows = add_dataset(store, X[clf.predict(X) == 0].head(5))
    req = request(data, A, rows={"dataset_id": rows.id, "filter": "approved"})
    job, _ = js.create_job(
        store=store,
        owner="alice",
        job_type="responsiveness",
        dataset_id=data.id,
        request=req,
    )
    assert jobs.run_job(job.id, str(store.data_dir), lease="L") == "failed"
    error = js.get_job(store=store, job_id=job.id).error
    assert error["status"] == 422 and "no rows to explain" in error["detail"]


@pytest.mark.parametrize(
    ("content", "status", "message"),
    [
        (b"", 422, "empty"),
        (b"\x80\x04\x95pickle", 415, "XGBoost model saved as JSON"),
        (b"age,income\n1,2\n", 415, "not a model"),
        (b'{"learner": 3}', 422, "not an XGBoost JSON model"),
        (b"{not json", 422, "not an XGBoost JSON model"),
        (b"tree\nversion=v4\n", 422, "header lacks"),
        (
            b"tree\nversion=v4\nnum_class=1\nmax_feature_idx=2\nobjective=regression\n",
            422,
            "not a classifier",
        ),
        (
            b"tree\nversion=v4\nnum_class=1\nmax_feature_idx=2\nobjective=binary\n"
            b"Tree=0\nnonsense\n",
            422,
            "LightGBM cannot load",
        ),
    ],
)
def test_files_that_are_not_models_are_refused(tmp_path, content, status, message):
    path = tmp_path / "upload"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match=message) as info:
        describe_model(path)
    assert info.value.status == status


def test_regression_boosters_are_refused(tmp_path, german):
    X, y, _ = german
    regressor = xgb().XGBRegressor(n_estimators=2, n_jobs=1).fit(X, y)
    regressor.save_model(tmp_path / "r.json")
    with pytest.raises(ModelFileError, match="reg:squarederror"):
        describe_model(tmp_path / "r.json")


def test_the_one_numeric_rule_takes_half_floats_and_refuses_decimals(store, german):
    # Rank jobs and responsiveness jobs read column types through one rule;
    # decimals alone stay out of responsiveness: the models refuse them.
    X, y, A = german
    half = add_dataset(
        store, X.assign(Age=X["Age"].astype("float16"), **{TARGET: y}), fmt="parquet"
    )
    assert {c["name"]: c["dtype"] for c in half.columns}["Age"] == "halffloat"
    jobs.validate_job(store=store, dataset=half, request=request(half, A))

    decimals = X.assign(Age=[Decimal(int(v)) for v in X["Age"]], **{TARGET: y})
    exact = add_dataset(store, decimals, fmt="parquet")
    dtype = {c["name"]: c["dtype"] for c in exact.columns}["Age"]
    assert dtype.startswith("decimal") and column_kind(dtype) == "numeric"
    with pytest.raises(jobs.JobRejected, match="'Age' are not numeric") as info:
        jobs.validate_job(store=store, dataset=exact, request=request(exact, A))
    assert info.value.field == "dataset_id"
