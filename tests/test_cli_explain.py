"""``featimp explain``: the report of the service's responsiveness job, from a
file, on the raw German credit table."""

import json
import re
import shutil

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from featimp.cli import main
from featimp.datasets import load_german_credit
from featimp.recourse import RESULT_COLUMNS, ActionSet, ResponsivenessExplainer
from tests._shared import Terminal

TARGET = "creditability"


def run(capsys, *argv):
    code = main(["explain", *map(str, argv)])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The raw table (13 text columns), its action set as ``action-set init``
    writes it, and a scaled logistic regression saved with joblib."""
    folder = tmp_path_factory.mktemp("explain")
    X, y = load_german_credit()
    table = folder / "german.csv"
    X.assign(**{TARGET: y}).to_csv(table, index=False)
    applicants = folder / "applicants.csv"
    X.assign(**{TARGET: y}).iloc[:50].to_csv(applicants, index=False)
    A = ActionSet.from_data(X)
    actions = folder / "actions.json"
    actions.write_text(A.to_json())
    model = make_pipeline(StandardScaler(), LogisticRegression()).fit(A.encode(X), y)
    joblib.dump(model, folder / "lr.joblib")
    return {"folder": folder, "X": X, "y": y, "A": A, "model": model}


def test_report_and_table_of_a_joblib_model(capsys, files, tmp_path):
    folder, X, A, model = files["folder"], files["X"], files["A"], files["model"]
    out_dir = tmp_path / "report"
    code, out, err = run(
        capsys,
        folder / "applicants.csv",
        "--target", TARGET,
        "--model", folder / "lr.joblib",
        "--action-set", folder / "actions.json",
        "--desired", "good",
        "--options", 2,
        "--reasons", 3,
        "--report", out_dir,
        "--output", tmp_path / "result.csv",
    )  # fmt: skip
    assert code == 0, err

    batch = X.iloc[:50]
    denied = batch[model.predict(A.encode(batch)) != "good"]
    explainer = ResponsivenessExplainer(
        model, A, target="good", n_actions=2, random_state=0
    )
    expected = explainer.explain(denied)
    report = json.loads((out_dir / "report.json").read_text())
    assert report == json.loads(expected.to_json(n_reasons=3))
    assert report["summary"]["n"] == len(denied) > 0

    table = pd.read_csv(tmp_path / "result.csv")
    assert list(table.columns) == [*RESULT_COLUMNS, *A.names]
    np.testing.assert_array_equal(table["row"], denied.index)
    assert (table["prediction"] == "bad").all()
    np.testing.assert_allclose(table[A.names], expected.scores, rtol=1e-12)

    index = (out_dir / "index.html").read_text()
    links = re.findall(r'href="(people/[^"]+)"', index)
    assert len(links) == len(denied)
    for link, person in zip(links, report["people"], strict=True):
        page = (out_dir / link).read_text()
        assert f"<h2>Applicant {person['row']}</h2>" in page
        assert "<script" not in page
    # stdout: the summary, then one line per person with its status
    lines = out.splitlines()
    assert lines[0].startswith(f"{len(denied)} rows: ")
    assert [line.split(":")[0] for line in lines[1:]] == [
        f"row {p['row']}" for p in report["people"]
    ]


def test_the_cli_and_the_service_write_the_same_report(capsys, files, tmp_path):
    """One LightGBM text file, one action set, one table: the report of
    ``featimp explain`` is the report of the service's job."""
    lightgbm = pytest.importorskip("lightgbm")
    pytest.importorskip("fastapi")
    from service import jobs
    from service.store import open_store
    from tests.service.test_jobs import add_dataset
    from tests.service.test_responsiveness_jobs import _upload, run_stored_job

    folder, X, y, A = files["folder"], files["X"], files["y"], files["A"]
    booster = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1, random_state=0)
    booster.fit(A.encode(X).to_numpy(), (y == "good").astype(int))
    model_file = tmp_path / "model.txt"
    booster.booster_.save_model(model_file)

    code, _, err = run(
        capsys,
        folder / "applicants.csv",
        "--target", TARGET,
        "--model", model_file,
        "--action-set", folder / "actions.json",
        "--rows", "all",
        "--report", tmp_path / "cli",
        "--quiet",
    )  # fmt: skip
    assert code == 0, err

    store = open_store(tmp_path / "data")
    rows = add_dataset(store, pd.read_csv(folder / "applicants.csv"))
    uploaded = _upload(store, shutil.copy(model_file, tmp_path / "upload.txt"))
    request = {
        "type": "responsiveness",
        "dataset_id": rows.id,
        "target": None,
        "action_set": json.loads((folder / "actions.json").read_text()),
        "model": {"model_id": uploaded.id},
        "rows": {"dataset_id": None, "filter": "all"},
        "desired": 1,
        "params": {"random_state": 0},
    }
    job = run_stored_job(store, rows, request)

    cli = json.loads((tmp_path / "cli" / "report.json").read_text())
    assert cli == jobs.read_report(store, job.id)
    assert cli["summary"]["n"] == 50


def _argv(files, **changes):
    folder = files["folder"]
    options = {
        "--model": folder / "lr.joblib",
        "--action-set": folder / "actions.json",
        "--desired": "good",
        **changes,
    }
    argv = [folder / "applicants.csv"]
    for name, value in options.items():
        if value is not None:
            argv += [name, value]
    return argv


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"--model": "missing.joblib"}, "--model: no such file: missing.joblib"),
        ({"--model": "actions"}, "XGBoost cannot load the model"),
        ({"--model": "table"}, "unsupported model file '.csv'"),
        ({"--action-set": "lr"}, "is not JSON"),
        ({"--action-set": "missing.json"}, "--action-set: no such file"),
        ({"--desired": "excellent"}, "--desired 'excellent' is not a class"),
        ({"--param": "k=3"}, "--param k is not an explainer parameter"),
        ({"--param": "n_samples=0"}, "'n_samples' parameter"),
        ({"--output": "out.xlsx"}, "--output out.xlsx: unsupported file type"),
        ({"--seed": "-1"}, "--seed"),
        ({"--rows": "some"}, "--rows"),
    ],
)
def test_bad_input_is_one_line_exit_2_and_writes_nothing(
    capsys, files, tmp_path, changes, message
):
    folder = files["folder"]
    named = {
        "actions": folder / "actions.json",
        "lr": folder / "lr.joblib",
        "table": folder / "applicants.csv",
    }
    changes = {k: named.get(v, v) for k, v in changes.items()}
    report = tmp_path / "report"
    code, out, err = run(capsys, *_argv(files, **changes), "--report", report)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and message in err, err
    assert not report.exists()


def test_rows_that_break_the_action_set_and_missing_columns(capsys, files, tmp_path):
    X = files["X"].iloc[:5].copy()
    X.loc[3, "purpose"] = "a yacht"  # a category the action set never saw
    bad = tmp_path / "bad.csv"
    X.to_csv(bad, index=False)
    argv = _argv(files)
    code, _, err = run(capsys, bad, *argv[1:])
    assert code == 2 and "purpose" in err and "a yacht" in err, err

    X.drop(columns=["purpose", "job"]).to_csv(bad, index=False)
    code, _, err = run(capsys, bad, *argv[1:])
    assert code == 2 and "lacks 2 column(s) of the action set: purpose, job" in err


def test_a_filter_that_keeps_no_row(capsys, files, tmp_path):
    X, y, A = files["X"], files["y"], files["A"]
    everyone = DummyClassifier(strategy="constant", constant="good")
    joblib.dump(everyone.fit(A.encode(X), y), tmp_path / "yes.joblib")
    argv = _argv(files, **{"--model": tmp_path / "yes.joblib"})
    code, _, err = run(capsys, *argv)
    assert code == 2, err
    assert "--rows denied keeps none of the 50 rows" in err and "['good']" in err
    code, out, err = run(capsys, *argv, "--rows", "approved", "--quiet")
    assert code == 0 and out == "", err


def test_explain_draws_bars_for_explaining_and_for_the_options(
    files, monkeypatch, capsys
):
    folder = files["folder"]
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    monkeypatch.setattr("featimp._cli_io.BAR_SECONDS", 0)  # draw every step
    code = main(
        [
            "explain",
            str(folder / "applicants.csv"),
            *("--target", TARGET, "--model", str(folder / "lr.joblib")),
            *("--action-set", str(folder / "actions.json"), "--desired", "good"),
        ]
    )
    assert code == 0
    stages = " ".join(terminal.bar_frames())
    assert "explain 1/3 > scoring" in stages
    assert "explain 2/3 > certifying" in stages
    assert "options of each applicant" in stages
    capsys.readouterr()
