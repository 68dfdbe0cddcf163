"""Streaming ranking of partitioned datasets: exactly the in-memory MI and mRMR,
EC-FS and Inf-FS to rounding; files, pyarrow datasets and dask frames."""

import numpy as np
import pandas as pd
import pytest

pa = pytest.importorskip("pyarrow")
pytest.importorskip("pyarrow.dataset")

from featimp import (  # noqa: E402
    _streaming,
    eigenvector_centrality_importances,
    inffs_importances,
    mrmr_importances,
    mutual_info_importances,
    rank_dataset,
)


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
    assert list(streamed.columns) == ["rank", "feature", "importance", "selected"]
    assert streamed["rank"].tolist() == list(range(1, 8))
    assert streamed["selected"].tolist() == [True] * 3 + [False] * 4  # best half
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
        # A small cap on distinct values: pass 1's sets of them (up to the
        # cap, per column) would otherwise outweigh what grows with the rows.
        rank_dataset(
            source, "y", batch_size=4096, sample_size=4000, max_categories=500, **params
        )
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
    # Imports, compiles and first-time allocations (per code width, per
    # thread) before anything is measured: both sizes run once.
    _traced_peak(tmp_path / "small", **params)
    _traced_peak(tmp_path / "large", **params)
    small = _traced_peak(tmp_path / "small", **params)
    large = _traced_peak(tmp_path / "large", **params)
    assert large < 1.25 * small, (small, large)
    sampled = {**params, "null_correction": True, "random_state": 0}
    grows = _traced_peak(tmp_path / "large", **sampled)
    # At least a byte a row for each of the 3 permuted targets' codes.
    assert grows - _traced_peak(tmp_path / "small", **sampled) > 3 * 60_000


def _local_client(distributed):
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None
    )
    return cluster, distributed.Client(cluster)


def _importances(table, columns) -> np.ndarray:
    return table.set_index("feature")["importance"].reindex(columns).to_numpy()


def _graph_frame(n=600, seed=0):
    """_frame with missing values in an integer-valued column (its median
    from its few distinct values) and in a continuous one."""
    frame = _frame(n, seed)
    rng = np.random.default_rng(seed + 10)
    frame.loc[rng.random(n) < 0.2, "count"] = np.nan
    frame.loc[rng.random(n) < 0.05, "noise"] = np.nan
    return frame


GRAPH_CASES = [
    ("ecfs", {}, {}),
    ("ecfs", {"standardize": False}, {"max_categories": 64}),
    ("ecfs", {"mode": "extended", "alpha": 0.3, "solver": "dense"}, {}),
    ("inffs", {}, {}),
    ("inffs", {"affinity": "inffs", "decay": 0.5}, {"max_categories": 64}),
    ("inffs", {"affinity": "inffs_v4", "standardize": False}, {}),
]
GRAPH_FUNCTIONS = {
    "ecfs": eigenvector_centrality_importances,
    "inffs": inffs_importances,
}


@pytest.mark.parametrize(("method", "params", "stream"), GRAPH_CASES)
def test_graph_methods_streamed_equal_in_memory(tmp_path, method, params, stream):
    # Text, categories, booleans and missing values in numbers and text, in
    # three files read 64 rows at a time; max_categories=64 makes the
    # continuous columns' medians come from the bit-by-bit search.
    frame = _graph_frame()
    _write(frame, tmp_path, [250, 100, 250])
    streamed = rank_dataset(
        tmp_path, "y", method=method, batch_size=64, **params, **stream
    )
    expected = _in_memory(frame, GRAPH_FUNCTIONS[method], **params)
    got = _importances(streamed, expected.index)
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-10, atol=0)
    order = expected.sort_values(ascending=False, kind="stable").index
    assert streamed["feature"].tolist() == order.tolist()
    assert streamed.attrs == {
        "hashed": {},
        "n_samples": 600,
        "n_files": 3,
        "task": "classification",
    }


@pytest.mark.parametrize("method", ["ecfs", "inffs"])
def test_graph_methods_binary_and_text_targets(tmp_path, method):
    frame = _graph_frame()
    frame["y"] = np.where(frame["y"] == 1, "yes", "no")
    _write(frame, tmp_path, [300, 300])
    for params in ({}, {"mode": "reference", "standardize": False}):
        streamed = rank_dataset(tmp_path, "y", method=method, batch_size=50, **params)
        expected = _in_memory(frame, GRAPH_FUNCTIONS[method], **params)
        got = _importances(streamed, expected.index)
        np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-10, atol=0)


def test_graph_numeric_table_keeps_raw_spread(tmp_path):
    # No text and no missing values: standardize="auto" keeps the raw
    # standard deviations, so scale matters, in memory and streamed.
    frame = _frame()[["noise", "count", "ids", "y"]]
    frame = frame.assign(noise=1000 * frame["noise"])
    _write(frame, tmp_path, [200, 200, 200])
    streamed = rank_dataset(tmp_path, "y", method="ecfs", batch_size=128)
    expected = _in_memory(frame, eigenvector_centrality_importances)
    got = _importances(streamed, expected.index)
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-10, atol=0)
    standardized = _in_memory(
        frame, eigenvector_centrality_importances, standardize=True
    )
    assert not np.allclose(expected, standardized)  # the raw spread mattered


def test_graph_nodes_and_counts_are_the_in_memory_ones_to_the_bit(
    tmp_path, monkeypatch
):
    from featimp._affinity import _bin_index, _joint_counts, _n_bins, feature_affinity

    frame = _graph_frame()
    _write(frame, tmp_path, [250, 100, 250])
    captured = {}
    statistics = _streaming._node_statistics

    def capture(plan, sums, fills):
        captured["names"] = plan.table.encoded_names
        captured["found"] = statistics(plan, sums, fills)
        return captured["found"]

    monkeypatch.setattr(_streaming, "_node_statistics", capture)
    rank_dataset(tmp_path, "y", method="ecfs", batch_size=64, max_categories=64)
    (sizes, means, m2, low, high, _), joint, constant = captured["found"]
    table = feature_affinity(frame.drop(columns="y"), frame["y"]).table
    X, codes = table.values, frame["y"].to_numpy()
    assert captured["names"] == table.encoded_names
    n_bins = _n_bins(len(X))
    bins, expected_constant = _bin_index(X, n_bins)
    np.testing.assert_array_equal(joint, _joint_counts(bins, codes, 3, n_bins))
    np.testing.assert_array_equal(constant, expected_constant)
    for k in range(3):  # the imputed medians included
        rows = X[codes == k]
        assert sizes[k] == len(rows)
        np.testing.assert_array_equal(low[k], rows.min(axis=0))
        np.testing.assert_array_equal(high[k], rows.max(axis=0))
        np.testing.assert_allclose(means[k], rows.mean(axis=0), rtol=1e-13)
        squares = ((rows - rows.mean(axis=0)) ** 2).sum(axis=0)
        np.testing.assert_allclose(m2[k], squares, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(
    "columns", [["word", "same"], ["word"], ["half"], ["ones", "half", "same"]]
)
def test_graph_small_tables(tmp_path, columns):
    # Text only, one node, a single category, a constant column, a column
    # that is 1 or missing; sorted classes, so a file lacks a class.
    rng = np.random.default_rng(3)
    y = np.sort(rng.integers(0, 3, 300))
    frame = pd.DataFrame(
        {
            "word": pd.Series(np.array(list("abc"))[(y + rng.integers(0, 2, 300)) % 3]),
            "same": pd.Series(["k"] * 300, dtype=object),
            "ones": np.ones(300),
            "half": np.where(rng.random(300) < 0.5, np.nan, 1.0),
        }
    )[columns].assign(y=y)
    _write(frame, tmp_path, [100, 100, 100])
    for method, score in GRAPH_FUNCTIONS.items():
        streamed = rank_dataset(tmp_path, "y", method=method, batch_size=32)
        expected = _in_memory(frame, score)
        got = _importances(streamed, expected.index)
        np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-10, atol=0)


def test_graph_unusable_columns_score_zero_with_the_in_memory_warning(tmp_path):
    frame = _graph_frame()
    frame["when"] = pd.Timestamp("2020-01-01")
    frame["empty"] = np.nan
    _write(frame, tmp_path, [300, 300])
    with pytest.warns(UserWarning, match="cannot be used score 0: 'when'.*'empty'"):
        streamed = rank_dataset(tmp_path, "y", method="ecfs", batch_size=100)
    with pytest.warns(UserWarning, match="cannot be used score 0"):
        expected = _in_memory(frame, eigenvector_centrality_importances)
    got = _importances(streamed, expected.index)
    np.testing.assert_allclose(got, expected.to_numpy(), rtol=1e-10, atol=0)
    assert got[list(expected.index).index("when")] == 0.0
    assert got[list(expected.index).index("empty")] == 0.0


def test_graph_order_of_files_and_batch_size(tmp_path):
    paths = _write(_graph_frame(), tmp_path, [200, 150, 250])
    a = rank_dataset(paths, "y", method="inffs", batch_size=50)
    b = rank_dataset(paths[::-1], "y", method="inffs", batch_size=50)
    c = rank_dataset([paths[1], paths[2], paths[0]], "y", method="inffs", batch_size=50)
    pd.testing.assert_frame_equal(a, b, check_exact=True)
    pd.testing.assert_frame_equal(a, c, check_exact=True)
    # The moments merge where the batches end: other batches, other rounding.
    d = rank_dataset(paths, "y", method="inffs", batch_size=7)
    assert d["feature"].tolist() == a["feature"].tolist()
    np.testing.assert_allclose(d["importance"], a["importance"], rtol=1e-12)


@pytest.mark.parametrize(
    ("max_categories", "collect"), [(10_000, 1 << 16), (8, 1 << 16), (8, 40), (8, 0)]
)
def test_medians_are_numpy_medians_to_the_bit(
    tmp_path, monkeypatch, max_categories, collect
):
    # Known distinct values (one counting pass), or the search on the sort
    # keys, collecting few values or fixing all 64 bits (collect=0); odd and
    # even counts, ties, signed zeros, subnormals and 600 orders of magnitude.
    monkeypatch.setattr(_streaming, "_COLLECT", collect)
    rng = np.random.default_rng(1)
    n = 2001
    frame = pd.DataFrame(
        {
            "normal": rng.normal(size=n),
            "ties": rng.integers(-3, 4, n).astype(float),
            "wide": rng.normal(size=n) * 10.0 ** rng.integers(-300, 300, n),
            "zeros": np.where(rng.random(n) < 0.5, -0.0, 0.0)
            + np.where(rng.random(n) < 0.3, 5e-324, 0.0),
        }
    )
    for name in frame:
        frame.loc[rng.random(n) < 0.2, name] = np.nan
    frame.loc[0, "normal"] = np.nan if frame["normal"].count() % 2 else 1.0
    frame["y"] = rng.integers(0, 2, n)
    _write(frame, tmp_path, [500, 1, 700, 800])
    parts = _streaming._open_parts(tmp_path)
    settings = _streaming._Settings(
        batch_size=97, sample_size=1, cap=max_categories, seed=0, discrete="auto"
    )
    features = dict.fromkeys(frame.columns[:-1], "numeric")
    columns = _streaming._first_pass(
        parts, features, "y", settings, keep_target=False, sample=False
    )[0]
    found = _streaming._medians(parts, list(columns.values()), settings, None)
    assert frame["normal"].count() % 2 == 0  # both middle values are searched
    for name in features:
        expected = np.median(frame[name].dropna().to_numpy())
        assert found[name] == expected, name
        if expected != 0:  # (the sign of a zero median is NumPy's choice)
            assert np.float64(found[name]).tobytes() == expected.tobytes(), name


def test_pairwise_tree_is_the_dask_reduction_tree():
    # The local merge order must be the one the client's tree reduction
    # uses, or float merges would differ between the two.
    def merge(a, b):
        return f"({a}+{b})"

    for n in range(1, 40):
        items = [str(i) for i in range(n)]
        tree = _streaming._Tree(merge)
        for item in items:
            tree.push(item)
        assert tree.result() == _streaming._pairwise(items, merge), n


@pytest.mark.parametrize("method", ["ecfs", "inffs"])
def test_graph_modes_that_cannot_stream_raise(tmp_path, method):
    frame = _graph_frame()
    _write(frame, tmp_path, [300, 300])
    with pytest.raises(ValueError, match=r"task='regression'.*Spearman"):
        rank_dataset(tmp_path, "y", method=method, task="regression")
    with pytest.raises(ValueError, match=r"target=None.*Spearman.*every pair"):
        rank_dataset(tmp_path, None, method=method)
    with pytest.raises(ValueError, match=r"mode='reference'.* but y is 3 classes"):
        rank_dataset(tmp_path, "y", method=method, mode="reference")
    with pytest.raises(
        ValueError, match=r"column 'text' has more than max_categories=3"
    ):
        rank_dataset(tmp_path, "y", method=method, max_categories=3)
    with pytest.raises(TypeError, match=r"unexpected parameters \['sample_size'\]"):
        rank_dataset(tmp_path, "y", method=method, sample_size=10)
    with pytest.raises(ValueError, match="alpha"):
        rank_dataset(tmp_path, "y", method=method, alpha=2.0)
    continuous = frame.assign(y=frame["signal"].fillna(0) + 0.01)
    _write(continuous, tmp_path, [300, 300])
    with pytest.raises(ValueError, match=r"reads target 'y' as continuous.*Spearman"):
        rank_dataset(tmp_path, "y", method=method)


def test_inffs_affinity_without_regression_raises_as_in_memory(tmp_path):
    frame = _graph_frame()
    _write(frame, tmp_path, [600])
    X, y = frame.drop(columns="y"), frame["y"].astype(float) + 0.5
    with pytest.raises(
        ValueError, match="affinity='inffs' is defined for classification"
    ):
        inffs_importances(X, y, affinity="inffs", task="regression")
    with pytest.raises(
        ValueError, match="affinity='inffs' is defined for classification"
    ):
        rank_dataset(tmp_path, "y", method="inffs", affinity="inffs", task="regression")
    with pytest.raises(ValueError, match="decay"):
        rank_dataset(tmp_path, "y", method="inffs", decay=1.0)


def test_knn_mi_cannot_stream(tmp_path):
    _write(_frame(), tmp_path, [600])
    with pytest.raises(ValueError, match=r"estimator='knn' cannot stream.*neighbours"):
        rank_dataset(tmp_path, "y", estimator="knn")
    a = rank_dataset(tmp_path, "y", estimator="binned", random_state=0)
    pd.testing.assert_frame_equal(a, rank_dataset(tmp_path, "y", random_state=0))


def test_graph_dask_client_equals_single_process(tmp_path):
    distributed = pytest.importorskip("distributed")
    paths = _write(_graph_frame(), tmp_path, [100, 150, 120, 130, 100])
    cases = [("ecfs", {}), ("inffs", {"affinity": "inffs_v4"})]
    local = [rank_dataset(paths, "y", method=m, batch_size=64, **p) for m, p in cases]
    cluster, client = _local_client(distributed)
    with cluster, client:
        for (method, params), expected in zip(cases, local, strict=True):
            remote = rank_dataset(
                paths[::-1], "y", method=method, batch_size=64, client=client, **params
            )
            pd.testing.assert_frame_equal(remote, expected, check_exact=True)


def _dask_frame(frame, npartitions):
    dd = pytest.importorskip("dask.dataframe")
    ddf = dd.from_pandas(frame, npartitions=npartitions)
    return ddf, ddf.map_partitions(len).compute().tolist()


@pytest.mark.parametrize(
    ("method", "params"),
    [
        ("mi", {"random_state": 0}),
        ("mi", {"null_correction": "expected", "task": "regression"}),
        ("mrmr", {"random_state": 1, "n_features": 4}),
        ("ecfs", {}),
        ("inffs", {"affinity": "inffs"}),
    ],
)
def test_dask_frame_equals_the_same_rows_in_files(tmp_path, method, params):
    frame = _graph_frame()
    ddf, sizes = _dask_frame(frame, 3)
    paths = _write(frame, tmp_path, sizes)
    from_files = rank_dataset(paths, "y", method=method, batch_size=64, **params)
    from_frame = rank_dataset(ddf, "y", method=method, batch_size=64, **params)
    pd.testing.assert_frame_equal(from_frame, from_files, check_exact=True)
    assert from_frame.attrs == {**from_files.attrs, "n_files": 3}


def _record_sources(monkeypatch) -> list:
    """The kind of source each dask partition is read from."""
    kinds = []
    read = _streaming._FramePart._frame

    def recording(part):
        kinds.append(type(part.source).__name__)
        return read(part)

    monkeypatch.setattr(_streaming._FramePart, "_frame", recording)
    return kinds


def test_dask_frame_on_a_client(tmp_path, monkeypatch):
    # The partitions are computed once on the workers and never come to this
    # process: every pass, pass 1 included, is a task given its partition.
    distributed = pytest.importorskip("distributed")
    ddf, _ = _dask_frame(_graph_frame(), 3)
    cases = {"mi": {"random_state": 0}, "ecfs": {}}
    local = {
        m: rank_dataset(ddf, "y", method=m, batch_size=64, **p)
        for m, p in cases.items()
    }
    kinds = _record_sources(monkeypatch)
    cluster, client = _local_client(distributed)
    with cluster, client:
        for method, expected in local.items():
            kinds.clear()
            with distributed.get_task_stream(client=client) as stream:
                remote = rank_dataset(
                    ddf,
                    "y",
                    method=method,
                    batch_size=64,
                    client=client,
                    **cases[method],
                )
            pd.testing.assert_frame_equal(remote, expected, check_exact=True)
            tasks = [str(r["key"]).split("-")[0] for r in stream.data]
            counting = "_count_once_part" if method == "mi" else "_graph_part"
            assert tasks.count(counting) == 3
            assert tasks.count("_observe_part") == 3
            assert "Future" not in kinds
            # MI's first rows place its fine cells: one more task.
            passes = ("_observe_part", counting, "_probe_part", "_offsets")
            assert kinds.count("DataFrame") == sum(map(tasks.count, passes))
            assert "Delayed" not in kinds


def test_dask_frame_is_read_one_partition_at_a_time(monkeypatch):
    ddf, _ = _dask_frame(_graph_frame(), 4)
    kinds = _record_sources(monkeypatch)
    rank_dataset(ddf, "y", method="ecfs", batch_size=64)
    # pass 1, the medians (signal's and noise's from their search, count's
    # from its values: passes), the statistics: each partition each time.
    assert set(kinds) == {"Delayed"}
    assert len(kinds) % 4 == 0 and len(kinds) >= 12


def test_dask_frame_errors_name_the_partition():
    frame = _frame(90)
    frame["y"] = frame["y"].astype(float)
    frame.loc[80, "y"] = np.nan
    ddf, _ = _dask_frame(frame, 3)
    with pytest.raises(ValueError, match="missing values in partition 2 of the dask"):
        rank_dataset(ddf, "y")
    with pytest.raises(ValueError, match="target column 'z' is missing in partition 0"):
        rank_dataset(ddf, "z")


@pytest.mark.parametrize("method", ["mi", "ecfs"])
def test_dask_frame_memory_does_not_grow_with_rows(method):
    # Four times the partitions of the same size: the peak of the allocations
    # stays, as only one partition (and one batch of it) is held at a time.
    mi = {"null_correction": "expected", "sample_size": 4000}
    params = mi if method == "mi" else {}
    frame = _graph_frame(20_000)
    big = pd.concat([frame] * 4, ignore_index=True)
    small_frame, _ = _dask_frame(frame, 4)
    big_frame, _ = _dask_frame(big, 16)

    def peak(source) -> int:
        import tracemalloc

        tracemalloc.start()
        try:
            rank_dataset(source, "y", method=method, batch_size=2048, **params)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    peak(small_frame)  # imports and compiles first, and dask optimises
    peak(big_frame)  # the graphs of the frames once
    small, large = peak(small_frame), peak(big_frame)
    assert large < 1.25 * small, (small, large)


def test_progress_counts_the_rows_of_each_pass(tmp_path):
    from featimp import listen_progress

    _write(_frame(), tmp_path, [250, 100, 250])
    seen = []
    with listen_progress(seen.append):
        rank_dataset(tmp_path, "y", null_correction="expected", batch_size=50)
    passes = {}
    for step in seen:
        if step.rows is not None and " > " in step.stage:  # the passes, in MI
            stage = step.stage.rsplit(" ", 1)[0].split(" > ")[-1]
            passes[stage] = max(passes.get(stage, 0), step.rows)
            assert step.rows_per_second > 0
            assert f"{step.rows:,} rows at" in step.describe()
    # Each pass counts every row once, from 0.
    assert passes == {"pass 1: the target": 600, "counting": 600}
    # One fraction across both passes: it never goes back.
    fractions = [step.fraction for step in seen]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    in_target_pass = [s.fraction for s in seen if "target" in s.stage]
    assert max(in_target_pass) < 0.5  # one column of seven read


def test_selection_as_every_selector_selects(tmp_path):
    _write(_frame(), tmp_path, [300, 300])
    table = rank_dataset(tmp_path, "y", random_state=0, n_features_to_select=2)
    assert table["selected"].tolist() == [True, True] + [False] * 5
    half = rank_dataset(tmp_path, "y", random_state=0, n_features_to_select=0.5)
    assert half["selected"].sum() == 3
    mean = rank_dataset(tmp_path, "y", random_state=0, threshold="mean")
    expected = mean["importance"] >= mean["importance"].mean()
    assert mean["selected"].tolist() == expected.tolist()
    for bad, message in (
        ({"n_features_to_select": 8}, "larger than the number of features"),
        ({"n_features_to_select": 0}, "an int >= 1 or a fraction"),
        ({"n_features_to_select": 1.5}, "an int >= 1 or a fraction"),
        ({"threshold": "max"}, "threshold='max'"),
    ):
        with pytest.raises(ValueError, match=message):
            rank_dataset(tmp_path, "y", **bad)


def test_fsspec_urls_and_file_urls(tmp_path):
    fsspec = pytest.importorskip("fsspec")
    frame = _frame()
    memory = fsspec.filesystem("memory")
    root = f"/featimp-{tmp_path.name}"
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        with memory.open(f"{root}/part-{i}.parquet", "wb") as handle:
            frame.iloc[rows].to_parquet(handle, index=False)
    _write(frame, tmp_path, [200, 200, 200])
    local = rank_dataset(tmp_path, "y", random_state=0)
    for source in (
        f"memory:/{root}/*.parquet",
        f"memory:/{root}",
        f"file://{tmp_path}",
    ):
        pd.testing.assert_frame_equal(rank_dataset(source, "y", random_state=0), local)
    with pytest.raises(FileNotFoundError, match="no files match 'memory://none"):
        rank_dataset("memory://none/*.parquet", "y")
    with memory.open(f"{root}/broken/a.parquet", "wb") as handle:
        handle.write(b"not parquet")
    with pytest.raises(ValueError, match=rf"cannot read 'memory:/{root}/broken/a"):
        rank_dataset(f"memory:/{root}/broken", "y")


def test_features_restricts_and_orders_the_columns_ranked(tmp_path):
    frame = _frame()
    _write(frame, tmp_path, [300, 300])
    table = rank_dataset(tmp_path, "y", random_state=0, features=["text", "signal"])
    expected = _in_memory(frame[["text", "signal", "y"]], random_state=0)
    got = table.set_index("feature")["importance"].reindex(expected.index)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    for bad, message in (
        (["signal", "nope"], "'nope' are not columns"),
        (["signal", "y"], "'y' are not columns"),
        (["signal", "signal"], "'signal' are given twice"),
        ("signal", "a list of column names"),
        ([], "no feature columns"),
    ):
        with pytest.raises(ValueError, match=message):
            rank_dataset(tmp_path, "y", features=bad)
