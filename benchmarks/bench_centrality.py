"""Matrix-free EC-FS / Inf-FS against the dense formulation, and at scale.

Run ``python benchmarks/bench_centrality.py``. Prints timings and writes
``benchmarks/results/centrality.json``.

1. d = 3,000 features, n = 1,000 rows: the matrix-free operator with ARPACK
   against the dense formulation (build the d x d affinity A, then
   ``numpy.linalg.eigh``), for the eigen step alone (same affinity object,
   statistics already computed) and for the whole call (statistics included,
   which both paths share). Same for Inf-FS (conjugate gradients against
   ``numpy.linalg.solve``).
2. d = 100,000 features, n = 1,000 rows: the whole matrix-free call, against
   the floor of what it has to do at least: one read of ``X`` for the column
   variances (``X.var(axis=0)``) plus one ``np.bincount`` of the (column,
   bin, class) codes of the equal-width bins, binned beforehand.
   ``ecfs_over_floor`` is the ratio (target <= 2); ``*_one_thread`` runs
   the compiled count on one numba thread.

The dense side runs on NumPy's BLAS at its default threads (every CPU, its
best here; ``machine.threadpools`` in the JSON, with ``OPENBLAS_CORETYPE``,
which slows the dense kernels ~3.5x when it forces a generic one). Timings
are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # so a checkout runs without installing

import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)

from featimp._affinity import _bin_index, _n_bins, feature_affinity  # noqa: E402
from featimp._centrality import (  # noqa: E402
    eigenvector_centrality_importances,
    inffs_importances,
    leading_eigenpair,
    path_scores,
)

RESULTS = Path(__file__).resolve().parent / "results" / "centrality.json"


def make_data(n_samples: int, n_features: int, seed: int = 0):
    """Binary target, 2% informative columns, columns on different scales."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_samples)
    X = rng.standard_normal((n_samples, n_features))
    n_informative = max(1, n_features // 50)
    X[:, :n_informative] += 0.5 * y[:, None]
    X *= rng.uniform(0.5, 2.0, n_features)
    return X, y


def best_time(func, repeat: int):
    """(best wall time in seconds, result of the last call)."""
    best = np.inf
    for _ in range(repeat):
        start = time.perf_counter()
        result = func()
        best = min(best, time.perf_counter() - start)
    return best, result


def top_k_agreement(a, b, k: int = 50) -> float:
    top_a = set(np.argsort(-a, kind="stable")[:k].tolist())
    top_b = set(np.argsort(-b, kind="stable")[:k].tolist())
    return len(top_a & top_b) / k


def compare(name, fast_step, dense_step, fast_call, dense_call, repeat):
    """Time eigen/solve step and whole call for both solvers; print a table."""
    t_fast_step, fast = best_time(fast_step, repeat)
    t_dense_step, dense = best_time(dense_step, repeat)
    t_fast_call, _ = best_time(fast_call, repeat)
    t_dense_call, _ = best_time(dense_call, repeat)
    row = {
        "step_matrix_free_s": t_fast_step,
        "step_dense_s": t_dense_step,
        "step_ratio": t_dense_step / t_fast_step,
        "call_matrix_free_s": t_fast_call,
        "call_dense_s": t_dense_call,
        "call_ratio": t_dense_call / t_fast_call,
        "top50_agreement": top_k_agreement(fast, dense),
        "max_abs_diff": float(np.max(np.abs(fast - dense))),
        "max_rel_diff": float(np.max(np.abs(fast - dense) / np.abs(dense).max())),
    }
    print(
        f"{name:7s} step: matrix-free {t_fast_step:8.4f} s  dense "
        f"{t_dense_step:8.3f} s  ratio {row['step_ratio']:7.1f}x | call: "
        f"{t_fast_call:6.3f} s vs {t_dense_call:6.3f} s  ratio "
        f"{row['call_ratio']:5.1f}x | top-50 agreement "
        f"{row['top50_agreement']:.0%}, max |diff| {row['max_abs_diff']:.1e}"
    )
    return row


def bench_dense_comparison(n_samples, n_features, repeat):
    X, y = make_data(n_samples, n_features)
    graph = feature_affinity(X, y)
    print(f"n={n_samples}, d={n_features} (matrix-free vs dense A + eigh/solve)")
    ecfs = compare(
        "EC-FS",
        lambda: leading_eigenpair(graph, "matrix_free")[1],
        lambda: leading_eigenpair(graph, "dense")[1],
        lambda: eigenvector_centrality_importances(X, y),
        lambda: eigenvector_centrality_importances(X, y, solver="dense"),
        repeat,
    )
    inffs = compare(
        "Inf-FS",
        lambda: path_scores(graph, 0.9, "matrix_free"),
        lambda: path_scores(graph, 0.9, "dense"),
        lambda: inffs_importances(X, y),
        lambda: inffs_importances(X, y, solver="dense"),
        repeat,
    )
    return {
        "n_samples": n_samples,
        "n_features": n_features,
        "ecfs": ecfs,
        "inffs": inffs,
    }


def floor(X, y, repeat: int) -> float:
    """Seconds of one read for the variances plus one count of the binned
    codes (binned beforehand, as uint8): the least EC-FS has to do."""
    n_bins = _n_bins(X.shape[0])
    step = max(1, (1 << 22) // X.shape[0])
    joint = []
    for start in range(0, X.shape[1], step):
        bins, _ = _bin_index(X[:, start : start + step], n_bins)
        offsets = np.arange(bins.shape[1]) * n_bins
        joint.append(((bins + offsets) * 2 + y[:, None]).ravel())
    variance, _ = best_time(lambda: X.var(axis=0), repeat)
    count, _ = best_time(lambda: [np.bincount(j) for j in joint], repeat)
    return variance + count


def bench_large(n_samples, n_features, repeat):
    X, y = make_data(n_samples, n_features)
    eigenvector_centrality_importances(X, y)  # loads the compiled kernel
    t_ecfs, scores = best_time(lambda: eigenvector_centrality_importances(X, y), repeat)
    t_inffs, _ = best_time(lambda: inffs_importances(X, y), repeat)
    t_one, _ = best_time(
        _environment.one_numba_thread(lambda: eigenvector_centrality_importances(X, y)),
        repeat,
    )
    t_floor = floor(X, y, repeat)
    standardized = eigenvector_centrality_importances(X, y, standardize=True)
    # Share of the truly informative columns among the top-ranked ones: the
    # default is led by sigma (columns have random scales), standardize=True
    # by relevance.
    k = max(1, n_features // 50)
    truth = np.r_[np.ones(k), np.zeros(n_features - k)]
    print(
        f"n={n_samples}, d={n_features}: EC-FS {t_ecfs:.2f} s, Inf-FS "
        f"{t_inffs:.2f} s (whole call, matrix-free); floor {t_floor:.2f} s: "
        f"EC-FS {t_ecfs / t_floor:.1f}x, Inf-FS {t_inffs / t_floor:.1f}x of it "
        f"(EC-FS on one thread {t_one / t_floor:.1f}x)"
    )
    return {
        "n_samples": n_samples,
        "n_features": n_features,
        "ecfs_call_s": t_ecfs,
        "inffs_call_s": t_inffs,
        "ecfs_call_one_thread_s": t_one,
        "floor_s": t_floor,
        "ecfs_over_floor": t_ecfs / t_floor,
        "inffs_over_floor": t_inffs / t_floor,
        "ecfs_one_thread_over_floor": t_one / t_floor,
        "informative_recall_at_k": top_k_agreement(scores, truth, k),
        "informative_recall_at_k_standardized": top_k_agreement(standardized, truth, k),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dense-features", type=int, default=3000)
    parser.add_argument("--large-features", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=1000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    results = {
        "dense_comparison": bench_dense_comparison(
            args.samples, args.dense_features, args.repeat
        ),
        "large": bench_large(args.samples, args.large_features, args.repeat),
        "targets": {
            "step_ratio_min": 20,
            "large_call_max_s": 30,
            "large_call_over_floor_max": 2,
        },
        **_environment.environment("scipy", "numba"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
