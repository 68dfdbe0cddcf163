"""Reason codes, row status and SHAP's reasons compared, on German credit
(featimp/recourse/_reasons.py)."""

import numpy as np
import pandas as pd
import pytest

from featimp.recourse import (
    ResponsivenessExplainer,
    ResponsivenessResult,
    compare_reasons,
)
from featimp.recourse._scores import linear_form


def _apply_text(person, action):
    """Write an action text (``"col: before -> after; ..."``) into a row."""
    person = person.copy()
    for change in action.split("; "):
        column, values = change.split(": ", 1)
        before, after = values.split(" -> ")
        assert str(person[column].iloc[0]) == before
        kind = person[column].dtype
        value = after if not pd.api.types.is_numeric_dtype(kind) else float(after)
        person[column] = pd.Series([value], index=person.index).astype(kind)
    return person


def test_reasons_are_responsive_and_ranked(german_paper):
    _, _, _, denied, res = german_paper
    reasons = res.reasons(k=4)
    assert list(reasons.columns) == [
        "row",
        "rank",
        "feature",
        "responsiveness",
        "action",
    ]
    assert (reasons.responsiveness > 0).all()
    for row, person in reasons.groupby("row", sort=False):
        assert person["rank"].tolist() == list(range(1, len(person) + 1))
        assert person.responsiveness.is_monotonic_decreasing
        scores = res.scores.loc[row]
        np.testing.assert_allclose(person.responsiveness, scores[person.feature])
        assert len(person) == min(4, int((scores > 0).sum()))
    without = res.scores.index[res.scores.max(axis=1) <= 0]
    assert not set(reasons.row) & set(without)
    assert set(reasons.row) | set(without) == set(denied.index)


def test_every_reason_action_flips_the_decision(german_raw_explainer):
    X, A, clf, denied, explainer = german_raw_explainer
    reasons = explainer.explain(denied).reasons(k=4)
    assert (reasons.action != "").all()
    people = pd.concat(
        _apply_text(X.loc[[row]], action)
        for row, action in reasons[["row", "action"]].values
    )
    assert (clf.predict(A.encode(people)) == "good").all()
    one_hot = reasons[reasons.feature == "savings_account_and_bonds"]
    assert one_hot.action.str.startswith("savings_account_and_bonds: ").all()


def test_status_per_row(german_paper):
    X, A, clf, denied, res = german_paper
    approved = X[clf.predict(X) == 1].head(10)
    result = ResponsivenessExplainer(clf, A).explain(pd.concat([denied, approved]))
    status = result.status
    assert (status.loc[approved.index] == "approved").all()
    rest = status.loc[denied.index]
    responsive = res.scores.max(axis=1) > 0
    assert (rest[responsive] == "responsive").all()
    assert (rest[~responsive & res.fixed.eq(True)] == "fixed").all()
    assert (rest[~responsive & res.fixed.eq(False)] == "joint_only").all()
    counts = rest.value_counts()
    assert counts["fixed"] > 0 and counts["responsive"] > 0
    assert not set(result.reasons().row) & set(approved.index)


def test_approved_rows_flagged_not_scored(german_raw_explainer):
    X, A, clf, _, explainer = german_raw_explainer
    approved = X[clf.predict(A.encode(X)) == "good"].head(5)
    result = explainer.explain(approved)
    assert (result.status == "approved").all()
    assert result.reasons().empty and result.recourse().empty


def test_compare_reasons_flags_unactionable_shap_reasons(german_paper):
    X, _, clf, denied, res = german_paper
    # SHAP values of a linear score with independent features.
    w, _, _ = linear_form(clf, list(X.columns))
    shap = (denied - X.mean()) * w
    table = compare_reasons(res, shap, k=4)
    assert set(table.columns) >= {"row", "rank", "feature", "actionable"}
    assert len(table) == 4 * len(denied)
    scores = [res.scores.at[r, f] for r, f in table[["row", "feature"]].values]
    assert (table.actionable == (np.array(scores) > 0)).all()
    # Most of SHAP's reasons cannot be acted on (the paper reports 92 %).
    assert 1 - table.actionable.mean() > 0.5


def test_results_not_made_by_explain_cannot_describe_actions(german_paper):
    *_, res = german_paper
    bare = ResponsivenessResult(
        res.scores,
        res.fixed,
        res.n_reachable,
        res.actions,
        res.standard_errors,
        res.method,
    )
    with pytest.raises(ValueError, match="not made by"):
        bare.reasons()
