"""Every public estimator: sklearn's common checks and the sklearn contract."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from featimp.methods import all_methods
from tests._shared import fast_params


def _instances(**selection):
    return [
        spec.selector_class()(**{**fast_params(spec.name), **selection})
        for spec in all_methods()
    ]


@parametrize_with_checks(_instances(n_features_to_select=1))
def test_sklearn_common_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("selector", _instances(n_features_to_select=5), ids=repr)
def test_pandas_output_keeps_column_names(selector, cancer):
    X, y = cancer
    out = clone(selector).set_output(transform="pandas").fit(X, y).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.shape == (len(X), 5)
    assert set(out.columns) <= set(X.columns)
    assert list(out.columns) == [c for c in X.columns if c in set(out.columns)]


@pytest.mark.parametrize("selector", _instances(), ids=repr)
def test_pipeline_grid_search_clone_and_joblib(selector, cancer, tmp_path):
    X, y = cancer
    pipe = make_pipeline(
        StandardScaler(), clone(selector), LogisticRegression(max_iter=500)
    )
    step = pipe.steps[1][0]
    grid = GridSearchCV(pipe, {f"{step}__n_features_to_select": [3, 10]}, cv=3)
    grid.fit(X, y)
    assert grid.best_params_[f"{step}__n_features_to_select"] in (3, 10)
    assert grid.best_score_ > 0.85

    fitted = clone(selector).set_params(n_features_to_select=4).fit(X, y)
    path = tmp_path / "selector.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.importances_, fitted.importances_)
    pd.testing.assert_frame_equal(
        loaded.set_output(transform="pandas").transform(X),
        fitted.set_output(transform="pandas").transform(X),
    )
