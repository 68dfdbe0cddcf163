"""featimp.recourse.paper: the authors' split, model and reason shares."""

import numpy as np
import pytest

from featimp.datasets import load_german_recourse
from featimp.recourse import ResponsivenessExplainer, german_action_set, paper


def test_split_is_stratified_k05n01():
    _, y = load_german_recourse()
    train = paper.paper_split(y)
    assert train.sum() == 800
    # Stratified: 140 of the 200 test rows are good risks, as in the data.
    assert int(y[~train].sum()) == 140
    # A different seed is a different split.
    assert not np.array_equal(train, paper.paper_split(y, seed=0))


def test_action_aware_zeroes_only_immutable_features():
    X, _ = load_german_recourse()
    action_set = german_action_set(X)
    out = paper.action_aware(np.ones((2, X.shape[1])), action_set)
    actionable = [e.actionable for e in action_set]
    assert (out[:, actionable] == 1).all()
    assert (out[:, np.logical_not(actionable)] == 0).all()


def test_denied_unique_rows_and_holdout_auc():
    X, y = load_german_recourse()
    train = paper.paper_split(y)
    model = paper.train_lr(X[train].to_numpy(float), y[train])
    rows = paper.denied_unique(model, X.astype(float))
    assert len(rows) == 228 and not rows.duplicated().any()
    assert (model.predict(rows.to_numpy()) != 1).all()
    assert 0.7 < paper.holdout_auc(model, X[~train], y[~train]) < 0.9


def test_reason_shares_count_slots_without_zero_attributions():
    X, _ = load_german_recourse()
    action_set = german_action_set(X)
    rows = X.iloc[:3].astype(float)
    result = ResponsivenessExplainer(
        _Approves(X.columns.get_loc("HasGuarantor")), action_set
    ).explain(rows)
    attributions = np.zeros((3, X.shape[1]))
    attributions[:, X.columns.get_loc("HasGuarantor")] = 1.0  # responsive
    attributions[:, X.columns.get_loc("Male")] = 2.0  # immutable
    shares = paper.reason_shares(result, attributions, list(X.columns))
    assert shares["n_slots"] == 6  # two nonzero attributions a person
    assert shares["top4_zero_share"] == pytest.approx(50.0)
    assert shares["any_unresponsive_share"] == pytest.approx(100.0)
    assert shares["all_unresponsive_share"] == pytest.approx(0.0)


class _Approves:
    """Approves exactly the people with feature ``j`` set."""

    def __init__(self, j):
        self.j = j

    def predict(self, X):
        return (np.asarray(X)[:, self.j] > 0).astype(int)
