"""What every baseline shares (featimp/baselines/_common.py): scikit-learn's
checks, raw German credit, parameter checks, missing extras, the registry."""

import sys

import numpy as np
import pytest
from sklearn.datasets import load_diabetes
from sklearn.tree import DecisionTreeClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks

from featimp.baselines import (
    GainSelector,
    LassoSelector,
    PermutationSelector,
    ShapSelector,
    SVMRFESelector,
    gain_importances,
    lasso_importances,
    permutation_importances,
    shap_importances,
    svm_rfe_importances,
)
from featimp.methods import get_method

BASELINE_NAMES = ["shap", "permutation", "gain", "lasso", "svm_rfe"]


TINY = {
    ShapSelector: {"max_samples": 20, "n_background": 10, "random_state": 0},
    PermutationSelector: {
        "estimator": DecisionTreeClassifier(max_depth=3),
        "n_repeats": 2,
        "random_state": 0,
    },
    GainSelector: {"random_state": 0},
    LassoSelector: {"n_grid": 3, "random_state": 0},
    SVMRFESelector: {"step": 0.5, "random_state": 0},
}


@parametrize_with_checks(
    [cls(n_features_to_select=1, **params) for cls, params in TINY.items()]
)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


def test_tree_baselines_on_german_credit(german_credit):
    X, y = german_credit
    for selector in (
        ShapSelector(max_samples=200, n_features_to_select=3, random_state=0),
        GainSelector(n_features_to_select=3, random_state=0),
        PermutationSelector(n_features_to_select=3, random_state=0),
    ):
        kept = selector.fit(X, y).get_feature_names_out()
        # The checking account status is the strongest single predictor.
        assert "status_of_existing_checking_account" in kept, type(selector)


def test_linear_baselines_score_each_original_column_of_german(german_credit):
    X, y = german_credit
    for function in (lasso_importances, svm_rfe_importances):
        scores = function(X, y, random_state=0)
        assert scores.shape == (20,)
        # The checking account status is the strongest signal in this data.
        assert X.columns[np.argmax(scores)] == "status_of_existing_checking_account"


def test_bad_parameters():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="n_repeats"):
        permutation_importances(X, y, n_repeats=0)
    with pytest.raises(ValueError, match="explainer"):
        shap_importances(X, y, explainer="kernel")
    with pytest.raises(ValueError, match="step"):
        SVMRFESelector(step=0).fit(X, y)


def test_missing_extra_names_it(monkeypatch, truth_data):
    X, y, _ = truth_data
    monkeypatch.setitem(sys.modules, "xgboost", None)
    with pytest.raises(ImportError, match=r"featimp-toolkit\[boost\]"):
        gain_importances(X, y)
    monkeypatch.setitem(sys.modules, "shap", None)
    with pytest.raises(ImportError, match=r"featimp-toolkit\[shap\]"):
        shap_importances(X, y)


def test_registry_entries_build_selectors():
    for spec in map(get_method, BASELINE_NAMES):
        selector = spec.make_selector(random_state=0)
        assert isinstance(selector, spec.selector_class())
        assert "random_state" in spec.parameters()
        assert spec.score_function().__name__.endswith("_importances")
