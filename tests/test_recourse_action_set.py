"""Action sets (featimp/recourse/_action_set.py): inference from data,
immutables guessed by name, selection, validation and the JSON round trip."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from featimp.datasets._recourse import load_german_recourse
from featimp.recourse import (
    ActionSet,
    ResponsivenessExplainer,
    german_action_set,
    responsiveness_scores,
)
from featimp.recourse._action_set import guess_immutable
from tests._shared import GERMAN_IMMUTABLE, fixed_columns


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


def test_german_guessed_immutables_are_age_sex_foreign_worker(german_guessed):
    X, _, A, message = german_guessed
    assert sorted(fixed_columns(A)) == sorted(GERMAN_IMMUTABLE)
    for column in GERMAN_IMMUTABLE:
        assert column in message
    # Everything else is as without the guess.
    plain = ActionSet.from_data(X)
    for column in GERMAN_IMMUTABLE:
        plain[plain.columns_of(column)].actionable = False
    assert plain.to_dict() == A.to_dict()


@pytest.mark.parametrize(
    ("name", "meaning"),
    [
        ("Age", ["age"]),
        ("AgeYears", ["age"]),
        ("date_of_birth", ["age"]),
        ("Gender", ["sex"]),
        ("Male", ["sex"]),
        ("MaritalStatus", ["marital status"]),
        ("Married", ["marital status"]),
        ("ForeignWorker", ["foreign worker"]),
        ("race", ["race"]),
        ("ethnicity", ["race"]),
        ("native-country", ["nationality"]),
        ("Nationality", ["nationality"]),
    ],
)
def test_guess_reads_whole_words(name, meaning):
    assert guess_immutable(name) == meaning


@pytest.mark.parametrize(
    "name",
    [
        "installment_rate_in_percentage_of_disposable_income",
        "mortgage",
        "average_balance",
        "Job_is_Management",
        "number_of_people_being_liable_to_provide_maintenance_for",
        "purpose",
    ],
)
def test_guess_ignores_words_that_only_contain_one(name):
    assert guess_immutable(name) == []


def test_no_guess_no_warning_all_actionable():
    X = pd.DataFrame({"age": [20, 30], "savings": [1.0, 2.5]})
    assert ActionSet.from_data(X).actionable_names == ["age", "savings"]
    X = X.rename(columns={"age": "duration"})
    assert ActionSet.from_data(X, guess_immutable=True).actionable_names == [
        "duration",
        "savings",
    ]


def test_json_round_trip_gives_the_same_scores(german_guessed):
    X, y, A, _ = german_guessed
    B = ActionSet.from_json(A.to_json())
    assert B.to_dict() == A.to_dict()
    assert list(B) == list(A) and B.constraints == A.constraints
    assert [c.name for c in B.raw_columns] == list(X.columns)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    model.fit(A.encode(X), y)
    rows = X.iloc[:30]
    scores = [
        ResponsivenessExplainer(model, S, target="good").explain(rows) for S in (A, B)
    ]
    pd.testing.assert_frame_equal(scores[0].scores, scores[1].scores)
    np.testing.assert_array_equal(scores[0].fixed, scores[1].fixed)
    assert scores[0].scores.to_numpy().any()


def test_json_is_strict():
    A = ActionSet.from_data(pd.DataFrame({"x": [0.5, 1.5]}))
    A["x"].grid = [0.5, float("nan")]
    with pytest.raises(ValueError, match="JSON"):
        A.to_json()
