"""Readable recourse actions on German credit: each one flips the decision."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import LinearSVC

from featimp.datasets import load_german_credit, load_german_recourse
from featimp.recourse import (
    ActionSet,
    ResponsivenessExplainer,
    reachable_set,
)


@pytest.fixture(scope="module")
def german_raw(german_raw_explainer):
    *data, denied, explainer = german_raw_explainer
    return *data, denied, explainer.explain(denied)


def _apply(X, lines):
    """The rows of ``X`` with each option's ``after`` values written in."""
    points = []
    for (row, _), option in lines.groupby(["row", "option"], sort=False):
        person = X.loc[[row]].copy()
        for feature, before, after in option[["feature", "before", "after"]].values:
            assert person[feature].iloc[0] == before
            person[feature] = pd.Series([after], index=person.index).astype(
                person[feature].dtype
            )
        points.append(person)
    return pd.concat(points)


@pytest.mark.parametrize("k", [1, 3])
def test_every_readable_action_flips_the_decision(german_raw, k):
    X, A, clf, _, res = german_raw
    lines = res.recourse(k=k)
    assert list(lines.columns[:7]) == [
        "row",
        "option",
        "feature",
        "before",
        "after",
        "new_probability",
        "cost",
    ]
    applied = _apply(X, lines)
    assert (clf.predict(A.encode(applied)) == "good").all()
    probability = clf.predict_proba(A.encode(applied))[:, 1]
    first = lines.drop_duplicates(["row", "option"])
    np.testing.assert_allclose(first.new_probability, probability)
    assert (first.new_probability > 0.5).all()


def test_every_denied_applicant_with_recourse_has_an_action(german_raw):
    _, _, _, denied, res = german_raw
    lines = res.recourse(k=1)
    assert set(res.status) <= {"responsive", "joint_only"}
    assert set(lines.row) == set(denied.index)
    assert lines.exact.all() and (lines.option == 1).all()


def test_options_are_distinct_minimal_and_cheapest_first(german_raw):
    *_, res = german_raw
    lines = res.recourse(k=3)
    for _, person in lines.groupby("row"):
        options = person.groupby("option")
        supports = [frozenset(o.feature) for _, o in options]
        costs = options.cost.first().tolist()
        assert costs == sorted(costs) == [len(s) for s in supports]
        assert list(options.groups) == list(range(1, len(supports) + 1))
        for a in range(len(supports)):
            for b in range(a + 1, len(supports)):
                assert not supports[a] <= supports[b]


def test_category_labels_and_numbers_in_the_users_own_values(german_raw):
    X, *_, res = german_raw
    lines = res.recourse(k=3)
    savings = lines[lines.feature == "savings_account_and_bonds"]
    labels = set(X["savings_account_and_bonds"])
    assert len(savings) and set(savings.before) | set(savings.after) <= labels
    duration = lines[lines.feature == "duration_in_month"]
    assert len(duration) and (duration.after < duration.before).all()
    assert all(isinstance(v, int) for v in duration.after)


@pytest.mark.parametrize("model", ["linear", "trees"])
def test_options_are_exact_against_brute_force(german_paper, model):
    X, A, clf, denied, res = german_paper
    if model == "trees":
        _, y = load_german_recourse()
        clf = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
        denied = X[clf.predict(X) == 0]
        res = ResponsivenessExplainer(clf, A).explain(denied)
    lines = res.recourse(k=3)
    costs = lines.drop_duplicates(["row", "option"]).groupby("row").cost.apply(list)
    for row in denied.index[::4]:
        x = denied.loc[row].to_numpy(dtype=float)
        points = reachable_set(A, x)
        hits = points[clf.predict(pd.DataFrame(points, columns=X.columns)) == 1]
        supports = sorted({frozenset(np.flatnonzero(p != x)) for p in hits}, key=len)
        minimal = [s for s in supports if not any(t < s for t in supports)]
        expected = sorted(len(s) for s in minimal)[:3]
        assert costs.get(row, []) == expected, row


def test_decision_score_without_predict_proba(german_paper):
    X, A, _, _, _ = german_paper
    _, y = load_german_recourse()
    svm = LinearSVC().fit(X, y)
    denied = X[svm.predict(X) == 0].head(20)
    lines = ResponsivenessExplainer(svm, A).explain(denied).recourse()
    applied = _apply(X, lines)
    first = lines.drop_duplicates(["row", "option"])
    np.testing.assert_allclose(first.new_probability, svm.decision_function(applied))
    assert (first.new_probability > 0).all()


def test_reference_rows_set_the_shift_not_the_options(german_raw):
    X, *_, res = german_raw
    own, train = res.recourse(k=1), res.recourse(k=1, reference=X)
    assert own.cost.tolist() == train.cost.tolist()
    assert (train["shift"] > 0).all() and not own["shift"].equals(train["shift"])


def test_approved_and_fixed_rows_have_no_actions(german_paper):
    X, A, clf, denied, res = german_paper
    approved = X[clf.predict(X) == 1].head(5)
    both = pd.concat([approved, denied.head(5)])
    result = ResponsivenessExplainer(clf, A).explain(both)
    assert (result.status.loc[approved.index] == "approved").all()
    lines = result.recourse()
    assert not set(lines.row) & set(approved.index)
    fixed = res.status[res.status == "fixed"].index
    assert len(fixed) and not set(res.recourse().row) & set(fixed)


def test_k_must_be_positive(german_paper):
    *_, res = german_paper
    with pytest.raises(ValueError, match="k must be a positive int"):
        res.recourse(k=0)


def test_model_fitted_on_the_raw_columns(german_raw):
    X, A, _, _, _ = german_raw
    _, y = load_german_credit()
    text = [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]
    encode = ColumnTransformer(
        [("text", OneHotEncoder(handle_unknown="ignore"), text)],
        remainder=StandardScaler(),
    )
    clf = make_pipeline(encode, LogisticRegression(max_iter=1000)).fit(X, y)
    denied = X[clf.predict(X) == "bad"].head(15)
    lines = ResponsivenessExplainer(clf, A, target="good").explain(denied).recourse()
    applied = _apply(X, lines)
    assert len(applied) == len(denied)
    assert (clf.predict(applied) == "good").all()
    first = lines.drop_duplicates(["row", "option"])
    np.testing.assert_allclose(first.new_probability, clf.predict_proba(applied)[:, 1])


def test_tree_model_actions_flip_the_decision(german_paper):
    X, A, _, _, _ = german_paper
    _, y = load_german_recourse()
    trees = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    denied = X[trees.predict(X) == 0]
    res = ResponsivenessExplainer(trees, A, n_actions=2).explain(denied)
    lines = res.recourse()
    assert set(lines.row) >= set(res.status.index[res.status == "responsive"])
    assert (trees.predict(_apply(X, lines)) == 1).all()


def test_continuous_feature_searched_on_an_even_grid():
    X = pd.DataFrame({"income": [1.0, 2.5, 4.0], "age": [30, 40, 50]})
    A = ActionSet.from_data(X)
    A["age"].actionable = False
    A["income"].step_direction = 1

    def approve(Z):
        return (Z[:, 0] >= 3.2).astype(int)

    res = ResponsivenessExplainer(approve, A, random_state=0).explain(X)
    assert res.status.tolist() == ["responsive", "responsive", "approved"]
    lines = res.recourse()
    # 101 even steps of [1, 4] and of [2.5, 4]: the first at or past 3.2.
    assert lines.after.tolist() == pytest.approx([3.22, 3.205])
    assert lines.new_probability.isna().all()
