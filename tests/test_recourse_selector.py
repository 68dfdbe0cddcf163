"""ResponsivenessSelector, the registry's recourse method
(featimp/recourse/_selector.py)."""

import numpy as np
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from featimp.datasets._recourse import load_german_recourse
from featimp.recourse import (
    ResponsivenessSelector,
    german_action_set,
    responsiveness_importances,
)


@parametrize_with_checks(
    [ResponsivenessSelector(n_samples=3, random_state=0, n_features_to_select=1)]
)
def test_selector_sklearn_common_checks(estimator, check):
    check(estimator)


def test_selector_on_german_with_action_set_dict():
    X, y = load_german_recourse()
    A = german_action_set(X)
    selector = ResponsivenessSelector(action_set=A.to_dict(), n_features_to_select=3)
    out = selector.set_output(transform="pandas").fit(X, y).transform(X)
    assert list(out.columns) == [
        "HasGuarantor",
        "CheckingAcct_geq_0",
        "SavingsAcct_geq_100",
    ]
    immutable = [j for j, e in enumerate(A) if not e.actionable]
    assert np.all(selector.importances_[immutable] == 0)
    np.testing.assert_allclose(
        selector.importances_,
        responsiveness_importances(X, y, action_set=A),
    )
    with pytest.raises(ValueError, match="do not match"):
        ResponsivenessSelector(action_set=A).fit(X.iloc[:, ::-1], y)
