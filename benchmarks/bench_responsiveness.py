"""Speed of featimp's responsiveness scores against reachml, side by side.

Both score the same people with the same logistic regression (its
coefficients are exported to reachml) and the same action set; reachml runs
in its own environment as a subprocess (see reachml_reference.py):

    python benchmarks/bench_responsiveness.py \
        --reachml-python /tmp/reachml-venv/bin/python [--write-fixture]

Writes benchmarks/results/responsiveness.json; with --write-fixture also the
German reference scores under tests/data/ used by tests/test_recourse_reachml.py.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from featimp.datasets._recourse import load_german_recourse, load_taiwan_recourse
from featimp.recourse import (
    german_action_set,
    responsiveness_scores,
    taiwan_action_set,
)

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "tests" / "data" / "german_reachml_reference.json"


def linear_model(X, y) -> LogisticRegression:
    """LR fitted on standardised data, folded back to the raw scale."""
    scaler = StandardScaler().fit(X)
    fit = LogisticRegression(max_iter=5000).fit(scaler.transform(X), y)
    model = LogisticRegression()
    model.coef_ = fit.coef_ / scaler.scale_
    model.intercept_ = fit.intercept_ - model.coef_ @ scaler.mean_
    model.classes_ = fit.classes_
    return model


def run_reachml(python, X, model, rows, action_set):
    spec = {"X": X.to_numpy().tolist(), "columns": list(X.columns),
            "coef": model.coef_.ravel().tolist(),
            "intercept": float(model.intercept_[0]),
            "action_set": action_set, "rows": [int(i) for i in rows]}
    with tempfile.TemporaryDirectory() as tmp:
        path_in, path_out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        path_in.write_text(json.dumps(spec))
        subprocess.run([python, str(HERE / "reachml_reference.py"), str(path_in),
                        str(path_out)], check=True)
        return json.loads(path_out.read_text())


def time_ours(model, X, A, repeats=3):
    best, scores = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        scores = responsiveness_scores(model, X, A)
        best = min(best, time.perf_counter() - start)
    return best, scores


def compare(name, python, X, y, A, action_set_name, n_reachml):
    model = linear_model(X.to_numpy(float), y)
    denied = np.flatnonzero(model.predict(X.to_numpy(float)) != 1)
    rows = denied[:n_reachml]
    ref = run_reachml(python, X, model, rows, action_set_name)
    seconds_ours, ours = time_ours(model, X.iloc[rows], A)
    seconds_all, _ = time_ours(model, X.iloc[denied], A, repeats=1)
    paper, raw = np.array(ref["paper_rule"]), np.array(ref["raw"])
    larger = np.array(ref["n_raw"]) != np.array(ref["n_paper_rule"])
    changed = sorted({X.columns[j] for j in np.flatnonzero(larger.any(axis=0))})
    result = {
        "dataset": name, "model": "logistic regression", "people": len(rows),
        "reachml_ms_per_person": 1000 * ref["seconds"] / len(rows),
        "featimp_ms_per_person": 1000 * seconds_ours / len(rows),
        "featimp_ms_per_person_all_denied": 1000 * seconds_all / len(denied),
        "n_denied": len(denied),
        "max_abs_diff_vs_reachml_paper_rule": float(np.abs(ours - paper).max()),
        "max_abs_diff_vs_reachml_raw": float(np.abs(ours - raw).max()),
        "sets_where_reachml_raw_keeps_extra_completions": int(larger.sum()),
        "features_with_extra_completions": changed,
        "reachml_version": ref["reachml_version"],
    }
    result["speedup"] = (result["reachml_ms_per_person"]
                         / result["featimp_ms_per_person"])
    return result, model, ref


def taiwan_gbm(X, y, A):
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y)
    start = time.perf_counter()
    scores = responsiveness_scores(model, X, A, progress=True)
    seconds = time.perf_counter() - start
    return {"dataset": "taiwan", "model": "HistGradientBoosting(max_iter=100)",
            "rows": len(X), "seconds": seconds,
            "ms_per_person": 1000 * seconds / len(X),
            "mean_score": float(scores.mean())}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reachml-python", default="/tmp/reachml-venv/bin/python")
    parser.add_argument("--taiwan-people", type=int, default=3)
    parser.add_argument("--write-fixture", action="store_true")
    parser.add_argument("--skip-gbm", action="store_true")
    args = parser.parse_args(argv)

    results = []
    X, y = load_german_recourse()
    german, model, ref = compare("german", args.reachml_python, X, y,
                                 german_action_set(X), "german", 10_000)
    results.append(german)
    print(json.dumps(german, indent=2))
    if args.write_fixture:
        FIXTURE.write_text(json.dumps({
            "note": "reachml enumerate-mode scores on German credit (LR below, "
                    "paper's action set); written by bench_responsiveness.py",
            "coef": model.coef_.ravel().tolist(),
            "intercept": float(model.intercept_[0]),
            **{k: ref[k] for k in ("columns", "rows", "raw", "paper_rule",
                                   "n_raw", "n_paper_rule",
                                   "reachml_version")},
        }))

    X, y = load_taiwan_recourse()
    A = taiwan_action_set(X)
    taiwan, _, _ = compare("taiwan", args.reachml_python, X, y, A, "taiwan",
                           args.taiwan_people)
    results.append(taiwan)
    print(json.dumps(taiwan, indent=2))
    if not args.skip_gbm:
        gbm = taiwan_gbm(X, y, A)
        results.append(gbm)
        print(json.dumps(gbm, indent=2))

    out = HERE / "results" / "responsiveness.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"python": sys.version.split()[0],
                               "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
