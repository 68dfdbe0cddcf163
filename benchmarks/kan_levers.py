"""What each training and scoring lever does to the KAN selectors (issue 17).

The protocol of ``benchmarks/kan_paper.py`` (rank on the whole data; top
20/40/60 %; 5-fold CV of logistic regression or ridge, a random forest,
gradient boosting and XGBoost; mean macro-F1 or R^2), with the KAN
importances of ``kan_importance_variants`` under one change at a time from
the ``KANSelector`` defaults before issue 17 (``BEFORE``: 5 folds x 3 seeds,
grid 3 updated during training, sparsity 0.03, 50 epochs, batches of 128,
one hidden layer of 2d + 1), then the changes that helped, together; the
combination of no grid updates and 8 hidden units is today's default. Each
lever is scored by its best variant among KAN-L1, -L2, -SI and -KO and by
``KAN-mean``, the mean of the four normalised scores (a combined score
computed from the same networks, no extra training). The best baseline of
each dataset comes from ``benchmarks/results/kan_paper.json`` (run that
first); the gap column is best KAN minus best baseline. One evaluator per
dataset caches every column subset, so levers that pick the same top
features cost no extra CV.

Resumable: results go to benchmarks/results/kan_levers.json after every
lever, and (dataset, lever) pairs already there are skipped; runs of
different datasets can go side by side.

    python benchmarks/kan_levers.py [--datasets german_credit taiwan_credit]
        [--levers default n_seeds=5] [--n-jobs 2] [--force]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _environment  # benchmarks/_environment.py, beside this script
import kan_paper

from featimp.kan import kan_importance_variants

RESULTS = Path(__file__).parent / "results" / "kan_levers.json"
VARIANTS = ("KAN-L1", "KAN-L2", "KAN-SI", "KAN-KO")

#: The selector's defaults before issue 17, under every lever, so the runs
#: do not depend on today's defaults.
BEFORE = {"update_grid": True, "hidden_layer_sizes": None}

#: One change at a time from BEFORE, then those that helped together.
LEVERS = {
    "before": {},
    "n_seeds=5": {"n_seeds": 5},
    "sparsity=0": {"sparsity": 0.0},
    "sparsity=0.1": {"sparsity": 0.1},
    "grid_size=5": {"grid_size": 5},
    "update_grid=False": {"update_grid": False},
    "max_iter=100": {"max_iter": 100},
    "early_stopping": {"early_stopping": True, "validation_fraction": 0.2},
    "hidden_layer_sizes=[8]": {"hidden_layer_sizes": [8]},
    # Those that helped on German credit, together.
    "update_grid=False, n_seeds=5": {"update_grid": False, "n_seeds": 5},
    "update_grid=False, hidden_layer_sizes=[8]": {
        "update_grid": False,
        "hidden_layer_sizes": [8],
    },
    "sparsity=0.1, n_seeds=5": {"sparsity": 0.1, "n_seeds": 5},
    # Today's defaults one layer deeper (the reviewers' question).
    "update_grid=False, hidden_layer_sizes=[8, 8]": {
        "update_grid": False,
        "hidden_layer_sizes": [8, 8],
    },
}


def run_lever(name, params, data, evaluate, n_jobs):
    X, y, task = data
    start = time.perf_counter()
    kan = kan_importance_variants(
        X,
        y,
        methods=[kan_paper.KAN_VARIANTS[v] for v in VARIANTS],
        task=task,
        n_jobs=n_jobs,
        **{"cv": 5, "n_seeds": 3, "random_state": 0, **BEFORE, **params},
    )
    fit_seconds = time.perf_counter() - start
    scores = {v: kan[kan_paper.KAN_VARIANTS[v]] for v in VARIANTS}
    scores["KAN-mean"] = np.mean([scores[v] for v in VARIANTS], axis=0)
    ours = {k: evaluate.selector_score(v) for k, v in scores.items()}
    return {
        "params": params,
        "ours": ours,
        "best_variant": max(VARIANTS, key=ours.get),
        "kan_fit_seconds": fit_seconds,
        "seconds": time.perf_counter() - start,
    }


def _save(dataset, entry):
    """Write ``dataset``'s entry into the results as they are on disk now, so
    runs of different datasets side by side keep each other's."""
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    results[dataset] = entry
    results["_meta"] = _environment.environment()
    RESULTS.write_text(json.dumps(results, indent=1))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--datasets", nargs="*", default=["german_credit", "taiwan_credit"]
    )
    parser.add_argument("--levers", nargs="*", default=list(LEVERS), choices=LEVERS)
    parser.add_argument("--n-jobs", type=int, default=None)
    parser.add_argument("--force", action="store_true")
    args = parser.parse_args(argv)
    paper = json.loads(kan_paper.RESULTS.read_text())
    results = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    for dataset in args.datasets:
        if dataset not in paper:
            raise SystemExit(f"{dataset}: not in {kan_paper.RESULTS}; run kan_paper.py")
        baselines = {b: paper[dataset]["ours"][b] for b in kan_paper.BASELINES}
        data = kan_paper.load(dataset)
        evaluate = kan_paper.Evaluator(*data)
        entry = results.setdefault(dataset, {"baselines": baselines, "levers": {}})
        entry["baselines"] = baselines
        for name in args.levers:
            if name in entry["levers"] and not args.force:
                print(f"{dataset} {name}: done already, skipping")
                continue
            result = run_lever(name, LEVERS[name], data, evaluate, args.n_jobs)
            best = max(result["ours"][v] for v in VARIANTS)
            result["gap_best_variant"] = best - max(baselines.values())
            result["gap_mean"] = result["ours"]["KAN-mean"] - max(baselines.values())
            entry["levers"][name] = result
            _save(dataset, entry)
            rounded = {k: round(v, 3) for k, v in result["ours"].items()}
            print(
                f"{dataset} {name}: {result['seconds']:.0f}s {rounded} gap "
                f"{result['gap_best_variant']:+.3f} (mean {result['gap_mean']:+.3f})",
                flush=True,
            )


if __name__ == "__main__":
    main()
