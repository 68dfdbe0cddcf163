"""The runner against a temporary store: validation and in-process job runs."""

import numpy as np
import pandas as pd
import pytest

from featimp.datasets import load_dataset, load_german_credit
from featimp.methods import get_method
from service import runner
from service.store import datasets as ds
from service.store import jobs as js
from service.store import open_store
from service.store import selectors as ss
from service.store.db import new_id
from service.tables import describe_and_store

GERMAN_TARGET = "creditability"


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


def add_dataset(store, frame: pd.DataFrame, owner="alice"):
    upload = store.temp_path(".csv")
    frame.to_csv(upload, index=False)
    dataset_id = new_id()
    table = describe_and_store(
        upload, store.path("datasets", dataset_id), max_rows=10**6, max_columns=1000
    )
    return ds.create_dataset(
        store=store,
        dataset_id=dataset_id,
        owner=owner,
        name="t.csv",
        fmt="csv",
        size_bytes=1,
        n_rows=table.n_rows,
        columns=table.columns,
    )


@pytest.fixture
def german(store):
    X, y = load_german_credit()
    return add_dataset(store, X.assign(**{GERMAN_TARGET: y}))


def request(dataset, **changes):
    base = {
        "type": "rank",
        "dataset_id": dataset.id,
        "target": GERMAN_TARGET,
        "method": "mi",
        "params": {"random_state": 0},
        "task": "auto",
        "features": None,
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"method": "nope"}, "method"),
        ({"target": "salary"}, "target"),
        ({"target": None}, "target"),
        ({"params": {"n_bins": "many"}}, "params.n_bins"),
        ({"params": {"bogus": 1}}, "params.bogus"),
        ({"params": {"n_features_to_select": 50}}, "params.n_features_to_select"),
        ({"features": ["duration_in_month", "missing"]}, "features"),
        ({"method": "ecfs", "params": {}}, "features"),  # text columns, numeric method
        ({"task": "regression"}, "task"),  # a string target cannot be regressed
    ],
)
def test_validate_job_names_the_field(store, german, changes, field):
    with pytest.raises(runner.JobRejected) as info:
        runner.validate_job(
            store=store, dataset=german, request=request(german, **changes)
        )
    assert info.value.field == field


def _run(store, dataset, req, owner="alice"):
    job, _ = js.create_job(
        store=store,
        owner=owner,
        job_type=req["type"],
        dataset_id=dataset.id,
        request=req,
    )
    runner.validate_job(store=store, dataset=dataset, request=req)
    status = runner.run_job(job.id, str(store.data_dir), lease="L")
    return status, js.get_job(store=store, job_id=job.id)


def test_rank_job_equals_the_library_call(store, german):
    status, job = _run(store, german, request(german))
    assert status == "succeeded" and job.result_rows == 20
    result = pd.read_parquet(store.path("results", job.id))
    X, y = load_german_credit()
    expected = get_method("mi").make_selector(random_state=0).fit(X, y)
    by_feature = result.set_index("feature").loc[list(X.columns)]
    np.testing.assert_array_equal(by_feature["importance"], expected.importances_)
    np.testing.assert_array_equal(by_feature["rank"], expected.ranking_)
    assert list(result["rank"]) == list(range(1, 21))


def test_select_job_stores_a_selector_that_transforms(store, german):
    req = request(
        german, type="select", params={"n_features_to_select": 4, "random_state": 0}
    )
    status, job = _run(store, german, req)
    assert status == "succeeded"
    selector = ss.get_selector(store=store, owner="alice", selector_id=job.selector_id)
    assert len(selector.selected) == 4 and GERMAN_TARGET not in selector.features_in
    reduced = runner.transform_dataset(store=store, selector=selector, dataset=german)
    assert list(reduced.columns) == selector.selected
    assert len(reduced) == 1000


def test_transform_names_missing_columns(store, german):
    req = request(
        german, type="select", params={"n_features_to_select": 2, "random_state": 0}
    )
    _, job = _run(store, german, req)
    selector = ss.get_selector(store=store, owner="alice", selector_id=job.selector_id)
    X, _ = load_german_credit()
    other = add_dataset(store, X.drop(columns=["duration_in_month"]).head(50))
    with pytest.raises(runner.JobRejected, match="duration_in_month"):
        runner.transform_dataset(store=store, selector=selector, dataset=other)


def test_unsupervised_job_and_feature_subset(store):
    X, _ = load_dataset("wine")
    wine = add_dataset(store, X)
    req = request(
        wine, method="ecfs", target=None, params={}, features=list(X.columns[:6])
    )
    status, job = _run(store, wine, req)
    assert status == "succeeded" and job.result_rows == 6


def test_failure_inside_the_method_is_recorded_as_a_problem(store, german):
    # Validation passes (constant target is only found by the method itself).
    X, _ = load_german_credit()
    constant = add_dataset(store, X.assign(creditability="good").head(100))
    job, _ = js.create_job(
        store=store,
        owner="alice",
        job_type="rank",
        dataset_id=constant.id,
        request=request(constant),
    )
    assert runner.run_job(job.id, str(store.data_dir), lease="L") == "failed"
    error = js.get_job(store=store, job_id=job.id).error
    assert error["status"] == 422 and "one class" in error["detail"]


def test_canceled_job_stops_at_its_next_progress_report(store, german):
    job, _ = js.create_job(
        store=store,
        owner="alice",
        job_type="rank",
        dataset_id=german.id,
        request=request(german),
    )
    js.start_job(store=store, job_id=job.id, lease="L", executor="local")
    js.cancel_job(store=store, owner="alice", job_id=job.id)
    progress = runner._Progress(store, job.id, "L")
    with pytest.raises(runner.JobStopped):
        progress(0.5, "fitting")
