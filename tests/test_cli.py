import json
import os
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from featimp.cli import main, parse_params
from featimp.methods import method_names
from tests._shared import GERMAN_TARGET, fast_params, german_with_blanks


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
    listed = {m["name"]: m for m in json.loads(out)}
    assert {"mi", "mrmr", "ecfs", "inffs"} <= listed.keys()
    parameters = {p["name"]: p for p in listed["responsiveness"]["parameters"]}
    assert parameters["target"]["constraints"] == ["any value"]
    assert "an instance of 'ActionSet'" in parameters["action_set"]["constraints"]


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

    with_inf = tmp_path / "inf.csv"
    frame.assign(duration_in_month=float("inf")).to_csv(with_inf, index=False)
    code, _, err = run(
        capsys, "rank", with_inf, "--target", "creditability", "--method", "mi"
    )
    assert code == 2 and "infinity" in err and "duration_in_month" in err
    assert len(err.strip().splitlines()) == 1


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


def test_rank_with_stability_writes_intervals_and_titles_the_plot(
    capsys, tmp_path, monkeypatch
):
    pytest.importorskip("matplotlib")
    from featimp import plotting

    titles = []
    draw = plotting.plot_selector
    monkeypatch.setattr(
        plotting,
        "plot_selector",
        lambda *a, **k: titles.append(k["title"]) or draw(*a, **k),
    )
    table = tmp_path / "ranking.csv"
    code, _, _ = run(
        capsys,
        *("rank", "--dataset", "wine", "--method", "mi", "--quiet"),
        *("--param", "stability=8", "--param", "n_features_to_select=4"),
        *("--output", table, "--plot", tmp_path / "r.png"),
    )
    assert code == 0
    ranking = pd.read_csv(table)
    assert list(ranking.columns) == [
        "rank",
        "feature",
        "importance",
        "importance_low",
        "importance_high",
        "rank_low",
        "rank_high",
        "selection_probability",
        "selected",
    ]
    assert (ranking["importance_low"] <= ranking["importance_high"]).all()
    assert (ranking["rank_low"] <= ranking["rank_high"]).all()
    assert ranking["selection_probability"].between(0, 1).all()
    assert titles == ["mi: wine, 178 rows x 13 features"]


def test_a_closed_output_pipe_ends_quietly():
    """``featimp rank ... | head``: the reader goes away before the table
    is written; no traceback, exit 141 (128 + SIGPIPE)."""
    read, write = os.pipe()
    os.close(read)  # the reader is gone before anything is written
    command = [sys.executable, "-m", "featimp.cli", "rank", "--dataset", "wine"]
    proc = subprocess.run(
        [*command, "--method", "mi", "--quiet"],
        stdout=write,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    os.close(write)
    assert proc.returncode == 141
    assert proc.stderr == ""


# Real tabular data end to end: every method, text and empty cells as they are.


def _params(method: str) -> list[str]:
    """The method's fast test configuration as ``--param`` arguments."""
    return [
        argument
        for name, value in fast_params(method).items()
        for argument in ("--param", f"{name}={json.dumps(value)}")
    ]


@pytest.fixture(scope="module")
def blank_csv(tmp_path_factory):
    path = tmp_path_factory.mktemp("blank") / "german_blanks.csv"
    german_with_blanks().to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def typed_parquet(tmp_path_factory):
    """Parquet with string, category, nullable Int64 and boolean columns."""
    pytest.importorskip("pyarrow")
    frame = german_with_blanks()
    frame = frame.astype(
        {
            "duration_in_month": "Int64",
            "credit_amount": "Int64",
            "purpose": "string",
            "credit_history": "category",
            "savings_account_and_bonds": "category",
        }
    )
    frame["foreign_worker"] = (frame["foreign_worker"] == "yes").astype("boolean")
    frame.loc[frame.index[:50], "foreign_worker"] = pd.NA
    path = tmp_path_factory.mktemp("typed") / "german_typed.parquet"
    frame.to_parquet(path, index=False)
    return path


def _rank_output(capsys, tmp_path, *argv):
    out_path = tmp_path / "ranking.csv"
    code, out, err = run(capsys, "rank", *argv, "--output", out_path, "--quiet")
    assert code == 0, err
    return pd.read_csv(out_path), out, err


@pytest.mark.parametrize("method", method_names())
def test_every_method_ranks_german_credit(capsys, method):
    code, out, err = run(
        capsys,
        "rank",
        "--dataset",
        "german_credit",
        "--method",
        method,
        *_params(method),
        "--quiet",
    )
    assert code == 0, err
    assert out.startswith(f"method={method} task=classification rows=1000 features=20")


@pytest.mark.parametrize("table", ["blank_csv", "typed_parquet"])
@pytest.mark.parametrize("method", method_names())
def test_every_method_ranks_a_raw_file(capsys, tmp_path, request, table, method):
    """CSV with text and empty cells; Parquet with nullable and string columns."""
    path = request.getfixturevalue(table)
    ranking, _, _ = _rank_output(
        capsys,
        tmp_path,
        path,
        "--target",
        GERMAN_TARGET,
        "--method",
        method,
        *_params(method),
    )
    read = pd.read_csv if path.suffix == ".csv" else pd.read_parquet
    columns = read(path).columns.drop(GERMAN_TARGET)
    assert sorted(ranking["feature"]) == sorted(columns)  # original columns only
    assert ranking["rank"].tolist() == list(range(1, 21))
    assert np.isfinite(ranking["importance"]).all()


def test_task_reaches_the_selector(capsys, tmp_path):
    from featimp.datasets import load_german_credit
    from featimp.methods import get_method

    X, _ = load_german_credit()
    # A target of four integers: "auto" makes it a classification.
    target = "installment_rate_in_percentage_of_disposable_income"
    path = tmp_path / "numeric.csv"
    X.select_dtypes("number").to_csv(path, index=False)
    frame = pd.read_csv(path)
    Xn, y = frame.drop(columns=target), frame[target]
    ranking, out, _ = _rank_output(
        capsys,
        tmp_path,
        path,
        "--target",
        target,
        "--method",
        "lasso",
        *_params("lasso"),
        "--task",
        "regression",
    )
    assert "task=regression" in out
    by_feature = ranking.set_index("feature").loc[list(Xn.columns), "importance"]

    def library(task):
        selector = get_method("lasso").make_selector(
            task=task, n_grid=3, random_state=0
        )
        return selector.fit(Xn, y).importances_

    np.testing.assert_allclose(by_feature, library("regression"), rtol=1e-5)
    assert not np.allclose(library("classification"), library("regression"))

    code, _, err = run(
        capsys,
        "rank",
        path,
        "--target",
        target,
        "--method",
        "mi",
        "--task",
        "regression",
        "--param",
        "task=classification",
        "--quiet",
    )
    assert code == 2 and "conflicts" in err


@pytest.mark.parametrize("method", ["mi", "consensus"])
def test_library_warnings_print_one_line_each(capsys, tmp_path, method):
    frame = german_with_blanks().assign(empty=np.nan)
    path = tmp_path / "with_empty.csv"
    frame.to_csv(path, index=False)
    ranking, _, err = _rank_output(
        capsys,
        tmp_path,
        path,
        "--target",
        GERMAN_TARGET,
        "--method",
        method,
        *_params(method),
    )
    lines = err.strip().splitlines()
    unusable = [line for line in lines if "'empty' is entirely missing" in line]
    assert len(unusable) == 1  # once, although consensus fits several methods
    assert all(line.startswith("featimp: warning: ") for line in lines), lines
    assert "warnings.warn" not in err
    assert ranking.set_index("feature").loc["empty", "importance"] == 0


def test_target_with_missing_values_names_the_rows(capsys, tmp_path):
    frame = german_with_blanks()
    frame.loc[[3, 7], GERMAN_TARGET] = None
    path = tmp_path / "blank_target.csv"
    frame.to_csv(path, index=False)
    code, _, err = run(
        capsys, "rank", path, "--target", GERMAN_TARGET, "--method", "mi"
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"target column '{GERMAN_TARGET}'" in err and "row(s) 3, 7" in err


def test_select_keeps_the_columns_as_they_were(capsys, tmp_path, blank_csv):
    out_path = tmp_path / "reduced.csv"
    code, _, err = run(
        capsys,
        "select",
        blank_csv,
        "--target",
        GERMAN_TARGET,
        "--method",
        "lasso",
        *_params("lasso"),
        "-k",
        "6",
        "--output",
        out_path,
        "--quiet",
    )
    assert code == 0, err
    reduced = pd.read_csv(out_path)
    original = pd.read_csv(blank_csv)
    assert reduced.shape == (1000, 7) and reduced.columns[-1] == GERMAN_TARGET
    pd.testing.assert_frame_equal(reduced, original[reduced.columns])
    assert "purpose" in reduced  # text with empty cells, kept as text
    assert reduced["purpose"].isna().sum() == 100


def test_select_to_parquet_keeps_dtypes(capsys, tmp_path, typed_parquet):
    out_path = tmp_path / "reduced.parquet"
    code, _, err = run(
        capsys,
        "select",
        typed_parquet,
        "--target",
        GERMAN_TARGET,
        "--method",
        "mi",
        "--param",
        "random_state=0",
        "-k",
        "20",
        "--output",
        out_path,
        "--quiet",
    )
    assert code == 0, err
    pd.testing.assert_frame_equal(
        pd.read_parquet(out_path), pd.read_parquet(typed_parquet)
    )


def test_methods_json_shows_input_tags(capsys, numbers_only):
    code, out, _ = run(capsys, "methods", "--json")
    assert code == 0
    tags = {m["name"]: m["input_tags"] for m in json.loads(out)}
    assert tags["mi"] == {"categorical": True, "string": True, "allow_nan": True}
    assert tags["numbers_only"] == {
        "categorical": False,
        "string": False,
        "allow_nan": False,
    }


def test_input_is_checked_against_the_tags_before_the_fit(
    capsys, tmp_path, blank_csv, numbers_only
):
    code, _, err = run(
        capsys,
        "rank",
        blank_csv,
        "--target",
        GERMAN_TARGET,
        "--method",
        "numbers_only",
    )
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "does not read text" in err and "'purpose'" in err

    numeric = pd.read_csv(blank_csv).select_dtypes("number")
    path = tmp_path / "numeric.csv"
    numeric.assign(y=np.arange(len(numeric)) % 2).to_csv(path, index=False)
    code, _, err = run(
        capsys, "rank", path, "--target", "y", "--method", "numbers_only"
    )
    assert code == 2 and "missing values" in err
    assert "'duration_in_month', 'credit_amount'" in err


@pytest.fixture
def credit_parts(tmp_path):
    """Raw German credit (text columns) as three Parquet files, and whole."""
    from featimp.datasets import load_german_credit

    X, y = load_german_credit()
    frame = X.assign(creditability=y)
    folder = tmp_path / "parts"
    folder.mkdir()
    for i, part in enumerate(np.array_split(np.arange(len(frame)), 3)):
        frame.iloc[part].to_parquet(folder / f"part-{i}.parquet", index=False)
    whole = tmp_path / "whole.parquet"
    frame.to_parquet(whole, index=False)
    return folder, whole


@pytest.mark.parametrize("method", ["mi", "mrmr"])
def test_rank_streams_a_glob_and_equals_the_in_memory_ranking(
    capsys, tmp_path, credit_parts, method
):
    folder, whole = credit_parts
    streamed, in_memory = tmp_path / "streamed.csv", tmp_path / "in_memory.csv"
    code, out, err = run(
        capsys, "rank", f"{folder}/*.parquet", "--target", "creditability",
        "--method", method, "--output", streamed, "--batch-size", 128, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    header = out.splitlines()[0]
    assert header == (
        f"method={method} task=classification rows=1000 features=20 files=3 streamed"
    )
    code, _, err = run(
        capsys, "rank", whole, "--target", "creditability", "--method", method,
        "--output", in_memory, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    got = pd.read_csv(streamed).set_index("feature")
    want = pd.read_csv(in_memory).set_index("feature")
    # Every value of a 1,000-row column is in its sample: the in-memory edges.
    np.testing.assert_array_equal(
        got["importance"].reindex(want.index), want["importance"]
    )
    assert got["rank"].reindex(want.index).tolist() == want["rank"].tolist()


def test_rank_streams_a_directory_or_one_file_with_stream(capsys, credit_parts):
    folder, whole = credit_parts
    code, out, err = run(
        capsys, "rank", folder, "--target", "creditability", "--method", "mi",
        "--top", 3, "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert len(out.splitlines()) == 2 + 3  # header, column names, 3 rows
    code, out, err = run(
        capsys, "rank", whole, "--stream", "--target", "creditability",
        "--method", "mi", "--quiet",
    )  # fmt: skip
    assert code == 0, err
    assert "files=1 streamed" in out.splitlines()[0]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--method", "lasso"], "--method lasso cannot stream"),
        (["--method", "mi", "--plot", "x.png"], "--plot needs the data in memory"),
        (["--method", "mi", "--significance", "0.1"], "--significance needs the"),
        (["--method", "mi", "--param", "n_bins=1"], "n_bins"),
        (["--method", "mi", "--param", "colour=red"], "colour"),
    ],
)
def test_rank_stream_rejects_what_it_cannot_do_in_one_line(
    capsys, credit_parts, extra, message
):
    folder, _ = credit_parts
    code, out, err = run(
        capsys, "rank", f"{folder}/*.parquet", "--target", "creditability",
        "--quiet", *extra,
    )  # fmt: skip
    assert code == 2
    assert out == ""
    assert len(err.strip().splitlines()) == 1 and message in err


def test_rank_stream_errors_name_the_file(capsys, tmp_path, credit_parts):
    folder, _ = credit_parts
    pd.read_parquet(folder / "part-1.parquet").drop(columns="creditability").to_parquet(
        folder / "part-1.parquet", index=False
    )
    code, _, err = run(
        capsys, "rank", f"{folder}/*.parquet", "--target", "creditability",
        "--method", "mi", "--quiet",
    )  # fmt: skip
    assert code == 2
    assert "part-1.parquet" in err and "creditability" in err
    code, _, err = run(
        capsys, "rank", f"{tmp_path}/nothing/*.parquet", "--target", "y",
        "--method", "mi", "--quiet",
    )  # fmt: skip
    assert code == 2
    missing = f"{tmp_path}/nothing/*.parquet"
    assert err.strip() == f"featimp: error: no files match {missing!r}"
    code, _, err = run(
        capsys, "rank", "--dataset", "german_credit", "--method", "mi",
        "--batch-size", 10,
    )  # fmt: skip
    assert code == 2 and "--batch-size applies when DATA is streamed" in err
