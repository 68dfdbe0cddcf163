"""The jobs against a temporary store: validation and in-process job runs."""

import numpy as np
import pandas as pd
import pytest

from featimp.datasets import load_dataset, load_german_credit
from featimp.methods import get_method
from service import jobs
from service.store import datasets as ds
from service.store import jobs as js
from service.store import open_store
from service.store import selectors as ss
from service.store.db import new_id
from service.store.files import read_frame
from service.tables import describe_and_store
from tests._shared import GERMAN_TARGET, german_with_blanks
from tests.service.conftest import FAST_PARAMS


@pytest.fixture
def store(tmp_path):
    return open_store(tmp_path / "data")


def add_dataset(store, frame: pd.DataFrame, owner="alice", fmt="csv"):
    upload = store.temp_path(f".{fmt}")
    if fmt == "csv":
        frame.to_csv(upload, index=False)
    else:
        frame.to_parquet(upload, index=False)
    dataset_id = new_id()
    table = describe_and_store(
        upload, store.path("datasets", dataset_id), max_rows=10**6, max_columns=1000
    )
    return ds.create_dataset(
        store=store,
        dataset_id=dataset_id,
        owner=owner,
        name=f"t.{fmt}",
        fmt=fmt,
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
        ({"task": "regression", "params": {"task": "classification"}}, "params.task"),
        ({"task": "regression"}, "task"),  # a string target cannot be regressed
    ],
)
def test_validate_job_names_the_field(store, german, changes, field):
    with pytest.raises(jobs.JobRejected) as info:
        jobs.validate_job(
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
    jobs.validate_job(store=store, dataset=dataset, request=req)
    status = jobs.run_job(job.id, str(store.data_dir), lease="L")
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
    reduced = jobs.transform_dataset(store=store, selector=selector, dataset=german)
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
    with pytest.raises(jobs.JobRejected, match="duration_in_month"):
        jobs.transform_dataset(store=store, selector=selector, dataset=other)


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
    assert jobs.run_job(job.id, str(store.data_dir), lease="L") == "failed"
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
    progress = jobs.run._Progress(store, job.id, "L")
    with pytest.raises(jobs.JobStopped):
        progress(0.5, "fitting")


def _consensus_job(store, german):
    req = request(
        german,
        method="consensus",
        params={"methods": ["mi", "lasso"], "stability": 10, "random_state": 0},
    )
    job, _ = js.create_job(
        store=store, owner="alice", job_type="rank", dataset_id=german.id, request=req
    )
    return job


def test_a_jobs_progress_moves_with_the_fit(store, german, monkeypatch):
    """Every consensus refit moves the job: a client polling it sees it
    advance, with the loop's stage, not 0.15 until the end."""
    monkeypatch.setattr(jobs.progress, "REPORT_EVERY", 0)
    reports = []
    job = _consensus_job(store, german)
    jobs.rank.fit(store, job, lambda f, stage: reports.append((f, stage)))
    fractions = [f for f, _ in reports]
    assert np.all(np.diff(fractions) >= 0) and fractions[-1] == 0.9
    during = [(f, s) for f, s in reports if 0.15 < f < 0.9]
    assert len({f for f, _ in during}) >= 10
    assert all("consensus fits" in s for _, s in during)


def test_a_canceled_job_stops_within_its_fit(store, german, monkeypatch):
    monkeypatch.setattr(jobs.progress, "REPORT_EVERY", 0)
    job = _consensus_job(store, german)
    js.start_job(store=store, job_id=job.id, lease="L", executor="local")
    progress = jobs.run._Progress(store, job.id, "L")
    calls = []

    def cancel_midway(fraction, stage):
        calls.append(fraction)
        if len(calls) == 5:
            js.cancel_job(store=store, owner="alice", job_id=job.id)
        progress(fraction, stage)

    with pytest.raises(jobs.JobStopped):
        jobs.rank.fit(store, job, cancel_midway)
    assert len(calls) == 5 and calls[-1] < 0.9  # stopped at that report


# Real tabular data: text, categories and missing values as they are.


@pytest.fixture
def blanks(store):
    return add_dataset(store, german_with_blanks())


@pytest.mark.parametrize("method", list(FAST_PARAMS))
def test_rank_jobs_on_text_and_missing_values(store, blanks, method):
    req = request(blanks, method=method, params=FAST_PARAMS[method])
    status, job = _run(store, blanks, req)
    assert status == "succeeded", job.error
    result = pd.read_parquet(store.path("results", job.id))
    assert sorted(result["feature"]) == sorted(
        c for c in blanks.column_names if c != GERMAN_TARGET
    )
    assert job.warnings == []


def test_parquet_types_reach_the_method(store):
    frame = german_with_blanks().astype(
        {"duration_in_month": "Int64", "purpose": "string", "job": "category"}
    )
    dataset = add_dataset(store, frame, fmt="parquet")
    X, _ = jobs.rank.read_X_y(store, dataset.id, request(dataset))
    assert (X["duration_in_month"].dtype, X["job"].dtype) == ("Int64", "category")
    assert X["purpose"].isna().sum() == 100
    status, job = _run(store, dataset, request(dataset))
    assert status == "succeeded", job.error


def test_task_reaches_the_selector(store):
    X, _ = load_german_credit()
    target = "installment_rate_in_percentage_of_disposable_income"
    numeric = X.select_dtypes("number")
    dataset = add_dataset(store, numeric)
    params = FAST_PARAMS["lasso"]
    req = request(dataset, target=target, method="lasso", params=params)
    _, job = _run(store, dataset, {**req, "task": "regression"})
    result = pd.read_parquet(store.path("results", job.id)).set_index("feature")
    Xn, y = numeric.drop(columns=target), numeric[target]
    expected = get_method("lasso").make_selector(task="regression", **params)
    np.testing.assert_allclose(
        result.loc[list(Xn.columns), "importance"],
        expected.fit(Xn, y).importances_,
    )
    # auto is classification here: the task changed the scores.
    _, auto = _run(store, dataset, req)
    auto = pd.read_parquet(store.path("results", auto.id)).set_index("feature")
    assert not np.allclose(auto.loc[Xn.columns, "importance"], expected.importances_)


def test_warnings_about_unusable_columns_are_kept_on_the_job(store):
    frame = german_with_blanks().assign(empty=np.nan, also_empty=np.nan)
    dataset = add_dataset(store, frame)
    status, job = _run(
        store,
        dataset,
        request(
            dataset,
            method="consensus",
            params={
                "methods": ["mi", "lasso"],
                "stability": 2,
                "random_state": 0,
            },
        ),
    )
    assert status == "succeeded", job.error
    assert len(job.warnings) == 1  # said once, although each method warns
    assert "'empty' is entirely missing" in job.warnings[0]
    assert "'also_empty'" in job.warnings[0]
    result = pd.read_parquet(store.path("results", job.id)).set_index("feature")
    assert result.loc[["empty", "also_empty"], "importance"].tolist() == [0, 0]


def test_select_and_transform_keep_text_and_missing_values(store, blanks):
    params = {**FAST_PARAMS["lasso"], "n_features_to_select": 8}
    status, job = _run(
        store, blanks, request(blanks, type="select", method="lasso", params=params)
    )
    assert status == "succeeded", job.error
    selector = ss.get_selector(store=store, owner="alice", selector_id=job.selector_id)
    reduced = jobs.transform_dataset(store=store, selector=selector, dataset=blanks)
    assert list(reduced.columns) == selector.selected
    stored = read_frame(store, blanks.id, selector.selected)
    pd.testing.assert_frame_equal(
        reduced.astype(object).where(reduced.notna(), None),
        stored.astype(object).where(stored.notna(), None),
    )
    dtypes = {c["name"]: c["dtype"] for c in blanks.columns}
    text = [c for c in selector.selected if dtypes[c] == "string"]
    assert text and all(pd.api.types.is_string_dtype(reduced[c]) for c in text)
    assert reduced.isna().sum().sum() == stored.isna().sum().sum() > 0


def test_columns_the_tags_refuse_are_named(store, blanks, numbers_only):
    with pytest.raises(jobs.JobRejected) as info:
        jobs.validate_job(
            store=store, dataset=blanks, request=request(blanks, method="numbers_only")
        )
    assert info.value.field == "features"
    assert "does not read text" in info.value.detail
    assert "'purpose'" in info.value.detail

    numeric = [c for c in blanks.columns if c["dtype"] in ("int64", "double")]
    req = request(
        blanks,
        method="numbers_only",
        features=[c["name"] for c in numeric if c["name"] != GERMAN_TARGET],
    )
    with pytest.raises(jobs.JobRejected, match="'duration_in_month'") as info:
        jobs.validate_job(store=store, dataset=blanks, request=req)
    assert "missing values" in info.value.detail
    catalog = {m["name"]: m for m in jobs.method_catalog()}
    assert catalog["numbers_only"]["input_tags"]["string"] is False
    assert catalog["mi"]["input_tags"] == {
        "categorical": True,
        "string": True,
        "allow_nan": True,
    }


def test_target_with_missing_values_is_refused(store):
    frame = german_with_blanks()
    frame.loc[[4, 9], GERMAN_TARGET] = None
    dataset = add_dataset(store, frame)
    with pytest.raises(jobs.JobRejected, match=GERMAN_TARGET) as info:
        jobs.validate_job(store=store, dataset=dataset, request=request(dataset))
    assert info.value.field == "target" and "2 missing" in info.value.detail
