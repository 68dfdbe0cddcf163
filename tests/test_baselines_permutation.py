"""The permutation-importance baseline (featimp/baselines/_permutation.py)."""

import numpy as np
from sklearn.linear_model import LogisticRegression

from featimp.baselines import permutation_importances
from tests._shared import top_k


def test_permutation_held_out_and_custom_estimator(truth_data):
    X, y, _ = truth_data
    scores = permutation_importances(X, y, random_state=0)
    assert top_k(scores, 3) == {0, 1, 2}
    logistic = permutation_importances(
        X, y, estimator=LogisticRegression(), scoring="roc_auc", random_state=0
    )
    assert top_k(logistic, 3) == {0, 1, 2}
    assert np.abs(logistic[3:]).max() < 0.02
