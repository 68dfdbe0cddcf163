"""Every registered score function and selector rejects bad input clearly."""

import numpy as np
import pandas as pd
import pytest

from featimp.methods import all_methods

SPECS = all_methods()


@pytest.fixture
def frame():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.standard_normal((60, 4)), columns=["a", "b", "c", "d"])
    y = pd.Series((X["a"] + 0.3 * rng.standard_normal(60) > 0).astype(int))
    return X, y


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_columns_are_named(spec, frame, value):
    X, y = frame
    X = X.assign(c=X["c"].where(X.index != 5, value))
    for call in (spec.score_function(), lambda X, y: spec.make_selector().fit(X, y)):
        with pytest.raises(ValueError, match="'c'"):
            call(X, y)


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_single_class_target(spec, frame):
    X, _ = frame
    with pytest.raises(ValueError, match="one class"):
        spec.score_function()(X, np.zeros(len(X), dtype=int))


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_one_row_and_length_mismatch(spec, frame):
    X, y = frame
    with pytest.raises(ValueError, match="sample"):
        spec.score_function()(X.iloc[:1], y.iloc[:1])
    with pytest.raises(ValueError, match=r"different numbers of rows|inconsistent"):
        spec.score_function()(X, y.iloc[:-3])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_constant_column_scores_zero_without_warnings(spec, frame):
    X, y = frame
    X = X.assign(b=3.0)
    scores = spec.score_function()(X, y)
    assert np.isfinite(scores).all()
    assert scores[1] == pytest.approx(0.0, abs=1e-12) or scores[1] == scores.min()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_non_numeric_columns(spec, frame):
    X, y = frame
    X = X.assign(grade=np.where(X["a"] > 0, "high", "low"))
    if spec.make_selector()._accepts_categorical:
        scores = spec.score_function()(X, y)
        assert scores.shape == (5,)
    else:
        with pytest.raises(ValueError, match=r"non-numeric column.*'grade'"):
            spec.score_function()(X, y)
