"""ResponsivenessExplainer (featimp/recourse/_explainer.py): fixed rows,
actions, global importances and the rows it is given."""

import numpy as np
import pandas as pd
import pytest

from featimp.recourse import ResponsivenessExplainer


def test_german_explainer_fixed_and_actions(german_recourse):
    X, _, A, clf = german_recourse
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


def test_german_global_importances(german_recourse):
    X, _, A, clf = german_recourse
    explainer = ResponsivenessExplainer(clf, A).fit(X)
    top = explainer.global_importances_.sort_values(ascending=False)
    assert top.index[0] == "HasGuarantor"
    assert (
        explainer.global_importances_[[n for n in A.names if not A[n].actionable]] == 0
    ).all()


def test_a_series_is_one_row(german_raw_explainer):
    *_, denied, explainer = german_raw_explainer
    row = denied.index[0]
    one = explainer.explain(denied.loc[row])
    assert list(one.scores.index) == [row]
    many = explainer.explain(denied.head(3))
    pd.testing.assert_series_equal(one.scores.loc[row], many.scores.loc[row])
    assert one.reasons().equals(many.reasons().query("row == @row"))


def test_invalid_row_names_row_and_constraint(german_raw_explainer):
    _, A, _, denied, explainer = german_raw_explainer
    encoded = A.encode(denied.head(3))
    savings = A.columns_of("savings_account_and_bonds")
    encoded.loc[encoded.index[1], savings] = 1.0
    with pytest.raises(ValueError, match=r"row 1: exactly one of savings_account"):
        explainer.explain(encoded)
    out_of_range = A.encode(denied.head(2))
    out_of_range.iloc[0, A.index(["duration_in_month"])[0]] = 100
    with pytest.raises(ValueError, match=r"row 0: bounds of duration_in_month"):
        explainer.explain(out_of_range)
