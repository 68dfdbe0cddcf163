"""A portfolio of Taiwan credit rows with a gradient-boosted model: the fast
paths (one prediction per split interval, searches side by side, threads)
give the answers of the plain ones."""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingClassifier

from featimp.datasets._recourse import load_taiwan_recourse
from featimp.recourse import ResponsivenessExplainer, _searches, taiwan_action_set


@pytest.fixture(scope="module")
def portfolio():
    X, y = load_taiwan_recourse()
    A = taiwan_action_set(X)
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0)
    model.fit(X.iloc[:6000], y.iloc[:6000])
    rows = X.iloc[6000:6600]
    result = ResponsivenessExplainer(model, A, random_state=0).explain(rows)
    return X, A, model, rows, result


def test_threads_give_the_same_result(portfolio):
    _, A, model, rows, result = portfolio
    threaded = ResponsivenessExplainer(model, A, random_state=0, n_jobs=2)
    other = threaded.explain(rows)
    pd.testing.assert_frame_equal(other.scores, result.scores)
    pd.testing.assert_frame_equal(other.actions, result.actions)
    pd.testing.assert_series_equal(other.status, result.status)
    assert other.to_json() == result.to_json()


def test_searches_side_by_side_equal_one_by_one(portfolio, monkeypatch):
    _, A, model, rows, result = portfolio
    together = result.to_json(k=2)
    monkeypatch.setattr(_searches, "WINDOW", 1)
    assert result.to_json(k=2) == together
    alone = ResponsivenessExplainer(model, A, random_state=0).explain(rows)
    pd.testing.assert_frame_equal(alone.actions, result.actions)
    pd.testing.assert_series_equal(alone.status, result.status)
    assert (result.status != "approved").sum() > 20  # people were searched


def test_first_hitting_change_equals_predicting_every_value(portfolio):
    _, A, model, rows, result = portfolio
    responsive = np.flatnonzero(result.status.to_numpy() == "responsive")[:15]
    assert len(responsive) >= 5
    values = A._values(rows)
    for i in responsive:
        x = values[i]
        j = int(np.argmax(result.scores.iloc[i].to_numpy()))
        candidates = A[j].values(x[j])
        points = np.repeat(x[None, :], len(candidates), axis=0)
        points[:, j] = candidates
        hits = np.flatnonzero(model.predict(pd.DataFrame(points, columns=A.names)) == 1)
        expected = np.zeros_like(x)
        expected[j] = candidates[hits[0]] - x[j]
        np.testing.assert_array_equal(result.actions.iloc[i].to_numpy(), expected)


def test_approved_rows_need_no_change(portfolio):
    _, _, _, _, result = portfolio
    approved = result.status.to_numpy() == "approved"
    assert approved.any()
    assert (result.actions[approved].to_numpy() == 0).all()
    assert not result.fixed[approved].any()


def test_progress_bars_go_to_stderr(portfolio, capsys):
    _, A, model, rows, _ = portfolio
    ResponsivenessExplainer(model, A, random_state=0, progress=True).explain(
        rows.iloc[:50]
    )
    out, err = capsys.readouterr()
    assert out == "" and "certifying" in err and "scoring" in err
