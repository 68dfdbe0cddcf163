"""Baseline methods: SHAP, permutation, gain, lasso and SVM-RFE."""

import sys

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
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
    mean_abs_shap,
    permutation_importances,
    shap_importances,
    svm_rfe_importances,
)
from featimp.datasets import load_german_credit, make_ground_truth
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


@pytest.fixture(scope="module")
def truth_data():
    return make_ground_truth(
        1500,
        n_informative=3,
        n_redundant=0,
        n_noise=5,
        n_high_cardinality=0,
        random_state=0,
    )


@pytest.fixture(scope="module")
def german():
    return load_german_credit()


def _top(scores, k):
    return set(np.argsort(-np.asarray(scores), kind="stable")[:k].tolist())


# SHAP: one test per model type, since SHAP's output layout differs by model.
@pytest.mark.parametrize(
    ("estimator", "n_classes"),
    [
        ("xgboost", 2),
        ("xgboost", 3),
        ("lightgbm", 2),
        ("lightgbm", 3),
        (RandomForestClassifier(n_estimators=20, max_depth=4), 2),
        (GradientBoostingClassifier(n_estimators=20), 2),
    ],
    ids=[
        "xgb-binary",
        "xgb-multiclass",
        "lgbm-binary",
        "lgbm-multiclass",
        "sklearn-forest",
        "sklearn-gbm",
    ],
)
def test_shap_tree_models_find_informative_features(estimator, n_classes):
    X, y, _ = make_ground_truth(
        800,
        n_informative=3,
        n_redundant=0,
        n_noise=4,
        n_high_cardinality=0,
        n_classes=n_classes,
        random_state=1,
    )
    scores = shap_importances(
        X, y, estimator=estimator, explainer="tree", max_samples=150, random_state=0
    )
    assert scores.shape == (7,)
    assert _top(scores, 3) == {0, 1, 2}


@pytest.mark.parametrize("explainer", ["permutation", "partition"])
def test_shap_model_agnostic_explainers_with_a_budget(explainer):
    X, y = load_wine(return_X_y=True)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    scores = shap_importances(
        X,
        y,
        estimator=model,
        explainer=explainer,
        max_samples=15,
        n_background=20,
        max_evals=60,
        random_state=0,
    )
    assert scores.shape == (13,) and (scores >= 0).all()
    # Proline and flavanoids separate the wine cultivars.
    assert {12, 6} & _top(scores, 4)


def test_shap_regression_and_auto_fallback():
    X, y = load_diabetes(return_X_y=True)
    tree = shap_importances(X, y, estimator="xgboost", max_samples=100, random_state=0)
    linear = shap_importances(
        X,
        y,
        estimator=LinearRegression(),
        max_samples=20,
        n_background=20,
        random_state=0,
    )
    assert {2, 8} <= _top(tree, 3)
    assert {2, 8} <= _top(linear, 3)


def test_shap_is_seeded(truth_data):
    X, y, _ = truth_data
    a = shap_importances(X, y, max_samples=50, random_state=3)
    b = shap_importances(X, y, max_samples=50, random_state=3)
    np.testing.assert_array_equal(a, b)


def test_mean_abs_shap_normalises_every_layout():
    rng = np.random.default_rng(0)
    per_class = [rng.normal(size=(5, 3)) for _ in range(2)]
    expected = np.mean([np.abs(v).mean(axis=0) for v in per_class], axis=0)
    np.testing.assert_allclose(mean_abs_shap(per_class, 3), expected)
    np.testing.assert_allclose(mean_abs_shap(np.stack(per_class, -1), 3), expected)
    np.testing.assert_allclose(
        mean_abs_shap(per_class[0], 3), np.abs(per_class[0]).mean(axis=0)
    )

    class Explanation:
        values = np.stack(per_class, -1)

    np.testing.assert_allclose(mean_abs_shap(Explanation(), 3), expected)
    with pytest.raises(ValueError, match="do not match 4 features"):
        mean_abs_shap(per_class[0], 4)


def test_tree_baselines_on_german_credit(german):
    X, y = german
    for selector in (
        ShapSelector(max_samples=200, n_features_to_select=3, random_state=0),
        GainSelector(n_features_to_select=3, random_state=0),
        PermutationSelector(n_features_to_select=3, random_state=0),
    ):
        kept = selector.fit(X, y).get_feature_names_out()
        # The checking account status is the strongest single predictor.
        assert "status_of_existing_checking_account" in kept, type(selector)


@pytest.mark.parametrize(
    ("estimator", "importance_type"),
    [
        ("xgboost", "gain"),
        ("xgboost", "split"),
        ("lightgbm", "gain"),
        ("lightgbm", "split"),
        (RandomForestClassifier(n_estimators=30), "gain"),
    ],
)
def test_gain_backends(truth_data, estimator, importance_type):
    X, y, _ = truth_data
    scores = gain_importances(
        X, y, estimator=estimator, importance_type=importance_type, random_state=0
    )
    assert _top(scores, 3) == {0, 1, 2}


def test_gain_regression_and_bad_estimators():
    X, y = load_diabetes(return_X_y=True)
    assert {2, 8} & _top(gain_importances(X, y, random_state=0), 2)
    with pytest.raises(TypeError, match="no split importance"):
        gain_importances(
            X, y, estimator=RandomForestRegressor(5), importance_type="split"
        )
    with pytest.raises(TypeError, match="LinearRegression"):
        gain_importances(X, y, estimator=LinearRegression())
    with pytest.raises(ValueError, match="pass a regressor"):
        gain_importances(X, y, estimator=RandomForestClassifier(5))


def test_permutation_held_out_and_custom_estimator(truth_data):
    X, y, _ = truth_data
    scores = permutation_importances(X, y, random_state=0)
    assert _top(scores, 3) == {0, 1, 2}
    logistic = permutation_importances(
        X, y, estimator=LogisticRegression(), scoring="roc_auc", random_state=0
    )
    assert _top(logistic, 3) == {0, 1, 2}
    assert np.abs(logistic[3:]).max() < 0.02


def test_lasso_binary_multiclass_regression(truth_data):
    X, y, _ = truth_data
    assert _top(lasso_importances(X, y, random_state=0), 3) == {0, 1, 2}
    wine_X, wine_y = load_wine(return_X_y=True)
    assert lasso_importances(wine_X, wine_y, random_state=0).shape == (13,)
    X, y = load_diabetes(return_X_y=True)
    assert {2, 8} <= _top(lasso_importances(X, y, random_state=0), 3)


def test_lasso_zeroes_noise_on_real_data():
    X, y = load_breast_cancer(return_X_y=True)
    scores = lasso_importances(X, y, random_state=0)
    assert 0 < (scores > 0).sum() < X.shape[1]


def test_svm_rfe_ranks_informative_last_standing(truth_data):
    X, y, _ = truth_data
    scores = svm_rfe_importances(X, y, random_state=0)
    assert _top(scores, 3) == {0, 1, 2}
    assert sorted(scores) == pytest.approx(np.arange(1, 9) / 8)
    reg = svm_rfe_importances(*load_diabetes(return_X_y=True), step=0.3)
    assert reg.max() == 1.0


def test_linear_baselines_score_each_original_column_of_german(german):
    X, y = german
    for function in (lasso_importances, svm_rfe_importances):
        scores = function(X, y, random_state=0)
        assert scores.shape == (20,)
        # The checking account status is the strongest signal in this data.
        assert X.columns[np.argmax(scores)] == "status_of_existing_checking_account"


def test_lasso_column_effect_is_the_coefficient_for_numeric_columns(german):
    X, y = german
    numeric = X.select_dtypes("number")
    with_text = lasso_importances(
        numeric.assign(flag=X["telephone"]), y, random_state=0
    )
    # One text column changes the design, so compare the rule itself.
    from featimp.baselines._lasso import column_effects

    rng = np.random.default_rng(0)
    Z = rng.standard_normal((200, 3))
    Z = (Z - Z.mean(0)) / Z.std(0)
    coef = np.array([[0.5, -2.0, 1.0]])
    np.testing.assert_allclose(
        column_effects(Z, coef, np.array([0, 1, 2])), [0.5, 2.0, 1.0]
    )
    assert with_text.shape == (numeric.shape[1] + 1,)


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


def test_dataframe_feature_names_survive(truth_data):
    X, y, _ = truth_data
    sel = LassoSelector(n_features_to_select=3, random_state=0).fit(X, y)
    out = sel.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["informative_0", "informative_1", "informative_2"]
