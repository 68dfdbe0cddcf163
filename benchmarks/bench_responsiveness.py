"""Speed of featimp's responsiveness scores against reachml, side by side.

Both score the same people with the same logistic regression (its
coefficients are exported to reachml) and the same action set; reachml runs
in its own environment as a subprocess (see reachml_reference.py):

    python benchmarks/bench_responsiveness.py \
        --reachml-python /tmp/reachml-venv/bin/python [--write-fixture]

Writes benchmarks/results/responsiveness.json; with --write-fixture also the
German reference scores under tests/data/ used by tests/test_recourse_reachml.py.

``--only-thresholds`` runs just the tree-model section (no reachml): the
scores of 3,000 Taiwan rows with the split thresholds the model uses against
the grid used before (every bin threshold for HistGradientBoosting, every
candidate value for XGBoost and LightGBM), in one process, merged into the
JSON under "used_thresholds".
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _environment

from featimp.datasets._recourse import (
    load_german_recourse,
    load_taiwan_recourse,
)
from featimp.recourse import (
    _scores,
    german_action_set,
    responsiveness_scores,
    taiwan_action_set,
)

HERE = Path(__file__).resolve().parent
FIXTURE = HERE.parent / "tests" / "data" / "german_reachml_reference.json"
RESULTS = HERE / "results" / "responsiveness.json"


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
    spec = {
        "X": X.to_numpy().tolist(),
        "columns": list(X.columns),
        "coef": model.coef_.ravel().tolist(),
        "intercept": float(model.intercept_[0]),
        "action_set": action_set,
        "rows": [int(i) for i in rows],
    }
    with tempfile.TemporaryDirectory() as tmp:
        path_in, path_out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        path_in.write_text(json.dumps(spec))
        subprocess.run(
            [python, str(HERE / "reachml_reference.py"), str(path_in), str(path_out)],
            check=True,
        )
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
        "dataset": name,
        "model": "logistic regression",
        "people": len(rows),
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
    result["speedup"] = (
        result["reachml_ms_per_person"] / result["featimp_ms_per_person"]
    )
    return result, model, ref


def taiwan_gbm(X, y, A):
    model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y)
    start = time.perf_counter()
    scores = responsiveness_scores(model, X, A, progress=True)
    seconds = time.perf_counter() - start
    return {
        "dataset": "taiwan",
        "model": "HistGradientBoosting(max_iter=100)",
        "rows": len(X),
        "seconds": seconds,
        "ms_per_person": 1000 * seconds / len(X),
        "mean_score": float(scores.mean()),
    }


def _all_bins(model):
    """The grid before: every bin threshold of a HistGradientBoosting model."""
    return {
        j: np.asarray(t, dtype=float)
        for j, t in enumerate(model._bin_mapper.bin_thresholds_)
    }


BEFORE = {"all_bins": _all_bins, "data_grid": lambda model: None}


def time_thresholds(model, X, A, reader=None):
    """Seconds, scores and predicted points, with ``reader`` standing in for
    the used-threshold reader (None keeps it)."""
    points = []
    predict = model.predict

    def counting(Z):
        points.append(len(Z))
        return predict(Z)

    model.predict = counting
    patch = (
        nullcontext()
        if reader is None
        else mock.patch.object(_scores, "used_thresholds", reader)
    )
    try:
        with patch:
            start = time.perf_counter()
            scores = responsiveness_scores(model, X, A)
            seconds = time.perf_counter() - start
    finally:
        del model.predict
    return seconds, scores, sum(points)


def threshold_paths(label, model, X, A, before):
    """One model scored the way before and with the used thresholds."""
    used = _scores.used_thresholds(model)
    actionable = [j for j, e in enumerate(A) if e.actionable]
    t_before, s_before, n_before = time_thresholds(model, X, A, BEFORE[before])
    t_used, s_used, n_used = time_thresholds(model, X, A)
    diff = float(np.abs(s_used - s_before).max())
    result = {
        "dataset": "taiwan",
        "model": label,
        "rows": len(X),
        "before": before,
        "used_thresholds_actionable": sum(len(used.get(j, ())) for j in actionable),
        "seconds_before": t_before,
        "seconds_used": t_used,
        "speedup": t_before / t_used,
        "points_before": n_before,
        "points_used": n_used,
        "points_ratio": n_before / n_used,
        "max_abs_diff": diff,
        "identical": diff == 0.0,
    }
    if before == "all_bins":
        result["bin_thresholds_actionable"] = sum(
            len(model._bin_mapper.bin_thresholds_[j]) for j in actionable
        )
    print(
        f"{label}: {before} {t_before:.2f} s -> used {t_used:.2f} s "
        f"({result['speedup']:.2f}x; points {result['points_ratio']:.2f}x), "
        f"max diff {diff}",
        flush=True,
    )
    return result


def thresholds_section(n_rows=3000, n_grid_rows=20):
    """HistGradientBoosting on ``n_rows``; XGBoost and LightGBM, whose data
    grid predicts every candidate value, on ``n_grid_rows``."""
    X, y = load_taiwan_recourse()
    A = taiwan_action_set(X)
    hgb = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y)
    results = [
        threshold_paths(
            "HistGradientBoosting(max_iter=100)", hgb, X.iloc[:n_rows], A, "all_bins"
        )
    ]
    try:
        import lightgbm
        import xgboost
    except ImportError as error:
        print(f"skipping XGBoost and LightGBM: {error}")
        return results
    boosters = {
        "XGBClassifier(n_estimators=100)": xgboost.XGBClassifier(
            n_estimators=100, random_state=0
        ),
        "LGBMClassifier(n_estimators=100)": lightgbm.LGBMClassifier(
            n_estimators=100, random_state=0, verbose=-1
        ),
    }
    for label, model in boosters.items():
        model.fit(X.to_numpy(float), y)
        results.append(
            threshold_paths(label, model, X.iloc[:n_grid_rows], A, "data_grid")
        )
    return results


def write_results(**sections):
    """Merge ``sections`` into the results JSON, keeping the others."""
    RESULTS.parent.mkdir(exist_ok=True)
    old = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    RESULTS.write_text(json.dumps({**old, **sections}, indent=2))
    print(f"wrote {RESULTS}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reachml-python", default="/tmp/reachml-venv/bin/python")
    parser.add_argument("--taiwan-people", type=int, default=3)
    parser.add_argument("--write-fixture", action="store_true")
    parser.add_argument("--skip-gbm", action="store_true")
    parser.add_argument(
        "--only-thresholds",
        action="store_true",
        help="run only the used-threshold section",
    )
    args = parser.parse_args(argv)
    if args.only_thresholds:
        section = {
            "python": sys.version.split()[0],
            "load_average": os.getloadavg()[0],
            "results": thresholds_section(),
        }
        write_results(used_thresholds=section)
        return

    results = []
    X, y = load_german_recourse()
    german, model, ref = compare(
        "german", args.reachml_python, X, y, german_action_set(X), "german", 10_000
    )
    results.append(german)
    print(json.dumps(german, indent=2))
    if args.write_fixture:
        FIXTURE.write_text(
            json.dumps(
                {
                    "note": "reachml enumerate-mode scores on German credit (LR below, "
                    "paper's action set); written by bench_responsiveness.py",
                    "coef": model.coef_.ravel().tolist(),
                    "intercept": float(model.intercept_[0]),
                    **{
                        k: ref[k]
                        for k in (
                            "columns",
                            "rows",
                            "raw",
                            "paper_rule",
                            "n_raw",
                            "n_paper_rule",
                            "reachml_version",
                        )
                    },
                }
            )
        )

    X, y = load_taiwan_recourse()
    A = taiwan_action_set(X)
    taiwan, _, _ = compare(
        "taiwan", args.reachml_python, X, y, A, "taiwan", args.taiwan_people
    )
    results.append(taiwan)
    print(json.dumps(taiwan, indent=2))
    if not args.skip_gbm:
        gbm = taiwan_gbm(X, y, A)
        results.append(gbm)
        print(json.dumps(gbm, indent=2))

    write_results(
        python=sys.version.split()[0],
        results=results,
        **_environment.environment("scipy"),
    )


if __name__ == "__main__":
    main()
