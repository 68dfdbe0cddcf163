"""The lasso baseline (featimp/baselines/_lasso.py)."""

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from featimp.baselines import (
    LassoSelector,
    lasso_importances,
)
from tests._shared import top_k


def test_lasso_binary_multiclass_regression(truth_data):
    X, y, _ = truth_data
    assert top_k(lasso_importances(X, y, random_state=0), 3) == {0, 1, 2}
    wine_X, wine_y = load_wine(return_X_y=True)
    assert lasso_importances(wine_X, wine_y, random_state=0).shape == (13,)
    X, y = load_diabetes(return_X_y=True)
    assert {2, 8} <= top_k(lasso_importances(X, y, random_state=0), 3)


def test_lasso_zeroes_noise_on_real_data():
    X, y = load_breast_cancer(return_X_y=True)
    scores = lasso_importances(X, y, random_state=0)
    assert 0 < (scores > 0).sum() < X.shape[1]


def test_lasso_column_effect_is_the_coefficient_for_numeric_columns(german_credit):
    X, y = german_credit
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


def test_dataframe_feature_names_survive(truth_data):
    X, y, _ = truth_data
    sel = LassoSelector(n_features_to_select=3, random_state=0).fit(X, y)
    out = sel.set_output(transform="pandas").transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["informative_0", "informative_1", "informative_2"]
