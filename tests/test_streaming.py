"""Streaming ranking of partitioned datasets: exactly the in-memory MI and mRMR."""

import numpy as np
import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyarrow.dataset")

from featimp import mrmr_importances, mutual_info_importances, rank_dataset  # noqa: E402


def _frame(n=600, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 3, n)
    signal = y + rng.normal(0, 0.7, n)
    signal[rng.random(n) < 0.1] = np.nan
    words = np.array(["red", "green", "blue", "teal"])
    text = words[(y + rng.integers(0, 2, n)) % 4].astype(object)
    text[rng.random(n) < 0.15] = None
    return pd.DataFrame(
        {
            "signal": signal,
            "noise": rng.normal(size=n),
            "count": rng.integers(0, 7, n).astype(float),
            "text": pd.Series(text, dtype=object),
            "ids": rng.integers(0, 300, n),
            "shade": pd.Categorical(words[(y + rng.integers(0, 3, n)) % 4]),
            "flag": rng.random(n) < 0.3 + 0.2 * (y == 1),
            "y": y,
        }
    )


def _write(frame, folder, sizes):
    paths, start = [], 0
    for i, size in enumerate(sizes):
        path = folder / f"part-{i:02d}.parquet"
        frame.iloc[start : start + size].to_parquet(path, index=False)
        paths.append(str(path))
        start += size
    return paths


def _in_memory(frame, score=mutual_info_importances, **params):
    X, y = frame.drop(columns="y"), frame["y"]
    return pd.Series(score(X, y, **params), index=X.columns)


def _redundant_frame():
    """_frame with a noisy copy of the signal: mRMR must push one back."""
    frame = _frame()
    rng = np.random.default_rng(5)
    frame.insert(1, "twin", frame["signal"] + rng.normal(0, 0.1, len(frame)))
    return frame


@pytest.mark.parametrize(
    "params",
    [
        {"random_state": 0},
        {"null_correction": False},
        {"null_correction": "zscore", "n_permutations": 4, "random_state": 1},
        {"task": "regression", "random_state": 2},
        {"null_correction": "expected"},
        {"null_correction": "expected", "task": "regression"},
    ],
)
def test_streamed_equals_in_memory(tmp_path, params):
    frame = _frame()
    _write(frame, tmp_path, [250, 100, 250])
    streamed = rank_dataset(str(tmp_path / "*.parquet"), "y", batch_size=64, **params)
    expected = _in_memory(frame, **params)
    got = streamed.set_index("feature")["importance"].reindex(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    assert list(streamed.columns) == ["feature", "importance", "rank"]
    assert streamed["rank"].tolist() == list(range(1, 8))
    task = params.get("task", "classification")
    assert streamed.attrs == {
        "hashed": {},
        "n_samples": 600,
        "n_files": 3,
        "task": task,
    }


def test_order_of_files_and_batch_size_do_not_matter(tmp_path):
    paths = _write(_frame(), tmp_path, [200, 150, 250])
    a = rank_dataset(paths, "y", random_state=0, batch_size=50)
    b = rank_dataset(paths[::-1], "y", random_state=0, batch_size=1000)
    pd.testing.assert_frame_equal(a, b)


def test_dataset_and_directory_sources(tmp_path):
    import pyarrow.dataset as ds

    _write(_frame(), tmp_path, [300, 300])
    a = rank_dataset(ds.dataset(str(tmp_path), format="parquet"), "y", random_state=0)
    b = rank_dataset(tmp_path, "y", random_state=0)
    pd.testing.assert_frame_equal(a, b)


def test_csv_files(tmp_path):
    frame = _frame().drop(columns="text")
    frame[:300].to_csv(tmp_path / "a.csv", index=False)
    frame[300:].to_csv(tmp_path / "b.csv", index=False)
    streamed = rank_dataset(str(tmp_path / "*.csv"), "y", random_state=0)
    expected = _in_memory(frame, random_state=0)
    got = streamed.set_index("feature")["importance"].reindex(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def test_sampled_edges_when_the_sample_is_smaller(tmp_path):
    frame = _frame()
    _write(frame, tmp_path, [300, 300])
    streamed = rank_dataset(tmp_path, "y", random_state=0, sample_size=200)
    assert streamed["feature"].iloc[0] in {"signal", "text"}
    again = rank_dataset(tmp_path, "y", random_state=0, sample_size=200, batch_size=7)
    pd.testing.assert_frame_equal(streamed, again)


def test_high_cardinality_is_hashed_and_reported(tmp_path):
    _write(_frame(), tmp_path, [300, 300])
    table = rank_dataset(tmp_path, "y", random_state=0, max_categories=64)
    assert set(table.attrs["hashed"]) == {"ids"}  # continuous columns are binned
    rate = table.attrs["hashed"]["ids"]
    assert 0.0 < rate < 1.0


def test_constant_and_unusable_columns_score_zero(tmp_path):
    frame = _frame()
    frame["const"] = 1.0
    frame["when"] = pd.Timestamp("2020-01-01")
    _write(frame, tmp_path, [300, 300])
    table = rank_dataset(tmp_path, "y", random_state=0).set_index("feature")
    assert table.loc["const", "importance"] == 0.0
    assert table.loc["when", "importance"] == 0.0


def test_different_schemas_name_the_file(tmp_path):
    paths = _write(_frame(), tmp_path, [300, 300])
    other = _frame().astype({"count": "int64"})
    other.to_parquet(paths[1], index=False)
    with pytest.raises(ValueError, match=r"part-01\.parquet.*count"):
        rank_dataset(paths, "y")


def test_missing_target_names_the_file(tmp_path):
    paths = _write(_frame(), tmp_path, [300, 300])
    _frame().drop(columns="y").to_parquet(paths[1], index=False)
    with pytest.raises(ValueError, match=r"target column 'y' is missing in .*part-01"):
        rank_dataset(paths, "y")


def test_unreadable_file_names_the_file(tmp_path):
    paths = _write(_frame(), tmp_path, [300, 300])
    with open(paths[0], "wb") as f:
        f.write(b"not a parquet file")
    with pytest.raises(ValueError, match=r"cannot read .*part-00\.parquet"):
        rank_dataset(paths, "y")


def test_no_files_and_bad_arguments(tmp_path):
    with pytest.raises(FileNotFoundError, match="no files match"):
        rank_dataset(str(tmp_path / "*.parquet"), "y")
    _write(_frame(), tmp_path, [600])
    with pytest.raises(ValueError, match="method"):
        rank_dataset(tmp_path, "y", method="kan")
    with pytest.raises(TypeError, match="unexpected"):
        rank_dataset(tmp_path, "y", n_neighbours=3)


def test_dask_client_equals_single_process(tmp_path):
    distributed = pytest.importorskip("distributed")
    paths = _write(_frame(), tmp_path, [100, 150, 120, 130, 100])
    local = rank_dataset(paths, "y", random_state=0, batch_size=64)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = rank_dataset(paths, "y", random_state=0, batch_size=64, client=client)
    pd.testing.assert_frame_equal(local, remote)


@pytest.mark.parametrize(
    "params",
    [
        {"random_state": 0},
        {"null_correction": False},
        {"criterion": "miq", "random_state": 1},
        {"n_features": 3, "task": "regression", "random_state": 2},
        {"n_permutations": 5, "random_state": 3},
        {"null_correction": "expected"},
    ],
)
def test_mrmr_streamed_equals_in_memory(tmp_path, params):
    frame = _redundant_frame()
    _write(frame, tmp_path, [250, 100, 250])
    streamed = rank_dataset(tmp_path, "y", method="mrmr", batch_size=64, **params)
    expected = _in_memory(frame, mrmr_importances, **params)
    got = streamed.set_index("feature")["importance"].reindex(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    order = expected.sort_values(ascending=False, kind="stable").index
    depth = params.get("n_features", len(order))
    assert streamed["feature"].tolist()[:depth] == order.tolist()[:depth]
    assert streamed.attrs["n_samples"] == 600
    assert streamed.attrs["task"] == params.get("task", "classification")


def test_mrmr_exact_when_counted_without_numba(tmp_path, monkeypatch):
    from featimp import _binning

    frame = _redundant_frame()
    _write(frame, tmp_path, [250, 350])
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)
    streamed = rank_dataset(tmp_path, "y", method="mrmr", random_state=0)
    expected = _in_memory(frame, mrmr_importances, random_state=0)
    got = streamed.set_index("feature")["importance"].reindex(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def test_mrmr_redundancy_counts_and_constants(tmp_path):
    frame = _redundant_frame()
    frame["const"] = 2.0
    _write(frame, tmp_path, [300, 300])
    table = rank_dataset(tmp_path, "y", method="mrmr", random_state=0)
    features = table["feature"].tolist()
    # The twin is the most relevant after the signal, but redundant with it.
    assert features.index("twin") > features.index("signal") + 1
    assert table.set_index("feature").loc["const", "importance"] == 0.0
    hashed = rank_dataset(tmp_path, "y", method="mrmr", max_categories=64)
    assert set(hashed.attrs["hashed"]) == {"ids"}


def test_mrmr_bad_parameters(tmp_path):
    _write(_frame(), tmp_path, [600])
    with pytest.raises(ValueError, match=r"zscore.*mrmr"):
        rank_dataset(tmp_path, "y", method="mrmr", null_correction="zscore")
    with pytest.raises(ValueError, match="n_features=9 is larger than the 7"):
        rank_dataset(tmp_path, "y", method="mrmr", n_features=9)
    with pytest.raises(ValueError, match="criterion"):
        rank_dataset(tmp_path, "y", method="mrmr", criterion="max")
    with pytest.raises(TypeError, match="unexpected"):
        rank_dataset(tmp_path, "y", n_features=3)  # an mRMR parameter, not MI's


def test_mrmr_dask_client_equals_single_process(tmp_path):
    distributed = pytest.importorskip("distributed")
    paths = _write(_redundant_frame(), tmp_path, [100, 150, 120, 130, 100])
    local = rank_dataset(paths, "y", method="mrmr", random_state=0, batch_size=64)
    with (
        distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        remote = rank_dataset(
            paths[::-1], "y", method="mrmr", random_state=0, client=client
        )
    pd.testing.assert_frame_equal(local, remote)


def _traced_peak(source, **params) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        rank_dataset(source, "y", batch_size=4096, sample_size=4000, **params)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(
    "params",
    [
        {"null_correction": "expected"},
        {"null_correction": False, "method": "mrmr", "n_features": 3},
        {"null_correction": "expected", "method": "mrmr", "n_features": 3},
    ],
)
def test_memory_does_not_grow_with_rows_without_permutations(tmp_path, params):
    # The same files four times over: 4x the rows. Without permutations
    # nothing is kept per row (the target is coded from each batch), so the
    # peak of the allocations stays; the permutation null keeps a code per
    # row and target (and mRMR the permutations), so there it grows.
    frame = _frame(20_000)
    for copies, folder in ((1, tmp_path / "small"), (4, tmp_path / "large")):
        folder.mkdir()
        for k in range(copies):
            for i, rows in enumerate(np.array_split(np.arange(len(frame)), 4)):
                frame.iloc[rows].to_parquet(
                    folder / f"part-{k}-{i}.parquet", index=False
                )
    _traced_peak(tmp_path / "small", **params)  # imports and compiles first
    small = _traced_peak(tmp_path / "small", **params)
    large = _traced_peak(tmp_path / "large", **params)
    assert large < 1.25 * small, (small, large)
    sampled = {**params, "null_correction": True, "random_state": 0}
    grows = _traced_peak(tmp_path / "large", **sampled)
    assert grows > 1.5 * _traced_peak(tmp_path / "small", **sampled)
