import json
import subprocess
import sys

import pandas as pd
import pytest

from featimp.cli import main, parse_params


@pytest.fixture
def credit_csv(tmp_path):
    from featimp.datasets import load_german_credit

    X, y = load_german_credit()
    path = tmp_path / "credit.csv"
    X.assign(creditability=y).to_csv(path, index=False)
    return path


def run(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_parse_params_types():
    assert parse_params(["k=3", "a=0.5", "s=binned", "b=true", "n=None"]) == {
        "k": 3,
        "a": 0.5,
        "s": "binned",
        "b": True,
        "n": None,
    }


def test_methods_lists_registry(capsys):
    code, out, _ = run(capsys, "methods", "--json")
    assert code == 0
    names = {m["name"] for m in json.loads(out)}
    assert {"mi", "mrmr", "ecfs", "inffs"} <= names


def test_rank_bundled_dataset(capsys):
    code, out, _ = run(
        capsys,
        "rank",
        "--dataset",
        "breast_cancer",
        "--method",
        "mi",
        "--top",
        "5",
        "--quiet",
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].startswith("method=mi task=classification rows=569 features=30")
    assert len(lines) == 2 + 5  # header line, table header, 5 rows


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_rank_file_with_categoricals_writes_output(
    capsys, credit_csv, tmp_path, suffix
):
    out_path = tmp_path / f"ranking{suffix}"
    code, _out, _ = run(
        capsys,
        "rank",
        credit_csv,
        "--target",
        "creditability",
        "--method",
        "mi",
        "--param",
        "random_state=0",
        "--output",
        out_path,
        "--quiet",
    )
    assert code == 0
    ranking = (
        pd.read_json(out_path)
        if suffix == ".json"
        else pd.read_parquet(out_path)
        if suffix == ".parquet"
        else pd.read_csv(out_path)
    )
    assert len(ranking) == 20
    assert ranking["rank"].tolist() == list(range(1, 21))
    assert ranking.iloc[0]["feature"] == "status_of_existing_checking_account"


def test_select_writes_reduced_dataset(capsys, tmp_path):
    out_path = tmp_path / "reduced.csv"
    code, _out, _ = run(
        capsys,
        "select",
        "--dataset",
        "wine",
        "--method",
        "ecfs",
        "-k",
        "4",
        "--output",
        out_path,
        "--quiet",
    )
    assert code == 0
    reduced = pd.read_csv(out_path)
    assert reduced.shape == (178, 5)
    assert reduced.columns[-1] == "target"


def test_unsupervised_rank_without_target(capsys, tmp_path):
    from featimp.datasets import load_dataset

    X, _ = load_dataset("iris")
    path = tmp_path / "iris.csv"
    X.to_csv(path, index=False)
    code, out, _ = run(capsys, "rank", path, "--method", "ecfs", "--quiet")
    assert code == 0
    assert "task=unsupervised" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["rank", "--dataset", "iris", "--method", "nope"], "invalid choice: 'nope'"),
        (
            ["rank", "--dataset", "iris", "--method", "mi", "--param", "bogus=1"],
            "has no parameter(s) bogus",
        ),
        (
            ["rank", "--dataset", "iris", "--method", "mi", "--param", "estimator=x"],
            "estimator",
        ),
        (["rank", "--dataset", "nope", "--method", "mi"], "unknown dataset 'nope'"),
        (["rank", "missing.csv", "--target", "y", "--method", "mi"], "no such file"),
        (["rank", "--method", "mi"], "give either a DATA file or --dataset"),
        (["rank", "--dataset", "iris", "--method", "mi", "--param", "k"], "NAME=VALUE"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(capsys, argv, message):
    code, _out, err = run(capsys, *argv)
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert message in err


def test_bad_data_errors(capsys, credit_csv, tmp_path):
    code, _, err = run(capsys, "rank", credit_csv, "--target", "nope", "--method", "mi")
    assert code == 2 and "target column 'nope'" in err
    code, _, err = run(capsys, "rank", credit_csv, "--method", "mi")
    assert code == 2 and "supervised" in err

    frame = pd.read_csv(credit_csv)
    one_class = tmp_path / "one_class.csv"
    frame.assign(creditability="good").to_csv(one_class, index=False)
    code, _, err = run(
        capsys, "rank", one_class, "--target", "creditability", "--method", "mi"
    )
    assert code == 2 and "one class" in err

    with_nan = tmp_path / "nan.csv"
    frame.assign(duration_in_month=float("inf")).to_csv(with_nan, index=False)
    code, _, err = run(
        capsys, "rank", with_nan, "--target", "creditability", "--method", "mi"
    )
    assert code == 2 and "duration_in_month" in err


def test_console_entry_exit_code():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "featimp.cli",
            "rank",
            "--dataset",
            "iris",
            "--method",
            "mi",
            "--param",
            "n_bins=-3",
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "n_bins" in proc.stderr


def test_rank_plot_writes_a_png(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    out_path = tmp_path / "ranking.png"
    code, _, _ = run(
        capsys,
        "rank",
        "--dataset",
        "wine",
        "--method",
        "ecfs",
        "--plot",
        out_path,
        "--quiet",
    )
    assert code == 0
    assert out_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
