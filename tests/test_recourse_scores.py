"""Responsiveness scores (featimp/recourse/_scores.py): the linear fast path,
sampled continuous features, all of Taiwan credit, and bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from featimp.datasets._recourse import load_taiwan_recourse
from featimp.recourse import (
    ActionSet,
    ResponsivenessExplainer,
    responsiveness_scores,
    taiwan_action_set,
)
from tests._shared import approve_if


def test_sampled_continuous_feature_has_standard_error():
    X = pd.DataFrame({"x": [0.0, 10.0], "z": [0.5, 1.5]})
    A = ActionSet.from_data(X)
    A["x"].kind = "float"
    explainer = ResponsivenessExplainer(
        approve_if(0, 7.5), A, n_samples=400, random_state=0, certify="none"
    )
    result = explainer.explain(pd.DataFrame({"x": [0.0], "z": [0.5]}))
    score = result.scores.loc[0, "x"]
    se = result.standard_errors.loc[0, "x"]
    assert result.method == "sample"
    assert abs(score - 0.25) < 4 * se and 0 < se < 0.05


def test_german_linear_fast_path_equals_generic_predict(german_recourse):
    X, _, A, clf = german_recourse
    denied = X[clf.predict(X) == 0]
    fast = responsiveness_scores(clf, denied, A)
    generic = responsiveness_scores(
        lambda Z: clf.predict(pd.DataFrame(Z, columns=X.columns)), denied, A
    )
    np.testing.assert_array_equal(fast, generic)
    immutable = [j for j, e in enumerate(A) if not e.actionable]
    assert np.all(fast[:, immutable] == 0)


def test_taiwan_linear_all_rows_fast_and_progress(capsys):
    X, y = load_taiwan_recourse()
    A = taiwan_action_set(X)
    scale = X.max().clip(lower=1)
    clf = LogisticRegression(max_iter=300).fit(X.iloc[:3000] / scale, y.iloc[:3000])
    clf.coef_ = clf.coef_ / scale.to_numpy()
    clf.feature_names_in_ = np.asarray(X.columns, dtype=object)
    scores = responsiveness_scores(clf, X, A, batch_size=10_000, progress=True)
    assert scores.shape == X.shape
    fixed = [j for j, e in enumerate(A) if not e.actionable]
    assert np.all(scores[:, fixed] == 0)
    amount = A.names.index("MostRecentBillAmount")
    some = X.iloc[:3]
    slow = responsiveness_scores(
        lambda Z: clf.predict(pd.DataFrame(Z, columns=X.columns)), some, A
    )
    np.testing.assert_allclose(scores[:3, amount], slow[:, amount])


def test_bad_input(german_recourse):
    X, _, A, clf = german_recourse
    with pytest.raises(ValueError, match="unknown column"):
        responsiveness_scores(clf, X.assign(Extra=0), A)
    with pytest.raises(ValueError, match="missing"):
        responsiveness_scores(clf, X.drop(columns="Age"), A)
    with pytest.raises(TypeError, match="predict"):
        responsiveness_scores(object(), X, A)
    with pytest.raises(ValueError, match="target=7"):
        responsiveness_scores(clf, X, A, target=7)
    with pytest.raises(ValueError, match="non-empty"):
        responsiveness_scores(clf, X.iloc[:0], A)
    with pytest.raises(ValueError, match=r"NaN or infinity in column.*'Age'"):
        responsiveness_scores(clf, X.head().assign(Age=np.nan), A)
    with pytest.raises(ValueError, match="unknown feature name"):
        A[["Age", "Nope"]]
    with pytest.raises(ValueError, match="step_direction of feature 'Age'"):
        A["Age"].step_direction = 2
    with pytest.raises(ValueError, match="method"):
        responsiveness_scores(clf, X, A, method="magic")
    with pytest.raises(ValueError, match="continuous feature"):
        responsiveness_scores(
            lambda Z: Z[:, 0] > 0,
            pd.DataFrame({"x": [0.5, 1.5]}),
            ActionSet.from_data(pd.DataFrame({"x": [0.5, 1.5]})),
            method="enumerate",
        )
    with pytest.raises(TypeError, match="ActionSet"):
        responsiveness_scores(clf, X, {"features": []})
