"""Time ConsensusSelector (3 methods x 50 resamples, breast cancer).

Reference: the same work as a plain serial loop, each method refitted by hand
on each resample. Ours: ``ConsensusSelector(stability=50, n_jobs=2)``,
joblib-parallel over methods x resamples. Prints the ratio and writes
``benchmarks/results/consensus.json``. Target: under a minute on 2 cores.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _environment

from featimp._consensus import DEFAULT_METHODS, ConsensusSelector
from featimp._stability import SUBSAMPLE_SHARE
from featimp.methods import get_method

RESULTS = Path(__file__).resolve().parent / "results"
N_BOOTSTRAP = 50


def reference_loop(X, y, methods, n_bootstrap, seed=0):
    """The same refits by hand: the data, then subsamples of the size the
    selector draws (63.2 % of the rows, without replacement)."""
    rng = np.random.default_rng(seed)
    selectors = [get_method(m).make_selector(random_state=seed) for m in methods]
    size = round(SUBSAMPLE_SHARE * len(X))
    for i in range(n_bootstrap + 1):
        rows = np.arange(len(X)) if i == 0 else rng.choice(len(X), size, replace=False)
        for selector in selectors:
            clone(selector).fit(X.iloc[rows], y.iloc[rows])


def main() -> None:
    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    start = time.perf_counter()
    reference_loop(X, y, DEFAULT_METHODS, N_BOOTSTRAP)
    reference = time.perf_counter() - start

    start = time.perf_counter()
    sel = ConsensusSelector(
        stability=N_BOOTSTRAP, n_features_to_select=5, random_state=0, n_jobs=2
    ).fit(X, y)
    ours = time.perf_counter() - start
    result = {
        "dataset": "breast_cancer (569 x 30)",
        "methods": list(DEFAULT_METHODS),
        "n_bootstrap": N_BOOTSTRAP,
        "reference_serial_loop_s": round(reference, 2),
        "consensus_n_jobs_2_s": round(ours, 2),
        "speedup": round(reference / ours, 2),
        "under_a_minute": ours < 60,
        "kuncheva": round(sel.stability_.kuncheva, 3),
        "mean_jaccard": round(sel.stability_.jaccard, 3),
        "selected": list(sel.get_feature_names_out()),
        **_environment.environment(),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "consensus.json").write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
