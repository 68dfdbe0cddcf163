"""Streaming a partitioned CTR-like Parquet dataset: peak memory by rows.

Run: ``python benchmarks/bench_scale.py`` (``--rows 1000000,10000000``).
Writes ``benchmarks/results/scale.json``.

Data (generated once into ``--cache``, default ``~/.cache/featimp-bench``,
outside the repository; one Parquet file per 10^6 rows): 40 columns like a
click log, 25 integer categoricals with 10 to 10^6 distinct values
(Zipf-like frequencies) and 15 float32 numerics, and a binary target
``clicked`` whose log-odds add per-value effects of 4 categoricals and
linear effects of 3 numerics (the planted truth: those 7 columns).

Each size is ranked by ``featimp.rank_dataset(method="mi",
null_correction="expected")`` in a fresh subprocess (so that its peak RSS,
``ru_maxrss``, is its own): seconds, rows per second, peak RSS, and how
many of the 7 planted columns are in the top 7. The target is what memory
could grow with: with the exact-mean null nothing is kept per row, so the
peak should not grow with the rows.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)

RESULTS = HERE / "results" / "scale.json"
PART_ROWS = 1_000_000
CARDINALITIES = np.geomspace(10, 1_000_000, 25).astype(int)
PLANTED_CATEGORICAL = (0, 6, 12, 18)  # 10, ~100, ~1,000, ~10,000 values
PLANTED_NUMERIC = (0, 1, 2)


def _part(index: int, rows: int):
    """One file's rows, from a seed of its own (the same file every run)."""
    import pandas as pd

    rng = np.random.default_rng(1000 + index)
    effects = np.random.default_rng(7)  # the same effects in every file
    frame, logit = {}, np.full(rows, -1.5)
    for j, k in enumerate(CARDINALITIES):
        # Zipf-like: value v with weight 1 / (v + 1).
        weights = 1.0 / np.arange(1, k + 1)
        values = rng.choice(k, rows, p=weights / weights.sum()).astype(np.int32)
        effect = effects.normal(0, 0.8, k)
        if j in PLANTED_CATEGORICAL:
            logit += effect[values]
        frame[f"cat_{j:02d}"] = values
    for j in range(15):
        x = rng.normal(size=rows).astype(np.float32)
        if j in PLANTED_NUMERIC:
            logit += 0.4 * x
        frame[f"num_{j:02d}"] = x
    frame["clicked"] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return pd.DataFrame(frame)


def dataset(cache: Path, rows: int) -> Path:
    """The folder of ``rows`` rows (files 0 .. rows / 10^6 - 1), generated
    where missing."""
    folder = cache / "ctr"
    folder.mkdir(parents=True, exist_ok=True)
    n_parts = max(1, rows // PART_ROWS)
    for i in range(n_parts):
        path = folder / f"part-{i:04d}.parquet"
        if not path.exists():
            _part(i, PART_ROWS).to_parquet(path.with_suffix(".tmp"), index=False)
            path.with_suffix(".tmp").rename(path)
    return folder


RUN = """
import json, resource, sys, time
from pathlib import Path
from featimp import rank_dataset
folder, n_parts = Path(sys.argv[1]), int(sys.argv[2])
paths = sorted(folder.glob("part-*.parquet"))[:n_parts]
start = time.perf_counter()
table = rank_dataset(paths, "clicked", method="mi", null_correction="expected")
seconds = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "top": table["feature"].tolist()[:7],
    "rows": table.attrs["n_samples"],
    "hashed": sorted(table.attrs["hashed"]),
}))
"""


def run(folder: Path, rows: int) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", RUN, str(folder), str(max(1, rows // PART_ROWS))],
        capture_output=True,
        text=True,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    planted = {f"cat_{j:02d}" for j in PLANTED_CATEGORICAL} | {
        f"num_{j:02d}" for j in PLANTED_NUMERIC
    }
    result["planted_in_top_7"] = len(planted & set(result["top"]))
    result["rows_per_second"] = result["rows"] / result["seconds"]
    return result


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "featimp-bench"
    )
    args = parser.parse_args(argv)
    sizes = [int(r) for r in args.rows.split(",")]
    start = time.perf_counter()
    folder = dataset(args.cache, max(sizes))
    generated = time.perf_counter() - start
    runs = []
    for rows in sizes:
        runs.append(run(folder, rows))
        print(json.dumps(runs[-1]), flush=True)
    result = {
        "benchmark": "scale",
        "data": "CTR-like: 25 int32 categoricals (10 to 10^6 values, Zipf-like), "
        "15 float32 numerics, binary target; 4 categoricals and 3 numerics "
        "planted",
        "method": "rank_dataset(method='mi', null_correction='expected')",
        "generation_seconds": generated,
        "runs": runs,
        **_environment.environment("pyarrow", "numba"),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    for r in runs:
        print(
            f"{r['rows']:>11,} rows: {r['seconds']:7.1f} s, "
            f"{r['rows_per_second']:,.0f} rows/s, peak RSS {r['peak_rss_mb']:.0f} MB, "
            f"planted in top 7: {r['planted_in_top_7']}/7"
        )
    print(f"wrote {RESULTS}")
    return result


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
