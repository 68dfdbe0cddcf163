"""ActionSet, constraints, reachable sets and responsiveness scores."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.utils.estimator_checks import parametrize_with_checks

from featimp.datasets._recourse import load_german_recourse, load_taiwan_recourse
from featimp.recourse import (
    ActionSet,
    DirectionalLinkage,
    IfThen,
    OneHotEncoding,
    OrdinalEncoding,
    ResponsivenessExplainer,
    ResponsivenessSelector,
    ThermometerEncoding,
    best_linear_action,
    german_action_set,
    reachable_set,
    responsiveness_importances,
    responsiveness_scores,
    taiwan_action_set,
)
from featimp.recourse._cases import TAIWAN_AMOUNTS


def _rows(points):
    return sorted(tuple(p) for p in np.asarray(points).tolist())


def _approve_if(column, value):
    return lambda Z: (np.asarray(Z)[:, column] >= value).astype(int)


@pytest.fixture(scope="module")
def german():
    X, y = load_german_recourse()
    A = german_action_set(X)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    return X, y, A, clf


# Golden cases, worked by hand.


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
    approve = _approve_if(2, 1)
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
    scores = responsiveness_scores(_approve_if(2, 1), [[1, 0, 0]], A)
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
    approve = _approve_if(0, 0)
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
        responsiveness_scores(_approve_if(1, 1), [[0, 0]], A), [[1, 1]]
    )


def test_sampled_continuous_feature_has_standard_error():
    X = pd.DataFrame({"x": [0.0, 10.0], "z": [0.5, 1.5]})
    A = ActionSet.from_data(X)
    A["x"].kind = "float"
    explainer = ResponsivenessExplainer(
        _approve_if(0, 7.5), A, n_samples=400, random_state=0, certify="none"
    )
    result = explainer.explain(pd.DataFrame({"x": [0.0], "z": [0.5]}))
    score = result.scores.loc[0, "x"]
    se = result.standard_errors.loc[0, "x"]
    assert result.method == "sample"
    assert abs(score - 0.25) < 4 * se and 0 < se < 0.05


# ActionSet interface.


def test_action_set_inference_selection_and_round_trip():
    X, _ = load_german_recourse()
    A = german_action_set(X)
    assert A["Age"].kind == "int" and A["Male"].kind == "bool"
    assert A[["Age", "Male"]].actionable == [False, False]
    data = json.loads(json.dumps(A.to_dict()))
    B = ActionSet.from_dict(data)
    assert B.to_dict() == A.to_dict()
    assert B.constraints == A.constraints
    frame = A.to_frame()
    assert frame.loc["YearsAtResidence", "step_ub"] == 2
    assert frame["actionable"].sum() == 9


def test_validate_reports_rows_and_constraints():
    X, _ = load_german_recourse()
    A = german_action_set(X)
    bad = X.head(3).copy()
    bad.loc[bad.index[1], "CheckingAcct_exists"] = 0
    bad.loc[bad.index[1], "CheckingAcct_geq_0"] = 1
    bad.loc[bad.index[2], "YearsAtResidence"] = 9
    report = A.validate(bad)
    assert set(report["row"]) == {1, 2}
    assert report["check"].str.contains("thermometer").any()
    assert report["check"].str.contains("bounds of YearsAtResidence").any()
    with pytest.raises(ValueError, match="row 1: thermometer"):
        responsiveness_scores(lambda Z: np.zeros(len(Z)), bad, A)


# German credit.


def test_german_encoding_and_action_set(german):
    X, y, A, _ = german
    assert X.shape == (1000, 36) and y.mean() == pytest.approx(0.7)
    assert A.actionable_names == [
        "YearsAtResidence",
        "YearsEmployed_geq_1",
        "HasGuarantor",
        "HistoryOfBankInstallments",
        "HistoryOfStoreInstallments",
        "CheckingAcct_exists",
        "CheckingAcct_geq_0",
        "SavingsAcct_exists",
        "SavingsAcct_geq_100",
    ]
    assert A.validate(X).empty


def test_german_linear_fast_path_equals_generic_predict(german):
    X, _, A, clf = german
    denied = X[clf.predict(X) == 0]
    fast = responsiveness_scores(clf, denied, A)
    generic = responsiveness_scores(
        lambda Z: clf.predict(pd.DataFrame(Z, columns=X.columns)), denied, A
    )
    np.testing.assert_array_equal(fast, generic)
    immutable = [j for j, e in enumerate(A) if not e.actionable]
    assert np.all(fast[:, immutable] == 0)


def test_german_explainer_fixed_and_actions(german):
    X, _, A, clf = german
    denied = X[clf.predict(X) == 0]
    result = ResponsivenessExplainer(clf, A).explain(denied)
    assert not result.fixed.isna().any()
    found = result.fixed.eq(False).to_numpy()
    reached = clf.predict(denied[found] + result.actions[found].to_numpy())
    assert np.all(reached == 1)
    # A fixed prediction has no responsive feature.
    assert (result.scores[result.fixed.eq(True).to_numpy()].max(axis=1) == 0).all()
    head = denied.iloc[:60]
    milp = ResponsivenessExplainer(clf, A, certify="milp").explain(head)
    pd.testing.assert_series_equal(milp.fixed, result.fixed.iloc[:60])
    generic = ResponsivenessExplainer(
        lambda Z: clf.predict(pd.DataFrame(Z, columns=X.columns)), A
    ).explain(denied)
    pd.testing.assert_series_equal(generic.fixed, result.fixed)
    assert result.n_reachable.min() >= 1
    top = result.top_features(2)
    assert list(top.columns) == ["top_1", "top_2"]


def test_german_global_importances(german):
    X, _, A, clf = german
    explainer = ResponsivenessExplainer(clf, A).fit(X)
    top = explainer.global_importances_.sort_values(ascending=False)
    assert top.index[0] == "HasGuarantor"
    assert (
        explainer.global_importances_[[n for n in A.names if not A[n].actionable]] == 0
    ).all()


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


# Trees: exact compression of long integer grids.


def test_tree_compression_equals_full_enumeration():
    X, y = load_taiwan_recourse()
    X, y = X.iloc[:3000], y.iloc[:3000]
    A = taiwan_action_set(X)
    # Shorter amount ranges keep the full enumeration quick.
    A[list(TAIWAN_AMOUNTS)].ub = 3000
    A[list(TAIWAN_AMOUNTS)].step_lb = -1500
    hgb = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    rf = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    rows = X[(X[list(TAIWAN_AMOUNTS)] <= 3000).all(axis=1)].iloc[:3]
    for model in (hgb, rf):
        fast = responsiveness_scores(model, rows, A)
        slow = responsiveness_scores(
            lambda Z, m=model: m.predict(pd.DataFrame(Z, columns=X.columns)), rows, A
        )
        np.testing.assert_allclose(fast, slow)


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


# Bad input.


def test_bad_input(german):
    X, _, A, clf = german
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


# The registry selector.


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


def test_an_unbounded_integer_range_is_named_not_an_overflow():
    # JSON's 1e400 reads as inf: an int feature with neither a finite bound
    # nor a step limit has infinitely many values to try.
    X = pd.DataFrame({"a": [0, 1, 2, 3] * 10, "b": np.linspace(0, 1, 40)})
    model = LogisticRegression().fit(X, (X["a"] > 1).astype(int))
    spec = ActionSet.from_data(X).to_dict()
    spec["features"][0]["ub"] = float("inf")
    # (Arithmetic on the inf bound warns first; the test silences that.)
    with (
        np.errstate(invalid="ignore"),
        pytest.raises(ValueError, match=r"int feature 'a' can reach an unbounded"),
    ):
        ResponsivenessExplainer(model, ActionSet.from_dict(spec)).explain(X.head(3))
