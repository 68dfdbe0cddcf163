"""KANSelector inside GridSearchCV: ``n_jobs=2`` against ``n_jobs=1``.

A Pipeline(KANSelector, LogisticRegression) searched over the number of
features kept, 3-fold, on breast cancer: the same grid with ``n_jobs=1``
and ``n_jobs=2``, side by side in this process, each the best of
``--repeats`` runs. On 2 cores the parallel search should be faster, not
slower: each KAN fit limits torch to one intra-op thread
(``featimp.kan._train.torch_threads``), so two workers do not
oversubscribe the cores. Also records the threads torch reports inside a
worker. Writes benchmarks/results/parallel_kan.json.

    python benchmarks/bench_parallel_kan.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import _environment  # noqa: E402  (load average at the start)
from joblib import Parallel, delayed  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import GridSearchCV  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

from featimp import KANSelector  # noqa: E402

RESULTS = HERE / "results" / "parallel_kan.json"
GRID = {"kanselector__n_features_to_select": [5, 10, 20]}


def search(n_jobs: int) -> tuple[float, float]:
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(
        StandardScaler(),
        KANSelector(cv=2, n_seeds=1, random_state=0),
        LogisticRegression(max_iter=1000),
    )
    start = time.perf_counter()
    grid = GridSearchCV(pipe, GRID, cv=3, n_jobs=n_jobs).fit(X, y)
    return time.perf_counter() - start, float(grid.best_score_)


def _threads_in_a_worker() -> int:
    import torch

    from featimp.kan._train import torch_threads

    with torch_threads():
        return torch.get_num_threads()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    runs = {1: [], 2: []}
    scores = {}
    for _ in range(args.repeats):
        for n_jobs in (1, 2):  # interleaved: load changes hit both
            seconds, scores[n_jobs] = search(n_jobs)
            runs[n_jobs].append(seconds)
    best = {n: min(t) for n, t in runs.items()}
    in_worker = Parallel(n_jobs=2)(delayed(_threads_in_a_worker)() for _ in range(2))
    result = {
        "grid": GRID,
        "pipeline": "StandardScaler, KANSelector(cv=2, n_seeds=1), LogisticRegression",
        "dataset": "breast_cancer (569 x 30), GridSearchCV(cv=3): 9 fits + refit",
        "seconds": {f"n_jobs={n}": t for n, t in runs.items()},
        "best_seconds": {f"n_jobs={n}": t for n, t in best.items()},
        "n_jobs_2_over_1": best[2] / best[1],
        "same_best_score": scores[1] == scores[2],
        "torch_threads_in_a_worker_fit": in_worker,
        "environment": _environment.environment("torch"),
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(
        f"GridSearchCV(KANSelector): n_jobs=1 {best[1]:.1f} s, n_jobs=2 "
        f"{best[2]:.1f} s: n_jobs=2 takes {best[2] / best[1]:.2f}x the time "
        f"(same best score: {result['same_best_score']})"
    )
    print(f"wrote {RESULTS}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
