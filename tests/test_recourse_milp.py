"""The MILP certificate of linear models (featimp/recourse/_milp.py)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from featimp.recourse import (
    ActionSet,
    IfThen,
    ResponsivenessExplainer,
    best_linear_action,
    reachable_set,
)


def test_milp_certifies_continuous_action_set():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "income": rng.uniform(0, 10, 50),
            "debt": rng.uniform(0, 5, 50),
            "age": rng.integers(20, 70, 50),
        }
    )
    A = ActionSet.from_data(X)
    A["age"].actionable = False
    A["income"].step_ub = 1.0
    A["income"].step_direction = 1
    A["debt"].step_direction = -1
    A["debt"].step_lb = -0.5
    w, b = np.array([1.0, -2.0, 0.0]), -8.0
    x = np.array([5.0, 1.0, 30.0])
    margin, change = best_linear_action(w, b, x, A)
    np.testing.assert_allclose(change, [1.0, -0.5, 0.0])
    assert margin == pytest.approx(6.0 - 1.0 - 8.0)
    clf = LogisticRegression()
    clf.coef_, clf.intercept_ = w[None, :], np.array([b])
    clf.classes_ = np.array([0, 1])
    result = ResponsivenessExplainer(clf, A, n_samples=20, random_state=0).explain(
        pd.DataFrame([x, [7.5, 0.2, 40.0]], columns=X.columns)
    )
    assert result.fixed.tolist() == [True, False]


def _linear_model(w, b):
    clf = LogisticRegression()
    clf.coef_, clf.intercept_ = np.asarray(w, float)[None, :], np.array([float(b)])
    clf.classes_ = np.array([0, 1])
    return clf


def test_if_then_on_an_integer_feature_is_not_certified_fixed_wrongly():
    # "if ndep = 1 then childcare = 1" once became -ndep + childcare >= 0,
    # true only for 0/1 features: the MILP then said fixed although
    # (3, 0, 1, 1.0) is reachable, valid and approved.
    X = pd.DataFrame(
        {
            "ndep": [0, 1, 2, 3],
            "childcare": [0, 1, 0, 1],
            "z": [False, True, False, True],
            "income": [1.0, 2.5, 3.0, 4.0],
        }
    )
    A = ActionSet.from_data(X)
    A.add_constraint(IfThen(["ndep", "childcare"], if_value=1, then_value=1))
    clf = _linear_model([1.0, 0.0, 2.0, 0.0], -4.5)
    person = pd.DataFrame([[0, 0, 0, 1.0]], columns=X.columns)
    for certify in ("auto", "milp"):
        result = ResponsivenessExplainer(clf, A, certify=certify).explain(person)
        assert result.fixed.tolist() == [False], certify
        reached = person.to_numpy(float) + result.actions.to_numpy()
        assert A.validate(pd.DataFrame(reached, columns=X.columns)).all(axis=None)
        assert clf.predict(reached) == [1]


def test_milp_with_if_then_agrees_with_complete_enumeration():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": [0, 3], "b": [0, 2], "c": [0, 1]})
    for trial in range(40):
        A = ActionSet.from_data(X)
        v, u = rng.integers(0, 4), rng.integers(0, 3)
        A.add_constraint(IfThen(["a", "b"], if_value=v, then_value=u))
        if trial % 3 == 0:
            A["b"].actionable = False
        w = rng.normal(size=3)
        x = np.array([rng.integers(0, 4), rng.integers(0, 3), rng.integers(0, 2)])
        if x[0] == v and x[1] != u:
            x[0] = (v + 1) % 4  # start from a valid point
        points = reachable_set(A, x)
        best = (points @ w).max()
        margin, change = best_linear_action(w, 0.0, x, A)
        assert margin == pytest.approx(best, abs=1e-9), (v, u, x, w)
        assert (
            IfThen(["a", "b"], if_value=v, then_value=u)
            .check((x + change)[None, :2])
            .all()
        )
