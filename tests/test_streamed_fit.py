"""Selectors fit a pyarrow dataset by streaming it, with their own parameters."""

import numpy as np
import pytest
from sklearn.base import clone

from featimp import (
    EigenvectorCentralitySelector,
    InfFSSelector,
    LassoSelector,
    MRMRSelector,
    MutualInfoSelector,
    rank_dataset,
)

ds = pytest.importorskip("pyarrow.dataset")

from tests.test_streaming import _frame as streaming_frame  # noqa: E402


def _frame():
    """The streaming tests' mixed table (text and missing values), with a
    noisy copy of its signal for mRMR to push back."""
    frame = streaming_frame(900, seed=3)
    rng = np.random.default_rng(4)
    frame.insert(1, "twin", frame["signal"] + rng.normal(0, 0.2, len(frame)))
    return frame


@pytest.fixture
def data(tmp_path):
    frame = _frame()
    for i, rows in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[rows].to_parquet(tmp_path / f"part-{i}.parquet", index=False)
    return frame, ds.dataset(tmp_path)


@pytest.mark.parametrize(
    "selector",
    [
        MutualInfoSelector(random_state=0, n_features_to_select=2),
        MutualInfoSelector(null_correction="expected", threshold="mean"),
        MRMRSelector(random_state=1, n_features=3),
        MRMRSelector(null_correction=False, criterion="miq"),
        EigenvectorCentralitySelector(n_features_to_select=2),
        InfFSSelector(alpha=0.3, threshold="median"),
    ],
    ids=["mi", "mi-expected", "mrmr", "mrmr-miq", "ecfs", "inffs"],
)
def test_a_streamed_fit_equals_the_fit_in_memory(data, selector):
    frame, dataset = data
    streamed = clone(selector).fit(dataset, target="y")
    in_memory = clone(selector).fit(frame.drop(columns="y"), frame["y"])
    # EC-FS and Inf-FS merge per-batch moments: equal to rounding.
    np.testing.assert_allclose(
        streamed.importances_, in_memory.importances_, rtol=1e-10, atol=1e-15
    )
    if isinstance(selector, MutualInfoSelector | MRMRSelector):  # counts: bits
        np.testing.assert_array_equal(streamed.importances_, in_memory.importances_)
    np.testing.assert_array_equal(streamed.get_support(), in_memory.get_support())
    assert list(streamed.feature_names_in_) == list(frame.columns[:-1])
    assert streamed.streamed_["n_samples"] == len(frame)
    # Fitted on the whole, it transforms a frame in memory by name.
    reduced = streamed.transform(frame.drop(columns="y"))
    assert list(reduced.columns) == list(in_memory.get_feature_names_out())


def test_the_target_as_y_and_the_same_ranking_as_rank_dataset(data):
    frame, dataset = data
    selector = MutualInfoSelector(random_state=0).fit(dataset, "y")
    table = rank_dataset(dataset, "y", random_state=0).set_index("feature")
    np.testing.assert_array_equal(
        selector.ranking_, table["rank"].reindex(frame.columns[:-1]).to_numpy()
    )


def test_what_cannot_stream_is_refused_before_reading(data):
    frame, dataset = data
    with pytest.raises(ValueError, match=r"estimator='knn' cannot stream"):
        MutualInfoSelector(estimator="knn").fit(dataset, target="y")
    with pytest.raises(TypeError, match="LassoSelector fits on all rows in memory"):
        LassoSelector().fit(dataset, target="y")
    with pytest.raises(ValueError, match="stability= refits"):
        MutualInfoSelector(stability=5).fit(dataset, target="y")
    with pytest.raises(ValueError, match="n_features_to_select=9 is larger"):
        MutualInfoSelector(n_features_to_select=9).fit(dataset, target="y")
    with pytest.raises(TypeError, match="name of its target column"):
        MutualInfoSelector().fit(dataset, frame["y"].to_numpy())
    with pytest.raises(ValueError, match="name different columns"):
        MutualInfoSelector().fit(dataset, "y", target="ids")
    with pytest.raises(TypeError, match="for data in memory pass the target as y"):
        MutualInfoSelector().fit(frame.drop(columns="y"), target="y")


def test_every_method_that_streams_has_a_selector_that_fits_streams():
    from featimp._base import STREAMING
    from featimp.methods import all_methods

    for spec in all_methods():
        registered = STREAMING.get(spec.selector_class(), (None,))[0]
        assert registered == (spec.name if spec.streams else None), spec.name
