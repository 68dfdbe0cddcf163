"""Action sets from data and from a file: immutables guessed by name, the JSON
the service takes, and ``featimp action-set init``."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from featimp.cli import main
from featimp.datasets import load_german_credit
from featimp.recourse import ActionSet, ResponsivenessExplainer
from featimp.recourse._action_set import guess_immutable
from service.jobs.validate import JobRejected, parse_action_set

GERMAN_IMMUTABLE = ["personal_status_and_sex", "age_in_years", "foreign_worker"]


@pytest.fixture(scope="module")
def german():
    X, y = load_german_credit()
    with pytest.warns(UserWarning, match="guessed from their names") as caught:
        A = ActionSet.from_data(X, guess_immutable=True)
    assert len(caught) == 1
    return X, y, A, str(caught[0].message)


@pytest.fixture(scope="module")
def german_csv(tmp_path_factory):
    X, y = load_german_credit()
    path = tmp_path_factory.mktemp("data") / "german.csv"
    X.assign(creditability=y).to_csv(path, index=False)
    return path


def _fixed_columns(A):
    return [
        c.name for c in A.raw_columns if not any(A[A.columns_of(c.name)].actionable)
    ]


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# Immutables guessed by name.


def test_german_guessed_immutables_are_age_sex_foreign_worker(german):
    X, _, A, message = german
    assert sorted(_fixed_columns(A)) == sorted(GERMAN_IMMUTABLE)
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


# JSON round trip.


def test_json_round_trip_gives_the_same_scores(german):
    X, y, A, _ = german
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


def test_json_is_what_the_service_parses(german):
    _, _, A, _ = german
    parsed = parse_action_set(json.loads(A.to_json()))
    assert parsed.to_dict() == A.to_dict()


def test_json_is_strict():
    A = ActionSet.from_data(pd.DataFrame({"x": [0.5, 1.5]}))
    A["x"].grid = [0.5, float("nan")]
    with pytest.raises(ValueError, match="JSON"):
        A.to_json()


# featimp action-set init.


def test_init_prints_the_action_set_and_warns(capsys, german, german_csv):
    _, _, A, _ = german
    code, out, err = run(
        capsys, "action-set", "init", german_csv, "--target", "creditability"
    )
    assert code == 0
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("featimp: warning: not actionable")
    for column in GERMAN_IMMUTABLE:
        assert column in lines[0]
    data = json.loads(out)
    assert data == json.loads(A.to_json())
    parsed = parse_action_set(data)
    assert "creditability" not in [c.name for c in parsed.raw_columns]
    assert sorted(_fixed_columns(parsed)) == sorted(GERMAN_IMMUTABLE)


def test_init_output_edited_by_hand_still_parses(capsys, german_csv):
    _, out, _ = run(
        capsys, "action-set", "init", german_csv, "--target", "creditability"
    )
    data = json.loads(out)
    for item in data["features"]:
        if item["name"] == "duration_in_month":
            item.update(step_direction=-1, lb=4)
    A = parse_action_set(data)
    assert A["duration_in_month"].step_direction == -1
    data["features"][0]["kind"] = "text"
    with pytest.raises(JobRejected, match="kind"):
        parse_action_set(data)


def _assert_one_line_error(code, out, err, *needles):
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1, err
    assert err.startswith("featimp: error: ")
    for needle in needles:
        assert needle in err


@pytest.mark.parametrize(
    ("argv", "needles"),
    [
        (["missing.csv", "--target", "y"], ["no such file", "missing.csv"]),
        (["GERMAN", "--target", "nope"], ["target column 'nope'", "age_in_years"]),
        (["GERMAN"], ["--target"]),
    ],
)
def test_init_bad_input_is_one_line_exit_2(capsys, german_csv, tmp_path, argv, needles):
    argv = [str(german_csv) if a == "GERMAN" else a for a in argv]
    argv = [str(tmp_path / a) if a == "missing.csv" else a for a in argv]
    code, out, err = run(capsys, "action-set", "init", *argv)
    _assert_one_line_error(code, out, err, *needles)


def test_init_unsupported_file_type(capsys, tmp_path):
    path = tmp_path / "data.xlsx"
    path.write_text("y\n1\n")
    code, out, err = run(capsys, "action-set", "init", path, "--target", "y")
    _assert_one_line_error(code, out, err, "unsupported file type")


def test_action_set_needs_a_subcommand(capsys):
    code, out, err = run(capsys, "action-set")
    _assert_one_line_error(code, out, err, "init")


@pytest.mark.parametrize("argv", [["action-set"], ["action-set", "init"]])
def test_help_shows_the_example(capsys, argv):
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    assert "featimp action-set init data.csv --target y" in capsys.readouterr().out
