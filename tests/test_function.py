"""FunctionSelector (featimp/_function.py): ad-hoc score functions."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.feature_selection import SelectKBest, chi2, f_classif, mutual_info_classif
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags
from sklearn.utils.estimator_checks import estimator_checks_generator

from featimp import FunctionSelector
from featimp.datasets import load_dataset


def abs_correlation(X, y, *, power=1):
    """A module-level score (picklable): |corr(x_j, y)| ** power."""
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    Xc, yc = X - X.mean(axis=0), y - y.mean()
    denominator = np.sqrt((Xc**2).sum(axis=0) * (yc**2).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.abs(Xc.T @ yc / denominator) ** power


def _common_checks():
    """scikit-learn's checks of two FunctionSelectors, with ids that name
    the score function: the estimator's repr holds the function's address,
    which differs between pytest-xdist workers."""
    for name, selector in (
        ("default", FunctionSelector(n_features_to_select=1)),
        ("f_classif", FunctionSelector(f_classif, n_features_to_select=1)),
    ):
        for estimator, check in estimator_checks_generator(selector, mark="xfail"):
            check_name = getattr(check, "func", check).__name__
            yield pytest.param(estimator, check, id=f"{name}-{check_name}")


@pytest.mark.parametrize(("estimator", "check"), _common_checks())
def test_sklearn_common_checks(estimator, check):
    check(estimator)


def test_same_selection_as_select_k_best(cancer):
    X, y = cancer
    ours = FunctionSelector(f_classif, n_features_to_select=7).fit(X, y)
    reference = SelectKBest(f_classif, k=7).fit(X, y)
    assert ours.get_support().tolist() == reference.get_support().tolist()
    np.testing.assert_array_equal(ours.importances_, reference.scores_)
    np.testing.assert_array_equal(ours.pvalues_, reference.pvalues_)


def test_kw_args_reach_the_function_and_grid_search_tunes_them(cancer):
    X, y = cancer
    squared = FunctionSelector(abs_correlation, kw_args={"power": 2}).fit(X, y)
    plain = FunctionSelector(abs_correlation).fit(X, y)
    np.testing.assert_allclose(squared.importances_, plain.importances_**2)
    assert plain.pvalues_ is None
    pipe = make_pipeline(
        FunctionSelector(abs_correlation), LogisticRegression(max_iter=2000)
    )
    grid = {"functionselector__n_features_to_select": [2, 8]}
    search = GridSearchCV(pipe, grid, cv=3).fit(X, y)
    assert search.best_params_["functionselector__n_features_to_select"] in (2, 8)


def test_round_trips_joblib_and_keeps_frames(cancer, tmp_path):
    X, y = cancer
    sel = FunctionSelector(chi2, n_features_to_select=4).fit(X, y)
    path = tmp_path / "sel.joblib"
    joblib.dump(sel, path)
    again = joblib.load(path)
    out = again.transform(X)
    assert isinstance(out, pd.DataFrame)
    assert out.columns.tolist() == sel.get_feature_names_out().tolist()


def test_nan_scores_rank_last():
    # Constant (F is NaN), informative, and constant within each class (inf).
    y = np.r_[np.zeros(20), np.ones(20)]
    X = np.column_stack([np.ones(40), np.arange(40.0), y])
    with np.errstate(all="ignore"), pytest.warns(UserWarning, match="constant"):
        sel = FunctionSelector(f_classif, n_features_to_select=2).fit(X, y)
    assert sel.ranking_.tolist() == [3, 2, 1]
    assert not np.isnan(sel.importances_).any()


def test_validate_false_passes_the_raw_table_on_german_credit():
    X, y = load_dataset("german_credit")
    seen = {}

    def n_unique(X, y):
        seen["type"] = type(X)
        return X.nunique().to_numpy()

    sel = FunctionSelector(n_unique, validate=False, n_features_to_select=3).fit(X, y)
    assert seen["type"] is pd.DataFrame
    assert get_tags(sel).input_tags.string
    assert not get_tags(FunctionSelector()).input_tags.string
    assert sel.importances_.tolist() == X.nunique().tolist()
    with pytest.raises(ValueError, match="status_of_existing_checking_account"):
        FunctionSelector(abs_correlation).fit(X, y)


def test_unsupervised_and_bad_returns(cancer):
    X, _ = cancer
    sel = FunctionSelector(lambda X, y: X.std(axis=0), requires_y=False).fit(X)
    assert sel.importances_.shape == (30,)
    with pytest.raises(ValueError, match="tuple of 3"):
        FunctionSelector(lambda X, y: (1, 2, 3)).fit(X, np.arange(len(X)) % 2)
    with pytest.raises(RuntimeError, match="shape"):
        FunctionSelector(lambda X, y: np.ones(3)).fit(X, np.arange(len(X)) % 2)


def test_mutual_info_classif_plugs_in(cancer):
    X, y = cancer
    sel = FunctionSelector(
        mutual_info_classif, kw_args={"random_state": 0}, n_features_to_select=5
    ).fit(X, y)
    assert sel.pvalues_ is None and sel.transform(X).shape == (569, 5)
