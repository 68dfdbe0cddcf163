"""The SHAP baseline (featimp/baselines/_shap.py)."""

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_wine
from sklearn.ensemble import (
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from featimp.baselines import (
    mean_abs_shap,
    shap_importances,
)
from featimp.datasets import make_ground_truth
from tests._shared import top_k


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
    assert top_k(scores, 3) == {0, 1, 2}


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
    assert {12, 6} & top_k(scores, 4)


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
    assert {2, 8} <= top_k(tree, 3)
    assert {2, 8} <= top_k(linear, 3)


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
