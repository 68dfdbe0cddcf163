"""Our German credit scores equal reachml's, for every denied person.

The reference was computed once with reachml 0.2.0a1 in a side environment
(benchmarks/bench_responsiveness.py --write-fixture runs
benchmarks/reachml_reference.py there) with the logistic regression stored in
the fixture, so both libraries score the identical model. ``paper_rule``
(the key's name is historical) are reachml's interventions filtered by
featimp's ``rule="per_value"``, which on this model equals reachml's own
marginal filter (``rule="reference"``, tests/test_recourse_rule.py); ``raw``
are reachml's enumerate-mode scores (all completions of each new value).
"""

import json
from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from featimp.datasets._recourse import load_german_recourse
from featimp.recourse import german_action_set, responsiveness_scores

FIXTURE = Path(__file__).parent / "data" / "german_reachml_reference.json"


@pytest.fixture(scope="module")
def reference():
    return json.loads(FIXTURE.read_text())


@pytest.fixture(scope="module")
def model(reference):
    clf = LogisticRegression()
    clf.coef_ = np.array([reference["coef"]])
    clf.intercept_ = np.array([reference["intercept"]])
    clf.classes_ = np.array([0, 1])
    return clf


def test_reference_covers_every_denied_person(reference, model):
    X, _ = load_german_recourse()
    assert reference["columns"] == list(X.columns)
    denied = np.flatnonzero(model.predict(X.to_numpy(float)) == 0)
    assert reference["rows"] == denied.tolist()


@pytest.mark.parametrize("path", ["linear", "predict"])
def test_scores_equal_reachml(reference, model, path):
    X, _ = load_german_recourse()
    A = german_action_set(X)
    people = X.iloc[reference["rows"]]
    estimator = model if path == "linear" else (lambda Z: model.predict(Z))
    ours = responsiveness_scores(estimator, people, A)
    np.testing.assert_array_equal(ours, np.array(reference["paper_rule"]))
    # On this model reachml's raw enumeration gives the same numbers.
    np.testing.assert_array_equal(ours, np.array(reference["raw"]))
