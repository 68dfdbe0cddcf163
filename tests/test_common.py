"""Every registered selector: sklearn's common checks, the sklearn contract
and featimp's own (the selection rule, seeded determinism, input tags that
tell the truth), each with its ``get_test_params()`` configuration.

Bad values (infinity, a missing target, one row) are checked over the
registry in ``tests/test_validation.py``.
"""

from functools import cache

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification, make_regression
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from featimp import FunctionSelector
from featimp.methods import all_methods
from tests._shared import fast_params

SPECS = all_methods()


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
    np.testing.assert_array_equal(loaded.get_support(), fitted.get_support())
    pd.testing.assert_frame_equal(
        loaded.set_output(transform="pandas").transform(X),
        fitted.set_output(transform="pandas").transform(X),
    )


@cache
def _data(task: str):
    """120 rows, 10 named columns (3 informative), seeded."""
    if task == "classification":
        X, y = make_classification(120, 10, n_informative=3, random_state=0)
    else:
        X, y = make_regression(120, 10, n_informative=3, random_state=0)
    return pd.DataFrame(X, columns=[f"x{j}" for j in range(10)]), pd.Series(y)


def _data_for(spec):
    task = "classification" if spec.supports("classification") else "regression"
    X, y = _data(task)
    return X.copy(), y.copy()


def _fast(spec, **params):
    return spec.selector_class()(**{**fast_params(spec.name), **params})


#: Selection parameters and the number of the 10 features they keep: a
#: fraction is truncated (0.36 -> 3, not 4) but keeps at least 1.
SELECTIONS = [
    ({"n_features_to_select": 3}, 3),
    ({"n_features_to_select": 0.5}, 5),
    ({"n_features_to_select": 0.36}, 3),
    ({"n_features_to_select": 0.01}, 1),
    ({"threshold": "mean"}, None),
    ({"n_features_to_select": 3, "threshold": "mean"}, 3),
]


def _expected_support(selector, k, threshold):
    importances = selector.importances_
    keep = np.ones(importances.size, dtype=bool)
    if k is not None:
        # The k best; ties keep column order.
        keep[np.argsort(-importances, kind="stable")[k:]] = False
    if threshold == "mean":
        keep &= importances >= importances.mean()
    if hasattr(selector, "qvalues_"):
        # SignificanceSelector keeps only significant features, whatever else.
        keep &= selector.qvalues_ <= selector.alpha
    return keep


@pytest.mark.parametrize(
    ("selection", "k"), SELECTIONS, ids=[repr(s) for s, _ in SELECTIONS]
)
@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_selection_parameters_are_honoured(spec, selection, k):
    X, y = _data_for(spec)
    selector = _fast(spec, **selection).fit(X, y)
    expected = _expected_support(selector, k, selection.get("threshold"))
    assert expected.any()
    np.testing.assert_array_equal(selector.get_support(), expected)
    assert list(selector.transform(X).columns) == list(X.columns[expected])
    if "threshold" not in selection and not hasattr(selector, "qvalues_"):
        assert expected.sum() == k


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_fits_are_deterministic_under_a_fixed_seed(spec):
    # get_test_params() fixes random_state=0 where there is one; methods
    # without one must be deterministic anyway.
    X, y = _data_for(spec)
    first = _fast(spec).fit(X, y).importances_
    second = _fast(spec).fit(X, y).importances_
    np.testing.assert_array_equal(first, second)


def _with_column(X, kind):
    """``X`` and the name of the one column of ``kind`` added or spoiled."""
    rng = np.random.default_rng(1)
    if kind == "string":
        return X.assign(grade=rng.choice(["low", "mid", "high"], len(X))), "grade"
    if kind == "categorical":
        band = pd.Categorical(rng.choice(["a", "b"], len(X)))
        return X.assign(band=band), "band"
    return X.assign(x3=X["x3"].where(X.index % 9 != 0)), "x3"


#: Every registered selector, and one public selector whose tags refuse
#: text, categories and missing values, so that both answers are checked.
TAGGED = [
    *(pytest.param(spec, id=spec.name) for spec in SPECS),
    pytest.param(None, id="FunctionSelector(validate=True)"),
]


@pytest.mark.parametrize("kind", ["string", "categorical", "allow_nan"])
@pytest.mark.parametrize("spec", TAGGED)
def test_input_tags_tell_the_truth_and_refusals_name_the_column(spec, kind):
    if spec is None:
        selector, (X, y) = FunctionSelector(), _data("classification")
    else:
        selector, (X, y) = _fast(spec), _data_for(spec)
    X, column = _with_column(X, kind)
    if getattr(selector.__sklearn_tags__().input_tags, kind):
        importances = selector.fit(X, y).importances_
        assert importances.shape == (X.shape[1],)
        assert np.isfinite(importances).all()
    else:
        with pytest.raises(ValueError, match=f"'{column}'"):
            selector.fit(X, y)
