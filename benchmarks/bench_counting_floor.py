"""Binned MI and mRMR against the counting floor, side by side in one process.

Run: ``python benchmarks/bench_counting_floor.py`` (``--shapes 20000x100`` for
a subset, ``--all`` to add 1,000,000 x 50). Writes
``benchmarks/results/counting_floor.json``.

Data: ``make_classification(n, d, n_informative=10, n_redundant=10,
random_state=0)``, numeric, default parameters. For every shape, each timing
is the minimum of ``--repeats`` calls (3):

- ``floor``: the bare count, ``np.bincount(codes[j] * n_classes + y)`` for
  every column ``j`` over the codes featimp bins the data to, binned
  beforehand: what any binned MI has to do at least once.
- ``process_first``: the very first MI call of the process, on a separate
  20,000 x 60 table, before any shape: it imports numba and loads the
  compiled kernels from numba's cache (a one-time cost of the process,
  ``process_first_over_steady`` against the same call repeated).
- ``mi_first``: the first :func:`mutual_info_importances` call on data it
  has not seen (a fresh copy of ``X``: new memory, nothing in the caches),
  the fastest of ``--repeats`` such first calls, and ``mi``: the steady
  state, the same data called again.
  Both with the default null correction (3 target permutations), on
  numba's default threads (``numba_threads`` in the environment block: the
  CPUs); ``mi_one_thread`` on one thread, the floor's own thread count.
- ``mi_plain``: ``null_correction=False``; ``null_ratio = mi / mi_plain``.
- ``mrmr``: :func:`mrmr_importances` with ``n_features=10``.
- ``validate``: ``check_X_y`` alone (the table encoding every score function
  starts with; MI and mRMR do not copy a float array), and ``mi_core``: the
  MI after it (binning, counting, null, constant columns), so that
  ``mi_core / floor`` is the cost of featimp's own binned MI against the
  count.
- The page faults and system time of one steady ``mi`` call, and the peak
  memory it allocates (tracemalloc) over the size of ``X``.

If ``outrank`` or ``mrmr_selection`` is importable, it is timed on the same
data: OutRank's numba core (``mutual_info_estimator_numba``, per column, over
the same codes as int32, after one warm-up call that compiles it; one
thread, so it is set against ``mi_plain_one_thread``) and
``mrmr.mrmr_classif(K=10)`` on a DataFrame (one run: it is slow; its
default ``n_jobs=-1``, every CPU).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
import tracemalloc
from importlib import metadata
from pathlib import Path

import numpy as np
from sklearn.datasets import make_classification

ROOT = Path(__file__).resolve().parents[1]
for path in (ROOT, ROOT / "benchmarks"):
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))  # so a checkout runs without installing

import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)

from featimp._binning import (  # noqa: E402
    discretize,
    resolve_discrete_mask,
    resolve_n_bins,
)
from featimp._mutual_info import (  # noqa: E402
    _binned_mi,
    _permutations,
    mrmr_importances,
    mutual_info_importances,
)
from featimp._validation import check_X_y  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "counting_floor.json"
SHAPES = ("20000x100", "200000x100", "20000x1000")
LARGE = ("1000000x50",)
PEERS = ("outrank", "mrmr_selection")
K = 10


def parse_shape(text: str) -> tuple[int, int]:
    n, d = text.lower().split("x")
    return int(n), int(d)


def data(n: int, d: int):
    return make_classification(n, d, n_informative=10, n_redundant=10, random_state=0)


def best_time(func, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return min(times)


def floor(codes, y, n_classes: int) -> None:
    for row in codes:
        np.bincount(row.astype(np.intp) * n_classes + y)


def core(X, y):
    """:func:`mutual_info_importances` after validation (``X`` as encoded):
    binning, counting, the null and the constant-column check."""
    mask = resolve_discrete_mask(X, "auto")
    perms = _permutations(X.shape[0], True, "auto", 0)
    n_bins = resolve_n_bins("auto", len(y))
    return _binned_mi(X, y, "classification", mask, n_bins, perms)


def process_first() -> dict:
    """The first MI call of the process, and the same call repeated."""
    X, y = data(20000, 60)
    start = time.perf_counter()
    mutual_info_importances(X, y, random_state=0)
    first = time.perf_counter() - start
    steady = best_time(lambda: mutual_info_importances(X, y, random_state=0), 3)
    return {
        "shape": "20000x60",
        "process_first": first,
        "steady": steady,
        "process_first_over_steady": first / steady,
    }


def first_call(X, y, repeats: int) -> float:
    """The first MI call on data it has not seen: each try on a fresh copy
    of ``X`` (new memory, nothing of it in the caches), the fastest of
    ``repeats`` tries (one try alone is noise for a 13 ms call)."""
    times = []
    for _ in range(repeats):
        fresh = X.copy()
        start = time.perf_counter()
        mutual_info_importances(fresh, y, random_state=0)
        times.append(time.perf_counter() - start)
        del fresh
    return min(times)


def call_costs(func) -> dict:
    """Page faults, system time and traced peak memory of one call."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    func()
    after = resource.getrusage(resource.RUSAGE_SELF)
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {
        "minor_page_faults": after.ru_minflt - before.ru_minflt,
        "system_seconds": after.ru_stime - before.ru_stime,
        "peak_bytes": peak,
    }


def peers(X, y, codes) -> dict:
    """Timings of the peers that are installed (None for the others)."""
    out = {"outrank_core": None, "mrmr_selection": None}
    try:
        from outrank.algorithms.feature_ranking.ranking_mi_numba import (
            mutual_info_estimator_numba,
        )
    except ImportError:
        pass
    else:
        target = y.astype(np.int32)
        columns = [row.astype(np.int32) for row in codes]
        one = np.float32(1.0)
        mutual_info_estimator_numba(target, columns[0], one, False)  # compile

        def outrank():
            for column in columns:
                mutual_info_estimator_numba(target, column, one, False)

        out["outrank_core"] = best_time(outrank, 3)
    try:
        import pandas as pd
        from mrmr import mrmr_classif
    except ImportError:
        pass
    else:
        frame, series = pd.DataFrame(X), pd.Series(y)
        out["mrmr_selection"] = best_time(
            lambda: mrmr_classif(X=frame, y=series, K=K, show_progress=False), 1
        )
    return out


def run_shape(n: int, d: int, repeats: int) -> dict:
    X, y = data(n, d)
    n_classes = int(y.max()) + 1
    mask = resolve_discrete_mask(X, "auto")
    codes, _ = discretize(X, mask, resolve_n_bins("auto", n))
    encoded = check_X_y(X, y, encoding="codes")[0].values

    def mi():
        return mutual_info_importances(X, y, random_state=0)

    first = first_call(X, y, repeats)
    row = {
        "n_samples": n,
        "n_features": d,
        "code_dtype": str(codes.dtype),
        "floor": best_time(lambda: floor(codes, y, n_classes), repeats),
        "mi_first": first,
        "mi": best_time(mi, repeats),
        "mi_one_thread": best_time(_environment.one_numba_thread(mi), repeats),
        "mi_plain": best_time(
            lambda: mutual_info_importances(X, y, null_correction=False), repeats
        ),
        "mi_plain_one_thread": best_time(
            _environment.one_numba_thread(
                lambda: mutual_info_importances(X, y, null_correction=False)
            ),
            repeats,
        ),
        "mrmr": best_time(
            lambda: mrmr_importances(X, y, n_features=K, random_state=0), repeats
        ),
        "validate": best_time(lambda: check_X_y(X, y, encoding="codes"), repeats),
        "mi_core": best_time(lambda: core(encoded, y), repeats),
        **call_costs(mi),
        **peers(X, y, codes),
    }
    row["peak_over_X"] = row.pop("peak_bytes") / X.nbytes
    row["mi_over_floor"] = row["mi"] / row["floor"]
    row["mi_one_thread_over_floor"] = row["mi_one_thread"] / row["floor"]
    row["mi_core_over_floor"] = row["mi_core"] / row["floor"]
    row["validate_share_of_mi"] = row["validate"] / row["mi"]
    row["first_over_steady"] = row["mi_first"] / row["mi"]
    row["null_ratio"] = row["mi"] / row["mi_plain"]
    if row["outrank_core"]:
        row["outrank_core_over_mi_plain"] = row["outrank_core"] / row["mi_plain"]
        row["outrank_core_over_mi_plain_one_thread"] = (
            row["outrank_core"] / row["mi_plain_one_thread"]
        )
    if row["mrmr_selection"]:
        row["mrmr_selection_over_mrmr"] = row["mrmr_selection"] / row["mrmr"]
    return row


def report(rows) -> None:
    print(
        f"{'shape':>12} {'floor s':>8} {'MI s':>7} {'/floor':>7} {'1 thr':>6} "
        f"{'first':>6} {'null':>6} {'mRMR s':>7} {'faults':>7} {'peak/X':>6} "
        f"{'outrank':>8} {'1 thr':>6} {'mrmr_sel':>8}"
    )
    for r in rows:
        outrank = r.get("outrank_core_over_mi_plain")
        outrank_one = r.get("outrank_core_over_mi_plain_one_thread")
        peer_mrmr = r.get("mrmr_selection_over_mrmr")
        print(
            f"{r['n_samples']:>7}x{r['n_features']:<4} {r['floor']:8.3f} "
            f"{r['mi']:7.3f} {r['mi_over_floor']:6.1f}x "
            f"{r['mi_one_thread_over_floor']:5.1f}x "
            f"{r['first_over_steady']:5.2f}x {r['null_ratio']:5.2f}x "
            f"{r['mrmr']:7.3f} {r['minor_page_faults']:7d} {r['peak_over_X']:6.2f} "
            + (f"{outrank:7.2f}x {outrank_one:5.2f}x " if outrank else f"{'-':>15} ")
            + (f"{peer_mrmr:7.2f}x" if peer_mrmr else f"{'-':>8}")
        )
    print(f"wrote {RESULTS}")


def _distribution_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shapes", help="comma-separated, e.g. 20000x100,20000x1000")
    parser.add_argument("--all", action="store_true", help="add 1000000x50")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    shapes = args.shapes.split(",") if args.shapes else [*SHAPES]
    if args.all and not args.shapes:
        shapes += LARGE
    first = process_first()
    print(json.dumps(first), flush=True)
    rows = []
    for shape in shapes:
        rows.append(run_shape(*parse_shape(shape), max(args.repeats, 1)))
        print(json.dumps(rows[-1]), flush=True)
    result = {
        "benchmark": "counting_floor",
        "data": "make_classification(n, d, n_informative=10, n_redundant=10, "
        "random_state=0)",
        "mrmr_n_features": K,
        "repeats": args.repeats,
        "process_first_call": first,
        "shapes": rows,
        **_environment.environment("numba"),
        "peer_versions": {d: _distribution_version(d) for d in PEERS},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    report(rows)
    return result


if __name__ == "__main__":
    main()
