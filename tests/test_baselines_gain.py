"""The split-gain baseline (featimp/baselines/_gain.py)."""

import pytest
from sklearn.datasets import load_diabetes
from sklearn.ensemble import (
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression

from featimp.baselines import gain_importances
from tests._shared import top_k


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
    assert top_k(scores, 3) == {0, 1, 2}


def test_gain_regression_and_bad_estimators():
    X, y = load_diabetes(return_X_y=True)
    assert {2, 8} & top_k(gain_importances(X, y, random_state=0), 2)
    with pytest.raises(TypeError, match="no split importance"):
        gain_importances(
            X, y, estimator=RandomForestRegressor(5), importance_type="split"
        )
    with pytest.raises(TypeError, match="LinearRegression"):
        gain_importances(X, y, estimator=LinearRegression())
    with pytest.raises(ValueError, match="pass a regressor"):
        gain_importances(X, y, estimator=RandomForestClassifier(5))
