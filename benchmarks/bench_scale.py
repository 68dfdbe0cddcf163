"""Streaming a partitioned CTR-like Parquet dataset: time, peak memory and
recovery by rows, against OutRank, featimp in memory and the counting floor.

Run: ``python benchmarks/bench_scale.py`` (``--rows 1000000,10000000``;
``--outrank-python /path/to/venv/bin/python`` for an interpreter that has
``outrank``, by default this one). Writes ``benchmarks/results/scale.json``.

Data (generated once into ``--cache``, default ``~/.cache/featimp-bench``,
outside the repository; one Parquet file per 10^6 rows): 40 columns like a
click log, 25 integer categoricals with 10 to 10^6 distinct values
(Zipf-like frequencies) and 15 float32 numerics, and a binary target
``clicked`` whose log-odds add per-value effects of 4 categoricals and
linear effects of 3 numerics (the planted truth: those 7 columns). Recovery
is counted for every ranker alike: how many of the 7 planted columns are in
its top 7 (``planted_in_top_7``) and in its top 10 (``planted_in_top_10``).

Every measurement is a fresh subprocess, so that its peak RSS
(``ru_maxrss``, imports included) is its own; its seconds and CPU seconds
(``ru_utime + ru_stime``) are those of the timed part, after the imports.
Throughput is given as rows per second (wall), rows per second per core
(the wall rate over the cores the ranker uses: the CPU count for featimp,
whose kernels run on numba's threads, 1 for OutRank's core, which is
single-threaded) and rows per CPU second.

``runs`` (featimp streaming)
    ``featimp.rank_dataset(method="mi", null_correction="expected")`` over
    the first ``rows / 10^6`` files. With the exact-mean null nothing is
    kept per row, so the peak should not grow with the rows.
``floor`` (in each featimp run's subprocess, after the timed run)
    The bare ``np.bincount(codes[j] * 2 + target)`` of every column ``j``
    over the codes featimp's result gives the rows (each column's coder,
    kept from the timed run), batch by batch: the batches are read and
    coded untimed, and only the counts are timed; their sum is
    ``floor_seconds``, and ``over_floor`` is featimp's seconds over it. The
    floor is one NumPy thread and reads codes that are already there,
    while featimp reads the files (the target column, then every column
    once), decodes Parquet and codes every value as it counts. For scale,
    ``read_seconds`` is one read of the same files with the reader featimp
    uses (1 MiB buffer, no pre-buffering, one decoding thread, batches of
    65,536 rows), every column decoded to NumPy and nothing else
    (``over_read``: featimp's seconds over it).
``outrank`` (PyPI ``outrank``, when its interpreter imports it)
    OutRank's CLI reads text only (``--data_source csv-raw``, ``ob-csv``,
    ``ob-vw``: CSV, TSV or Vowpal Wabbit lines, parsed in Python line by
    line); it has no Parquet reader. Converting the files to CSV first would
    put the conversion or its line parser in OutRank's time, so its MI core
    is timed on the same decoded batches instead: the files read by pyarrow
    (``ParquetFile.iter_batches``) in OutRank's default minibatch
    (``--minibatch_size``, 2^14 rows), each column encoded as OutRank's batch
    ranking does (``astype("category").cat.codes``), each feature scored
    against the target by OutRank's own scorer for its default heuristic
    (``numba_mi(feature, target, "MI-numba-randomized", 1.0)`` from
    ``outrank.algorithms.importance_estimator``, the feature first, as its
    ranking passes them), and the per-batch scores
    aggregated by their median, as OutRank aggregates batches. Every row is
    scored (OutRank's CLI default ``--subsampling 10`` would score every
    10th). What is not timed is all that the CLI does besides: the Python
    line parsing, the per-value cardinality sketches and coverage counts, and
    the process pool that spreads the (feature, target) pairs. So its
    throughput here is an upper bound of the CLI's per core. Two variants:
    ``raw``, the values as a ``csv-raw`` file would give them (OutRank bins
    nothing: a float32 column is a category per distinct value), and
    ``binned``, where the numerics are first cut into featimp's number of
    quantile bins (``resolve_n_bins``, 32 here) at the quantiles of the
    first file's first 65,536 values (a courtesy to OutRank, whose scorer
    takes every distinct value for a category). OutRank's scorer costs rows x distinct
    values per batch, so a size whose estimated time (proportional to rows,
    from the largest size measured) passes ``--outrank-budget`` seconds is
    skipped, with the estimate recorded.
``in_memory``
    ``pd.read_parquet`` of the same files and
    :func:`featimp.mutual_info_importances` with the same null, for the
    sizes whose estimated peak RSS (proportional to rows, from the largest
    size measured: an overestimate, the imports do not grow) stays under
    ``--in-memory-budget-mb``; the others are skipped with the estimate
    recorded.

``comparison`` sets the others beside featimp streaming, size by size:
featimp's rows per second per core (and per CPU second) over OutRank's, and
both tools' recovery.
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
PLANTED = frozenset(
    {f"cat_{j:02d}" for j in PLANTED_CATEGORICAL}
    | {f"num_{j:02d}" for j in PLANTED_NUMERIC}
)
TARGET = "clicked"
OUTRANK_VARIANTS = ("raw", "binned")


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
    frame[TARGET] = (rng.random(rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
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


# Each script prints one JSON line; argv: folder, number of files, then its own.
_COMMON = """
import json, resource, sys, time
from pathlib import Path
folder, n_parts = Path(sys.argv[1]), int(sys.argv[2])
paths = sorted(folder.glob("part-*.parquet"))[:n_parts]

def usage(since=0.0):  # peak RSS (MB), CPU seconds since `since`
    u = resource.getrusage(resource.RUSAGE_SELF)
    return u.ru_maxrss / 1024, u.ru_utime + u.ru_stime - since
"""

STREAM = (
    _COMMON
    + """
import numpy as np
import featimp._streaming as streaming
from featimp import rank_dataset

def rank():
    return rank_dataset(paths, "clicked", method="mi", null_correction="expected")

_, cpu_start = usage()
start = time.perf_counter()
table = rank()
seconds = time.perf_counter() - start
peak, cpu = usage(cpu_start)

# The floor: the bare count of the codes featimp's coders give every batch.
coders, finish = {}, streaming._finish_counts

def keep_coder(counts, *args):
    coder, table = finish(counts, *args)
    coders[counts.name] = coder
    return coder, table

streaming._finish_counts = keep_coder
again = rank()
assert again.equals(table)
used = [c for c in coders.values() if c is not None]
target_coder = streaming._Coder("clicked", "values", np.array([0.0, 1.0]), 2, False)
floor = 0.0
for part in streaming._open_parts(paths):
    for batch in part.batches([c.name for c in used] + ["clicked"], 65536):
        target = streaming._codes(target_coder, batch.column("clicked"))
        codes = [streaming._codes(c, batch.column(c.name)) for c in used]
        begin = time.perf_counter()
        for row, coder in zip(codes, used):
            np.bincount(row * 2 + target, minlength=coder.card * 2)
        floor += time.perf_counter() - begin

# One read of the files, decoded to NumPy, with the reader featimp uses.
import pyarrow.parquet as pq
begin = time.perf_counter()
for path in paths:
    with pq.ParquetFile(path, buffer_size=1 << 20, pre_buffer=False) as file:
        for batch in file.iter_batches(batch_size=65536, use_threads=False):
            for column in batch.columns:
                column.to_numpy(zero_copy_only=False)
read = time.perf_counter() - begin
print(json.dumps({
    "seconds": seconds,
    "peak_rss_mb": peak,
    "cpu_seconds": cpu,
    "top": table["feature"].tolist()[:7],
    "top_10": table["feature"].tolist()[:10],
    "rows": table.attrs["n_samples"],
    "hashed": sorted(table.attrs["hashed"]),
    "floor_seconds": floor,
    "read_seconds": read,
}))
"""
)

IN_MEMORY = (
    _COMMON
    + """
import numpy as np, pandas as pd
from featimp import mutual_info_importances
_, cpu_start = usage()
start = time.perf_counter()
frame = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
X, y = frame.drop(columns="clicked"), frame["clicked"]
scores = mutual_info_importances(X, y, null_correction="expected")
seconds = time.perf_counter() - start
order = X.columns[np.argsort(-scores, kind="stable")].tolist()
peak, cpu = usage(cpu_start)
print(json.dumps({
    "seconds": seconds, "peak_rss_mb": peak, "cpu_seconds": cpu,
    "top": order[:7], "top_10": order[:10], "rows": len(frame),
}))
"""
)

OUTRANK = (
    _COMMON
    + """
import logging
import numpy as np, pandas as pd, pyarrow.parquet as pq
from importlib.metadata import version
from outrank.algorithms.importance_estimator import numba_mi
# Its scorer logs a warning per call for a 1-D column (as in its own runs).
logging.getLogger("syn-logger").setLevel(logging.ERROR)
variant, n_bins = sys.argv[3], int(sys.argv[4])
MINIBATCH = 2**14  # OutRank's --minibatch_size default
schema = pq.ParquetFile(paths[0]).schema_arrow
features = [n for n in schema.names if n != "clicked"]
numeric = [n for n in features if n.startswith("num_")]
edges = {}
if variant == "binned":  # quantile edges from the first file's first values
    head = next(pq.ParquetFile(paths[0]).iter_batches(65536, columns=numeric))
    q = np.arange(1, n_bins) / n_bins
    edges = {n: np.quantile(head.column(n).to_numpy(), q) for n in numeric}

def encode(values):  # as OutRank's batch ranking: category codes per batch
    return pd.Series(values).astype("category").cat.codes.to_numpy()

scores = {n: [] for n in features}
rows, core = 0, 0.0
_, cpu_start = usage()
start = time.perf_counter()
for path in paths:
    for batch in pq.ParquetFile(path).iter_batches(batch_size=MINIBATCH):
        target = encode(batch.column("clicked").to_numpy())
        for name in features:
            values = batch.column(name).to_numpy()
            if name in edges:
                values = np.searchsorted(edges[name], values, side="right")
            codes = encode(values)
            begin = time.perf_counter()
            scores[name].append(
                numba_mi(codes, target, "MI-numba-randomized", np.float32(1.0))
            )
            core += time.perf_counter() - begin
        rows += batch.num_rows
seconds = time.perf_counter() - start
median = pd.Series({n: float(np.median(s)) for n, s in scores.items()})
order = median.sort_values(ascending=False, kind="stable").index.tolist()
peak, cpu = usage(cpu_start)
print(json.dumps({
    "variant": variant, "seconds": seconds, "scorer_seconds": core,
    "peak_rss_mb": peak, "cpu_seconds": cpu, "top": order[:7],
    "top_10": order[:10], "rows": rows, "batches": len(scores[features[0]]),
    "outrank_version": version("outrank"),
}))
"""
)


def _subprocess(python: str, script: str, folder: Path, rows: int, *extra) -> dict:
    n_parts = str(max(1, rows // PART_ROWS))
    out = subprocess.run(
        [python, "-c", script, str(folder), n_parts, *map(str, extra)],
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{python} failed ({out.returncode}):\n{out.stderr[-4000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def _rates(result: dict, cores: int) -> dict:
    """Recovery and throughput of one ranker's run, added to its result."""
    result["planted_in_top_7"] = len(PLANTED & set(result["top"]))
    result["planted_in_top_10"] = len(PLANTED & set(result["top_10"]))
    result["rows_per_second"] = result["rows"] / result["seconds"]
    result["cores"] = cores
    result["rows_per_second_per_core"] = result["rows_per_second"] / cores
    result["rows_per_cpu_second"] = result["rows"] / result["cpu_seconds"]
    return result


def run(folder: Path, rows: int) -> dict:
    """featimp streaming (and the floor, in the same subprocess)."""
    result = _rates(
        _subprocess(sys.executable, STREAM, folder, rows), os.cpu_count() or 1
    )
    result["over_floor"] = result["seconds"] / result["floor_seconds"]
    result["over_read"] = result["seconds"] / result["read_seconds"]
    return result


def run_in_memory(folder: Path, rows: int) -> dict:
    return _rates(
        _subprocess(sys.executable, IN_MEMORY, folder, rows), os.cpu_count() or 1
    )


def run_outrank(python: str, folder: Path, rows: int, variant: str) -> dict:
    from featimp._binning import resolve_n_bins

    n_bins = resolve_n_bins("auto", rows)
    result = _subprocess(python, OUTRANK, folder, rows, variant, n_bins)
    result = _rates(result, 1)
    result["numeric_bins"] = n_bins if variant == "binned" else None
    return result


def has_outrank(python: str) -> bool:
    probe = subprocess.run(
        [python, "-c", "import outrank, pyarrow"], capture_output=True, check=False
    )
    return probe.returncode == 0


class _Budget:
    """Which sizes a slow or large ranker is run at: a size whose estimate
    (proportional to rows, from the largest size measured) passes the budget
    is skipped."""

    def __init__(self, budget: float, key: str):
        self.budget, self.key = budget, key
        self.measured: dict | None = None

    def skip(self, rows: int) -> dict | None:
        if self.measured is None:
            return None
        estimate = self.measured[self.key] * rows / self.measured["rows"]
        if estimate <= self.budget:
            return None
        return {
            "rows": rows,
            "skipped": f"estimated {self.key} {estimate:,.0f} > budget "
            f"{self.budget:,.0f} (proportional to rows, from "
            f"{self.measured['rows']:,} rows)",
            f"estimated_{self.key}": estimate,
        }

    def record(self, result: dict) -> None:
        self.measured = result


def comparison(runs, outrank, in_memory) -> list[dict]:
    rows = []
    for r in runs:
        row = {
            "rows": r["rows"],
            "featimp_seconds": r["seconds"],
            "featimp_over_floor": r["over_floor"],
            "featimp_over_read": r["over_read"],
            "featimp_planted_in_top_7": r["planted_in_top_7"],
            "featimp_planted_in_top_10": r["planted_in_top_10"],
        }
        for o in outrank:
            if o["rows"] == r["rows"] and "skipped" not in o:
                v = o["variant"]
                row[f"outrank_{v}_planted_in_top_7"] = o["planted_in_top_7"]
                row[f"outrank_{v}_planted_in_top_10"] = o["planted_in_top_10"]
                row[f"featimp_over_outrank_{v}_per_core"] = (
                    r["rows_per_second_per_core"] / o["rows_per_second_per_core"]
                )
                row[f"featimp_over_outrank_{v}_per_cpu_second"] = (
                    r["rows_per_cpu_second"] / o["rows_per_cpu_second"]
                )
        for m in in_memory:
            if m["rows"] == r["rows"] and "skipped" not in m:
                row["in_memory_over_streaming_seconds"] = m["seconds"] / r["seconds"]
                row["in_memory_over_streaming_peak_rss"] = (
                    m["peak_rss_mb"] / r["peak_rss_mb"]
                )
        rows.append(row)
    return rows


def report(result: dict) -> None:
    def line(name, r):
        if "skipped" in r:
            return f"{name:>16} {r['rows']:>11,} rows: skipped, {r['skipped']}"
        return (
            f"{name:>16} {r['rows']:>11,} rows: {r['seconds']:7.1f} s, "
            f"{r['rows_per_second']:>9,.0f} rows/s, "
            f"{r['rows_per_second_per_core']:>9,.0f} /s/core, "
            f"{r['rows_per_cpu_second']:>9,.0f} /CPU s, "
            f"peak RSS {r['peak_rss_mb']:5.0f} MB, planted in top 7: "
            f"{r['planted_in_top_7']}/7, top 10: {r['planted_in_top_10']}/7"
        )

    for r in result["runs"]:
        print(line("featimp stream", r))
        print(
            f"{'floor':>16} {r['rows']:>11,} rows: {r['floor_seconds']:7.1f} s "
            f"(featimp / floor: {r['over_floor']:.1f}x); one read "
            f"{r['read_seconds']:.1f} s (featimp / read: {r['over_read']:.1f}x)"
        )
    for r in result["outrank"]["runs"]:
        print(line(f"outrank {r.get('variant', '')}", r))
    for r in result["in_memory"]["runs"]:
        print(line("featimp memory", r))
    for c in result["comparison"]:
        ratios = ", ".join(
            f"{k.removeprefix('featimp_over_')} {v:.1f}x"
            for k, v in c.items()
            if k.startswith("featimp_over_outrank")
        )
        if ratios:
            print(f"{c['rows']:>28,} rows: featimp over {ratios}")
    print(f"wrote {RESULTS}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="1000000,10000000")
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "featimp-bench"
    )
    parser.add_argument(
        "--outrank-python",
        default=sys.executable,
        help="an interpreter that imports outrank and pyarrow (default: this one)",
    )
    parser.add_argument("--outrank-budget", type=float, default=600.0)
    parser.add_argument("--in-memory-budget-mb", type=float, default=6000.0)
    args = parser.parse_args(argv)
    sizes = sorted(int(r) for r in args.rows.split(","))
    start = time.perf_counter()
    folder = dataset(args.cache, max(sizes))
    generated = time.perf_counter() - start
    outrank_found = has_outrank(args.outrank_python)
    outrank_budgets = {
        v: _Budget(args.outrank_budget, "seconds") for v in OUTRANK_VARIANTS
    }
    memory_budget = _Budget(args.in_memory_budget_mb, "peak_rss_mb")
    runs, outrank, in_memory = [], [], []
    for rows in sizes:
        runs.append(run(folder, rows))
        print(json.dumps(runs[-1]), flush=True)
        for variant, budget in outrank_budgets.items():
            if not outrank_found:
                break
            result = budget.skip(rows) or run_outrank(
                args.outrank_python, folder, rows, variant
            )
            result.setdefault("variant", variant)
            if "skipped" not in result:
                budget.record(result)
            outrank.append(result)
            print(json.dumps(outrank[-1]), flush=True)
        result = memory_budget.skip(rows) or run_in_memory(folder, rows)
        if "skipped" not in result:
            memory_budget.record(result)
        in_memory.append(result)
        print(json.dumps(in_memory[-1]), flush=True)
    result = {
        "benchmark": "scale",
        "data": "CTR-like: 25 int32 categoricals (10 to 10^6 values, Zipf-like), "
        "15 float32 numerics, binary target; 4 categoricals and 3 numerics "
        "planted",
        "method": "rank_dataset(method='mi', null_correction='expected')",
        "planted": sorted(PLANTED),
        "generation_seconds": generated,
        "runs": runs,
        "floor": "per featimp run: np.bincount(codes[j] * 2 + target) over the "
        "codes that featimp's coders give every column, batch by batch (read "
        "and coded untimed), in its own subprocess, one NumPy thread "
        "(floor_seconds; over_floor = seconds / floor_seconds); read_seconds: "
        "one read of the files, every column decoded to NumPy, with featimp's "
        "reader settings (over_read = seconds / read_seconds)",
        "outrank": {
            "how": "OutRank's MI core on the same decoded Parquet batches, not its "
            "CLI (which reads CSV/TSV/VW text only): minibatches of 2^14 rows, "
            "astype('category').cat.codes per batch, "
            "numba_mi(feature, target, 'MI-numba-randomized', 1.0) per feature, "
            "median over batches; every row scored (no --subsampling); one "
            "thread. raw: numerics as their float values; binned: numerics cut "
            "into featimp's quantile bins first",
            "python": args.outrank_python,
            "available": outrank_found,
            "budget_seconds": args.outrank_budget,
            "runs": outrank,
        },
        "in_memory": {
            "how": "pd.read_parquet of the same files, then "
            "mutual_info_importances(X, y, null_correction='expected')",
            "budget_peak_rss_mb": args.in_memory_budget_mb,
            "runs": in_memory,
        },
        "comparison": comparison(runs, outrank, in_memory),
        **_environment.environment("pyarrow", "numba"),
    }
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    report(result)
    return result


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
