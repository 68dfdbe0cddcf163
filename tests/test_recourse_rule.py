"""The per-feature rule: ``rule="reference"`` is reachml's marginal filter,
``rule="per_value"`` is featimp's, and the parameter reaches every entry point.

tests/data/reachml_rule_cases.json holds reachml 0.2.0a1's joint reachable
sets, marginal-filter sets and scores for hand-built action sets, one per
difference between the rules, and its German credit scores (with the model
of german_reachml_reference.json). benchmarks/reachml_rule_cases.py made it
in a side environment with reachml and cplex.
"""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.utils._param_validation import InvalidParameterError

from featimp.datasets._recourse import load_german_recourse
from featimp.methods import get_method
from featimp.recourse import (
    ActionSet,
    ResponsivenessExplainer,
    ResponsivenessSelector,
    german_action_set,
    reachable_set,
    responsiveness_importances,
    responsiveness_scores,
)
from featimp.recourse._reachable import build_groups

DATA = Path(__file__).parent / "data"
FIXTURE = json.loads((DATA / "reachml_rule_cases.json").read_text())
CASES = {c["name"]: c for c in FIXTURE["cases"]}
HAND = [name for name in CASES if name != "german"]
DIFFER = [name for name in HAND if CASES[name]["difference"] != "agree"]


def _case(name):
    case = CASES[name]
    A = ActionSet.from_dict(case["action_set"])
    people = pd.DataFrame(case["X"], columns=case["columns"])
    return case, A, people


def _linear(model):
    clf = LogisticRegression()
    clf.coef_ = np.array([model["coef"]])
    clf.intercept_ = np.array([model["intercept"]])
    clf.classes_ = np.array([0, 1])
    return clf


def _rows(a):
    return sorted(np.asarray(a, dtype=float).reshape(-1, np.shape(a)[-1]).tolist())


def _one_dim(A, x, rule):
    """``{j: R_j as full-width changes}`` for every actionable feature."""
    out = {}
    for g in build_groups(A, rule=rule):
        for k in g.free:
            local = g.one_dim(x[g.group], k)
            full = np.zeros((local.shape[0], len(x)))
            full[:, g.group] = local
            out[g.group[k]] = full
    return out


def _sets_differ(A, people, rule, case):
    """Cells (person, feature) where ``rule``'s R_j is not reachml's."""
    cells = []
    for i, x in enumerate(people.to_numpy(float)):
        ours = _one_dim(A, x, rule)
        theirs = case["reachml"]["sets"][i]
        assert sorted(ours) == sorted(int(j) for j in theirs)
        cells += [(i, j) for j in ours if _rows(ours[j]) != sorted(theirs[str(j)])]
    return cells


@pytest.mark.parametrize("name", HAND)
def test_cases_share_reachmls_joint_sets(name):
    # The rules alone differ: both libraries reach the same points.
    case, A, people = _case(name)
    for x, joint in zip(people.to_numpy(float), case["reachml"]["joint"], strict=True):
        assert _rows(reachable_set(A, x) - x) == sorted(joint)


@pytest.mark.parametrize("name", HAND)
def test_reference_sets_are_reachmls(name):
    case, A, people = _case(name)
    assert _sets_differ(A, people, "reference", case) == []


@pytest.mark.parametrize("name", HAND)
@pytest.mark.parametrize("path", ["linear", "predict"])
def test_reference_scores_are_reachmls(name, path):
    case, A, people = _case(name)
    for model, expected in zip(case["models"], case["reachml"]["scores"], strict=True):
        clf = _linear(model)
        estimator = clf if path == "linear" else (lambda Z, c=clf: c.predict(Z))
        scores = responsiveness_scores(estimator, people, A, rule="reference")
        np.testing.assert_array_equal(scores, np.array(expected))


@pytest.mark.parametrize("name", DIFFER)
def test_per_value_differs_from_reachml_on_each_case(name):
    case, A, people = _case(name)
    assert _sets_differ(A, people, "per_value", case)
    differ = sum(
        int((responsiveness_scores(_linear(m), people, A) != np.array(s)).sum())
        for m, s in zip(case["models"], case["reachml"]["scores"], strict=True)
    )
    assert differ > 0


def test_rules_agree_without_the_three_differences():
    case, A, people = _case("savings")
    assert _sets_differ(A, people, "per_value", case) == []


def test_german_reference_is_reachmls_filter():
    X, _ = load_german_recourse()
    ref = json.loads((DATA / "german_reachml_reference.json").read_text())
    case = CASES["german"]
    assert case["rows"] == ref["rows"]
    people = X.iloc[ref["rows"]]
    model = _linear({"coef": ref["coef"], "intercept": ref["intercept"]})
    A = german_action_set(X)
    reference = responsiveness_scores(model, people, A, rule="reference")
    np.testing.assert_array_equal(reference, np.array(case["reachml"]["scores"][0]))
    # On German credit the two rules give the same scores.
    np.testing.assert_array_equal(responsiveness_scores(model, people, A), reference)


# What each difference means, worked by hand.


def _sets(name, person, rule):
    _, A, _ = _case(name)
    x = np.asarray(person, dtype=float)
    return {A.names[j]: _rows(s) for j, s in _one_dim(A, x, rule).items()}


def test_per_value_keeps_every_value_of_j():
    # Accounts -> CreditLines one for one; a line can be closed, not opened.
    # +1 account can come alone (close a line); +2 and +3 cannot.
    person = [0, 2, 0]  # Accounts, CreditLines, Income
    assert _sets("accounts", person, "per_value")["Accounts"] == [
        [1, 0, 0],
        [2, 1, 0],
        [2, 2, 0],
        [3, 2, 0],
        [3, 3, 0],
    ]
    assert _sets("accounts", person, "reference")["Accounts"] == [[1, 0, 0]]


def test_per_value_completes_through_the_whole_group():
    # A renter becoming an owner stops renting, which lowers HousingCost: a
    # feature tied to "rent" but sharing no constraint with "own".
    person = [0, 1, 0, 4, 0]  # own, rent, free, HousingCost, Savings
    per_value = _sets("housing", person, "per_value")
    assert per_value["own"] == [[1, -1, 0, -4, 0]]
    assert per_value["free"] == [[0, -1, 1, -4, 0]]
    reference = _sets("housing", person, "reference")
    assert reference["own"] == reference["free"] == []


def test_per_value_ignores_what_only_a_linkage_does_to_j():
    # CityYears is at its upper bound: only JobYears (linked one for one)
    # moves it, and that move belongs to JobYears' set.
    person = [4, 3]  # JobYears, CityYears
    per_value = _sets("tenure", person, "per_value")
    assert per_value == {"JobYears": [[1, 1], [2, 2]], "CityYears": []}
    assert _sets("tenure", person, "reference")["CityYears"] == [[1, 1], [2, 2]]


# The parameter reaches every entry point.


def _tenure_problem():
    _, A, people = _case("tenure")
    clf = _linear({"coef": [0.0, 1.0], "intercept": -3.5})  # CityYears >= 4
    return A, people, clf


def test_explainer_takes_the_rule():
    A, people, clf = _tenure_problem()
    for rule in ("per_value", "reference"):
        explainer = ResponsivenessExplainer(clf, A, rule=rule)
        result = explainer.explain(people)
        np.testing.assert_array_equal(
            result.scores, responsiveness_scores(clf, people, A, rule=rule)
        )
        hit = result.fixed.eq(False).to_numpy()
        moved = people.to_numpy(float)[hit] + result.actions.to_numpy()[hit]
        assert (clf.predict(moved) == 1).all()
        explainer.fit(people)
        assert explainer.global_importances_.notna().all()
    # CityYears at its bound, JobYears still able to grow.
    at_bound = people.index[(people["CityYears"] == 3) & (people["JobYears"] < 9)]
    scores = {
        rule: ResponsivenessExplainer(clf, A, rule=rule)
        .explain(people)
        .scores.loc[at_bound, "CityYears"]
        for rule in ("per_value", "reference")
    }
    assert (scores["per_value"] == 0).all() and (scores["reference"] == 1).all()
    with pytest.raises(InvalidParameterError, match="rule"):
        ResponsivenessExplainer(clf, A, rule="paper").explain(people)


def test_selector_and_registry_take_the_rule():
    case, A, people = _case("housing")
    y = _linear(case["models"][0]).predict(people.to_numpy(float))
    by_rule = {}
    for rule in ("per_value", "reference"):
        kwargs = {"estimator": LogisticRegression(), "action_set": A, "rule": rule}
        selector = ResponsivenessSelector(**kwargs).fit(people, y)
        expected = responsiveness_importances(people, y, **kwargs)
        np.testing.assert_array_equal(selector.importances_, expected)
        by_rule[rule] = expected
    # Renters' switch to "own" or "free" only counts under "per_value".
    assert (by_rule["per_value"][[0, 2]] > by_rule["reference"][[0, 2]]).all()
    spec = get_method("responsiveness")
    assert spec.parameters()["rule"].default == "per_value"
    assert spec.make_selector(rule="reference").rule == "reference"
    with pytest.raises(InvalidParameterError, match="rule"):
        spec.make_selector(rule="fewest")


def test_scores_reject_an_unknown_rule():
    A, people, clf = _tenure_problem()
    with pytest.raises(ValueError, match="rule must be one of"):
        responsiveness_scores(clf, people, A, rule="paper")
