"""Do the default KAN estimators generalise under cross-validation?

Run: ``python benchmarks/bench_kan_regressor.py [--seeds 3] [--search]
[--n-jobs 2]``. Writes ``benchmarks/results/kan_regressor.json``.

Every score is ``cross_val_score(model, X, y, cv=5)`` (unshuffled 5-fold, as
a user gets by default): R^2 for regression, accuracy for classification,
mean and standard deviation over the folds, KANs at ``random_state=0``.

- Models: ``KANRegressor`` with its old defaults (no early stopping, no
  sparsity, ``validation_fraction=0.1``) and its current ones (early stopping
  on a fifth of the rows, ``sparsity=0.01``), ``StandardScaler + RidgeCV``
  and ``HistGradientBoostingRegressor(random_state=0)``.
- Data: ``load_diabetes`` and ``make_friedman1(n_samples=500,
  random_state=0)``, on which the defaults were chosen, and two sets they
  were not chosen on: ``make_regression(400, 20, n_informative=8, noise=20,
  random_state=0)`` and ``make_friedman3(500, noise=0.1, random_state=0)``.
- ``--seeds N`` also reports the CV mean of the current defaults at
  ``random_state=0..N-1``, to show the seed spread behind one number.
- ``--search`` reruns the small grid the defaults were picked from (early
  stopping on; sparsity x validation fraction x grid size; 3 seeds) on the
  two tuning sets, and stores it. Early stopping is what matters (diabetes
  0.07 -> 0.44 alone); the rest moves diabetes by about its seed spread
  (0.45-0.48). Sparsity 0.01 was kept over 0.03, which is 0.009 higher on
  diabetes (within that spread) but 0.006 lower on friedman1 at every seed;
  the two tie on the held-out sets.
- A classifier section checks ``KANClassifier``'s old defaults (as the
  regressor's old ones) and current ones (as the regressor's) on
  breast cancer, wine, German credit (the 36-column recourse encoding,
  1,000 rows) and a seeded 3,000-row sample of Taiwan credit (17 columns)
  against logistic regression and gradient boosting.
- ``fit_seconds``: one default fit on all rows of each data set.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import (
    load_breast_cancer,
    load_diabetes,
    load_wine,
    make_friedman1,
    make_friedman3,
    make_regression,
)
from sklearn.ensemble import (
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
)
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so a checkout runs without installing

import _credit  # noqa: E402  (benchmarks/_credit.py, beside this script)
import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)

from featimp.kan import KANClassifier, KANRegressor  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "kan_regressor.json"
#: KANRegressor's defaults before early stopping and sparsity were turned on.
OLD_DEFAULTS = {"early_stopping": False, "sparsity": 0.0, "validation_fraction": 0.1}
TUNING = ("diabetes", "friedman1")
SEARCH_GRID = {
    "sparsity": (0.0, 0.003, 0.01, 0.03),
    "validation_fraction": (0.1, 0.2),
    "grid_size": (3, 5),
}
SEARCH_SEEDS = (0, 1, 2)


def regression_data() -> dict:
    return {
        "diabetes": load_diabetes(return_X_y=True),
        "friedman1": make_friedman1(n_samples=500, random_state=0),
        "regression": make_regression(
            n_samples=400, n_features=20, n_informative=8, noise=20.0, random_state=0
        ),
        "friedman3": make_friedman3(n_samples=500, noise=0.1, random_state=0),
    }


def regressors() -> dict:
    return {
        "kan_old_defaults": KANRegressor(random_state=0, **OLD_DEFAULTS),
        "kan_defaults": KANRegressor(random_state=0),
        "ridge": make_pipeline(StandardScaler(), RidgeCV()),
        "hgb": HistGradientBoostingRegressor(random_state=0),
    }


def classification_data() -> dict:
    return {
        "breast_cancer": load_breast_cancer(return_X_y=True),
        "wine": load_wine(return_X_y=True),
        "german_credit": _credit.german_recourse(),
        "taiwan_credit": _credit.taiwan_sample(),
    }


def classifiers() -> dict:
    return {
        "kan_old_defaults": KANClassifier(random_state=0, **OLD_DEFAULTS),
        "kan_defaults": KANClassifier(random_state=0),
        "logistic": make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)),
        "hgb": HistGradientBoostingClassifier(random_state=0),
    }


def cv_score(model, X, y) -> dict:
    start = time.perf_counter()
    scores = cross_val_score(model, X, y, cv=5)
    return {
        "mean": float(scores.mean()),
        "std": float(scores.std()),
        "folds": scores.tolist(),
        "seconds": time.perf_counter() - start,
    }


def score_table(data: dict, models: dict, n_jobs: int) -> dict:
    cells = list(itertools.product(data, models))
    scores = Parallel(n_jobs=n_jobs)(
        delayed(cv_score)(models[m], *data[d]) for d, m in cells
    )
    table = {d: {} for d in data}
    for (d, m), score in zip(cells, scores, strict=True):
        table[d][m] = score
    return table


def seed_spread(data: dict, n_seeds: int, n_jobs: int) -> dict:
    cells = list(itertools.product(data, range(n_seeds)))
    means = Parallel(n_jobs=n_jobs)(
        delayed(cv_score)(KANRegressor(random_state=s), *data[d]) for d, s in cells
    )
    spread = {d: [] for d in data}
    for (d, _), score in zip(cells, means, strict=True):
        spread[d].append(score["mean"])
    return spread


def fit_seconds(data: dict, repeats: int = 3) -> dict:
    """Best of ``repeats`` default fits on all rows, after a warm-up fit."""
    KANRegressor(max_iter=1).fit(*data["diabetes"])  # torch's first-call cost
    seconds = {}
    for name, (X, y) in data.items():
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            reg = KANRegressor(random_state=0).fit(X, y)
            times.append(time.perf_counter() - start)
        seconds[name] = {
            "seconds": min(times),
            "best_of": repeats,
            "epochs": reg.n_iter_,
            "n_samples": len(y),
        }
    return seconds


def search(data: dict, n_jobs: int) -> list[dict]:
    names = list(SEARCH_GRID)
    configs = [
        {"early_stopping": True, **dict(zip(names, values, strict=True))}
        for values in itertools.product(*SEARCH_GRID.values())
    ]
    cells = list(itertools.product(range(len(configs)), TUNING, SEARCH_SEEDS))
    scores = Parallel(n_jobs=n_jobs)(
        delayed(cv_score)(KANRegressor(random_state=s, **configs[i]), *data[d])
        for i, d, s in cells
    )
    rows = [{"params": c, **{d: [] for d in TUNING}} for c in configs]
    for (i, d, _), score in zip(cells, scores, strict=True):
        rows[i][d].append(score["mean"])
    for row in rows:
        for d in TUNING:
            row[d] = float(np.mean(row[d]))
    return rows


def environment() -> dict:
    return _environment.environment("torch")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seeds",
        type=int,
        default=3,
        help="seeds for the spread of the current defaults",
    )
    parser.add_argument(
        "--search",
        action="store_true",
        help="rerun the grid the defaults were picked from",
    )
    parser.add_argument("--n-jobs", type=int, default=2)
    args = parser.parse_args(argv)
    data = regression_data()
    result = {
        "benchmark": "kan_regressor",
        "cv": "cross_val_score(cv=5), unshuffled KFold",
        "old_defaults": OLD_DEFAULTS,
        "new_defaults": {k: KANRegressor().get_params()[k] for k in OLD_DEFAULTS},
        "tuned_on": list(TUNING),
        "regression_r2": score_table(data, regressors(), args.n_jobs),
        "kan_defaults_r2_by_seed": seed_spread(data, args.seeds, args.n_jobs),
        "classification_accuracy": score_table(
            classification_data(), classifiers(), args.n_jobs
        ),
        "fit_seconds": fit_seconds(data),
        **environment(),
    }
    if args.search:
        result["search"] = {
            "grid": SEARCH_GRID,
            "seeds": list(SEARCH_SEEDS),
            "rows": search(data, args.n_jobs),
        }
    elif RESULTS.exists():  # keep the last search when not rerunning it
        previous = json.loads(RESULTS.read_text())
        if "search" in previous:
            result["search"] = previous["search"]
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    report(result)
    return result


def _cells(row: dict, models) -> str:
    return " ".join(f"{row[m]['mean']:6.3f} ± {row[m]['std']:.3f}" for m in models)


def report(result: dict) -> None:
    reg = result["regression_r2"]
    models = list(next(iter(reg.values())))
    print("5-fold CV R^2 (mean ± std over folds)")
    print(f"{'data set':<12}" + "".join(f"{m:>16}" for m in models))
    for name, row in reg.items():
        tuned = "*" if name in result["tuned_on"] else " "
        print(f"{name + tuned:<12} {_cells(row, models)}")
    print("* defaults chosen on these")
    for name, means in result["kan_defaults_r2_by_seed"].items():
        print(f"kan_defaults over seeds, {name}: {np.round(means, 3)}")
    acc = result["classification_accuracy"]
    models = list(next(iter(acc.values())))
    print("5-fold CV accuracy")
    print(f"{'data set':<14}" + "".join(f"{m:>16}" for m in models))
    for name, row in acc.items():
        print(f"{name:<14} {_cells(row, models)}")
    for name, fit in result["fit_seconds"].items():
        print(
            f"default fit, {name} (n={fit['n_samples']}): {fit['seconds']:.2f} s, "
            f"{fit['epochs']} epochs"
        )
    if "search" in result:
        rows = sorted(
            result["search"]["rows"],
            key=lambda r: -np.mean([r[d] for d in result["tuned_on"]]),
        )
        print("search (mean CV R^2 over seeds), best first:")
        for row in rows[:5]:
            print(
                f"  {row['params']} "
                + " ".join(f"{d}={row[d]:.3f}" for d in result["tuned_on"])
            )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
