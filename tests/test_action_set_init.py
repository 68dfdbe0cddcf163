"""``featimp action-set init`` and the JSON the service takes (the action set
itself: tests/test_recourse_action_set.py)."""

import json

import pytest

from featimp.cli import main
from featimp.datasets import load_german_credit
from service.jobs.validate import JobRejected, parse_action_set
from tests._shared import GERMAN_IMMUTABLE, fixed_columns


@pytest.fixture(scope="module")
def german_csv(tmp_path_factory):
    X, y = load_german_credit()
    path = tmp_path_factory.mktemp("data") / "german.csv"
    X.assign(creditability=y).to_csv(path, index=False)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# The JSON the service takes.


def test_json_is_what_the_service_parses(german_guessed):
    _, _, A, _ = german_guessed
    parsed = parse_action_set(json.loads(A.to_json()))
    assert parsed.to_dict() == A.to_dict()


# featimp action-set init.


def test_init_prints_the_action_set_and_warns(capsys, german_guessed, german_csv):
    _, _, A, _ = german_guessed
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
    assert sorted(fixed_columns(parsed)) == sorted(GERMAN_IMMUTABLE)


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
