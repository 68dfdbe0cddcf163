"""A rank job's result is the ranking `featimp rank` prints, intervals and
p-values included, from one function (`featimp.methods.ranking_table`)."""

import pandas as pd

from featimp.datasets import load_dataset
from service.jobs import run_job
from service.store import jobs as js
from service.store import open_store
from tests.service.test_jobs import add_dataset
from tests.service.test_jobs import request as rank_request


def _ranked(tmp_path, method, params) -> pd.DataFrame:
    store = open_store(tmp_path / "data")
    X, y = load_dataset("wine")
    dataset = add_dataset(store, X.assign(target=y))
    request = rank_request(dataset, target="target", method=method, params=params)
    job, _ = js.create_job(
        store=store, owner="alice", job_type="rank", dataset_id=dataset.id,
        request=request,
    )  # fmt: skip
    assert run_job(job.id, str(store.data_dir), "L") == "succeeded"
    return pd.read_parquet(store.path("results", job.id))


def test_stability_adds_the_intervals_and_selection_probability(tmp_path):
    table = _ranked(tmp_path, "mi", {"stability": 5, "random_state": 0})
    assert list(table.columns) == [
        "rank", "feature", "importance", "importance_low", "importance_high",
        "rank_low", "rank_high", "selection_probability", "selected",
    ]  # fmt: skip
    assert (table["importance_low"] <= table["importance_high"]).all()
    assert table["selection_probability"].between(0, 1).all()
    plain = _ranked(tmp_path / "plain", "mi", {"random_state": 0})
    assert list(plain.columns) == ["rank", "feature", "importance", "selected"]
    assert plain["rank"].tolist() == list(range(1, 14))
