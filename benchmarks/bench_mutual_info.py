"""Binned, null-corrected MI (featimp) against scikit-learn's KSG estimator.

Run: ``python benchmarks/bench_mutual_info.py``. Writes
``benchmarks/results/mutual_info.json``.

1. Speed and agreement: ``make_classification(20000, 100, n_informative=10,
   n_redundant=10, random_state=0)``; featimp's binned MI (best of a few
   repeats) against one run of ``sklearn.feature_selection.mutual_info_classif``
   in the same process; top-10 overlap of the two rankings.
2. High-cardinality bias: the same data unshuffled (informative features are
   columns 0-9) with uniform random integer features of 100, 2,000 and 10,000
   distinct values appended; each must score below the informative features.
   Some informative features of this generator carry almost no marginal
   information (KSG scores them ~0), which no marginal score can separate from
   noise, so the check is reported both against all informative features and
   against those with a KSG MI of at least ``SIGNAL_NATS``.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification
from sklearn.feature_selection import mutual_info_classif

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so a checkout runs without installing

import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)

from featimp._mutual_info import mutual_info_importances  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "mutual_info.json"
DATA = {"n_samples": 20000, "n_features": 100, "n_informative": 10, "n_redundant": 10}
CARDINALITIES = (100, 2000, 10000)
REPEATS = 5
SIGNAL_NATS = 0.01


def best_time(func, repeats: int) -> tuple[float, object]:
    """Fastest wall time of ``repeats`` calls, and the last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    return min(times), result


def top_k(scores, k: int = 10) -> set[int]:
    return {int(j) for j in np.argsort(-scores, kind="stable")[:k]}


def speed_and_agreement() -> dict:
    X, y = make_classification(**DATA, random_state=0)
    ours_s, ours = best_time(
        lambda: mutual_info_importances(X, y, random_state=0), REPEATS
    )
    ksg_s, ksg = best_time(lambda: mutual_info_classif(X, y, random_state=0), 1)
    return {
        "featimp_binned_seconds_best_of": REPEATS,
        "featimp_binned_seconds": ours_s,
        "sklearn_mutual_info_classif_seconds": ksg_s,
        "speed_ratio": ksg_s / ours_s,
        "top10_overlap_with_ksg": len(top_k(ours) & top_k(ksg)),
    }


def bias_data():
    X, y = make_classification(**DATA, shuffle=False, random_state=0)
    rng = np.random.default_rng(0)
    noise = [rng.integers(0, k, len(y)) for k in CARDINALITIES]
    return np.column_stack([X, *noise]), y


def high_cardinality_bias() -> dict:
    X, y = bias_data()
    informative = np.arange(DATA["n_informative"])
    random_cols = np.arange(X.shape[1] - len(CARDINALITIES), X.shape[1])
    corrected = mutual_info_importances(X, y, random_state=0)
    raw = mutual_info_importances(X, y, null_correction=False)
    ksg = mutual_info_classif(X[:, informative], y, random_state=0)
    with_signal = informative[ksg >= SIGNAL_NATS]
    worst_random = corrected[random_cols].max()
    return {
        "cardinalities": list(CARDINALITIES),
        "random_scores": corrected[random_cols].tolist(),
        "random_scores_without_correction": raw[random_cols].tolist(),
        "random_ranks_among_all_features": _ranks(corrected)[random_cols].tolist(),
        "random_ranks_without_correction": _ranks(raw)[random_cols].tolist(),
        "informative_scores": corrected[informative].tolist(),
        "informative_ksg_scores": ksg.tolist(),
        "below_all_informative": bool(worst_random < corrected[informative].min()),
        "signal_nats": SIGNAL_NATS,
        "n_informative_with_signal": len(with_signal),
        "below_informative_with_signal": bool(
            worst_random < corrected[with_signal].min()
        ),
        "without_correction_below_informative_with_signal": bool(
            raw[random_cols].max() < raw[with_signal].min()
        ),
    }


def _ranks(scores) -> np.ndarray:
    ranks = np.empty(scores.size, dtype=int)
    ranks[np.argsort(-scores, kind="stable")] = np.arange(1, scores.size + 1)
    return ranks


def environment() -> dict:
    return _environment.environment()


def main() -> dict:
    result = {
        "benchmark": "mutual_info",
        "data": {**DATA, "random_state": 0},
        "speed": speed_and_agreement(),
        "high_cardinality_bias": high_cardinality_bias(),
        **environment(),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    report(result)
    return result


def report(result: dict) -> None:
    speed, bias = result["speed"], result["high_cardinality_bias"]
    print(
        f"featimp binned MI     {speed['featimp_binned_seconds']:8.3f} s (best of "
        f"{REPEATS})"
    )
    print(
        f"sklearn KSG MI        {speed['sklearn_mutual_info_classif_seconds']:8.3f} s"
    )
    print(f"speed ratio           {speed['speed_ratio']:8.1f}x")
    print(f"top-10 overlap w/ KSG {speed['top10_overlap_with_ksg']:5d}/10")
    for k, s, r, rank in zip(
        bias["cardinalities"],
        bias["random_scores"],
        bias["random_scores_without_correction"],
        bias["random_ranks_among_all_features"],
        strict=True,
    ):
        print(
            f"random, {k:>6} values: score {s:.4f} (rank {rank}), uncorrected {r:.4f}"
        )
    print(f"informative scores    {np.round(bias['informative_scores'], 4)}")
    print(f"below all informative features:          {bias['below_all_informative']}")
    print(
        f"below the {bias['n_informative_with_signal']} with KSG MI >= "
        f"{SIGNAL_NATS}: {bias['below_informative_with_signal']} (uncorrected: "
        f"{bias['without_correction_below_informative_with_signal']})"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
