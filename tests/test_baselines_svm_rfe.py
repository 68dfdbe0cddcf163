"""The SVM-RFE baseline (featimp/baselines/_svm_rfe.py)."""

from functools import partial

import numpy as np
import pytest
from sklearn.datasets import load_diabetes

from featimp.baselines import svm_rfe_importances
from tests._shared import top_k


def test_svm_rfe_ranks_informative_last_standing(truth_data):
    X, y, _ = truth_data
    scores = svm_rfe_importances(X, y, random_state=0)
    assert top_k(scores, 3) == {0, 1, 2}
    assert sorted(scores) == pytest.approx(np.arange(1, 9) / 8)
    reg = svm_rfe_importances(*load_diabetes(return_X_y=True), step=0.3)
    assert reg.max() == 1.0


def test_svm_rfe_rounds_report_without_changing_the_ranking(cancer_arrays):
    from sklearn.feature_selection import RFE
    from sklearn.preprocessing import StandardScaler

    from featimp.baselines._svm_rfe import _linear_svm, _n_fits, _Reporting

    X, y = cancer_arrays
    Z = StandardScaler().fit_transform(X)
    for step in (1, 4, 0.3):
        calls = []  # one entry per SVM fit
        plain = RFE(_linear_svm("classification", 1.0, 0), n_features_to_select=1)
        plain.set_params(step=step)
        counted = RFE(
            _Reporting(_linear_svm("classification", 1.0, 0), partial(calls.append, 1)),
            n_features_to_select=1,
            step=step,
        )
        np.testing.assert_array_equal(
            plain.fit(Z, y).ranking_, counted.fit(Z, y).ranking_
        )
        assert len(calls) == _n_fits(X.shape[1], step)
