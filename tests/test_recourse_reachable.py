"""Reachable sets, worked by hand: every kind of constraint, step limits,
bounds and immutable features (featimp/recourse/_reachable.py)."""

import numpy as np
import pandas as pd
import pytest

from featimp.recourse import (
    ActionSet,
    DirectionalLinkage,
    IfThen,
    OneHotEncoding,
    OrdinalEncoding,
    ThermometerEncoding,
    reachable_set,
    responsiveness_scores,
)
from tests._shared import approve_if


def _rows(points):
    return sorted(tuple(p) for p in np.asarray(points).tolist())


def test_thermometer_four_levels_increase_only():
    names = ["t1", "t2", "t3", "t4"]
    A = ActionSet.from_data(
        pd.DataFrame(np.tril(np.ones((5, 4)), -1)[:, :4], columns=names)
    )
    A[names].step_direction = 1
    A.add_constraint(ThermometerEncoding(names, step_direction=1))
    assert _rows(reachable_set(A, [0, 0, 0, 0])) == [
        (0, 0, 0, 0),
        (1, 0, 0, 0),
        (1, 1, 0, 0),
        (1, 1, 1, 0),
        (1, 1, 1, 1),
    ]
    # R_j keeps, per new value of t_j, the fewest other changes: turning t3 on
    # forces t1 and t2 on, and nothing else.
    approve = approve_if(2, 1)
    scores = responsiveness_scores(approve, np.zeros((1, 4)), A)
    # t1 on: (1,0,0,0) -> 0; t2: (1,1,0,0) -> 0; t3: (1,1,1,0) -> 1; t4 -> 1.
    np.testing.assert_array_equal(scores, [[0, 0, 1, 1]])
    assert _rows(reachable_set(A, [1, 1, 0, 0])) == [
        (1, 1, 0, 0),
        (1, 1, 1, 0),
        (1, 1, 1, 1),
    ]


def test_one_hot_group_moves_one_dummy_at_a_time():
    names = ["red", "green", "blue"]
    A = ActionSet.from_data(pd.DataFrame(np.eye(3), columns=names))
    A.add_constraint(OneHotEncoding(names))
    assert _rows(reachable_set(A, [1, 0, 0])) == [(0, 0, 1), (0, 1, 0), (1, 0, 0)]
    # Switching on "blue" forces "red" off: one point, approved. Switching
    # "red" off alone is impossible: both completions change 2 features, and
    # one of them (blue) is approved.
    scores = responsiveness_scores(approve_if(2, 1), [[1, 0, 0]], A)
    np.testing.assert_array_equal(scores, [[0.5, 0, 1]])
    A2 = ActionSet.from_data(pd.DataFrame(np.eye(3), columns=names))
    A2.add_constraint(OneHotEncoding(names, limit_type="max"))
    assert (0, 0, 0) in _rows(reachable_set(A2, [1, 0, 0]))


def test_ordinal_direction():
    names = ["low", "mid", "high"]
    A = ActionSet.from_data(pd.DataFrame(np.eye(3), columns=names))
    A.add_constraint(OrdinalEncoding(names, step_direction=1))
    assert _rows(reachable_set(A, [0, 1, 0])) == [(0, 0, 1), (0, 1, 0)]


def test_linkage_chain_propagates_and_immutable_target_moves():
    X = pd.DataFrame({"study": [0, 3], "degree": [0, 3], "age": [20, 60]})
    A = ActionSet.from_data(X)
    A["age"].actionable = False
    A["degree"].actionable = False
    A["study"].step_ub = 2
    A["study"].step_direction = 1
    A["age"].step_direction = 1
    A.add_constraint(DirectionalLinkage(["study", "degree"], scales=[1]))
    A.add_constraint(DirectionalLinkage(["degree", "age"], scales=[2]))
    # study +1 => degree +1 => age +2 (a chain), age leaves its range freely.
    assert _rows(reachable_set(A, [0, 0, 59])) == [(0, 0, 59), (1, 1, 61), (2, 2, 63)]
    with pytest.raises(ValueError, match="cycle"):
        A.add_constraint(DirectionalLinkage(["age", "study"]))


def test_linkage_keep_bounds_and_direction():
    X = pd.DataFrame({"years": [0, 5], "age": [20, 60]})
    A = ActionSet.from_data(X)
    A["age"].actionable = False
    A["years"].step_direction = 1
    A.add_constraint(DirectionalLinkage(["years", "age"], keep_bounds=True))
    assert _rows(reachable_set(A, [3, 58])) == [(3, 58), (4, 59), (5, 60)]


def test_immutables_step_limits_and_bounds_at_the_edge():
    X = pd.DataFrame({"a": [0, 10], "b": [0, 1], "c": [0, 5]})
    A = ActionSet.from_data(X)
    A["b"].actionable = False
    A["a"].step_lb, A["a"].step_ub = -1, 2
    A["c"].step_direction = -1
    # a at its upper bound can only go down by 1; c at its lower bound is stuck.
    scores_input = np.array([[10, 1, 0]])
    points = reachable_set(A, scores_input[0])
    assert _rows(points) == [(9, 1, 0), (10, 1, 0)]
    approve = approve_if(0, 0)
    np.testing.assert_array_equal(
        responsiveness_scores(approve, scores_input, A), [[1, 0, 0]]
    )


def test_if_then():
    X = pd.DataFrame({"job": [0, 1], "income": [0, 1]})
    A = ActionSet.from_data(X)
    A.add_constraint(IfThen(["job", "income"], if_value=1, then_value=1))
    # Getting a job forces income on (a 2-feature completion).
    assert _rows(reachable_set(A, [0, 0])) == [(0, 0), (0, 1), (1, 1)]
    np.testing.assert_array_equal(
        responsiveness_scores(approve_if(1, 1), [[0, 0]], A), [[1, 1]]
    )
