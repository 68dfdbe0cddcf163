"""Ground-truth benchmark: does each registered method find the true features?

Data come from :func:`featimp.datasets.make_ground_truth` in two scenarios:

``linear``
    5 informative features, 2 redundant copies, 10 noise features, 2
    high-cardinality noise features and 2 suppressors (after Haufe et al.
    2014 and Wilming et al. 2023: independent of y, but a linear model uses
    them to cancel noise in an informative feature).
``xor``
    3 informative features plus 2 XOR-like interaction pairs (each member
    independent of y on its own), 10 noise and 1 high-cardinality noise
    feature.

For every method in the registry (so methods added later are picked up),
n = 1,000 and 20,000 and 5 seeds, it records precision@k of the true set
(``truth.signal``, k = its size), recall of it within the top k + r
(r = redundant features, which legitimately carry signal), and how often
suppressors, high-cardinality noise and interaction features reach that top
set. Writes ``benchmarks/results/ground_truth.json`` and ``ground_truth.md``.

Run: ``python benchmarks/ground_truth.py [--sizes 1000 20000] [--seeds 5]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import traceback
from pathlib import Path

import numpy as np
import pandas as pd

from featimp.datasets import make_ground_truth
from featimp.methods import all_methods

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = {
    "linear": {"n_informative": 5, "n_redundant": 2, "n_noise": 10,
               "n_high_cardinality": 2, "n_suppressors": 2},
    "xor": {"n_informative": 3, "n_redundant": 0, "n_noise": 10,
            "n_high_cardinality": 1, "n_interaction_pairs": 2},
}


def scores_for(X, truth, importances, seed=0) -> dict:
    """Precision@k, recall and the share of each trap role in the top set."""
    names = np.asarray(X.columns)
    # Ties (e.g. features a lasso zeroes) are broken at random: column order
    # would favour whichever role comes first.
    tiebreak = np.random.default_rng(seed).permutation(names.size)
    order = names[np.lexsort((tiebreak, -np.asarray(importances)))]
    signal = set(truth.signal)
    k = len(signal)
    top = set(order[: k + len(truth.features("redundant"))])

    def share(role):
        members = truth.features(role)
        return float(np.mean([m in top for m in members])) if members else None

    return {
        "precision_at_k": len(signal & set(order[:k])) / k,
        "recall": len(signal & top) / k,
        "suppressor_in_top": share("suppressor"),
        "high_cardinality_in_top": share("high_cardinality_noise"),
        "interaction_found": share("interaction"),
    }


def run_one(spec, X, y, truth, seed) -> dict:
    params = {"random_state": seed} if "random_state" in spec.parameters() else {}
    start = time.perf_counter()
    try:
        selector = spec.make_selector(**params).fit(X, y)
    except Exception as exc:  # a broken method must not stop the benchmark
        return {"error": f"{type(exc).__name__}: {exc}",
                "trace": traceback.format_exc(limit=3)}
    seconds = time.perf_counter() - start
    scores = scores_for(X, truth, selector.importances_, seed)
    return {**scores, "seconds": seconds}


def run(sizes, seeds, methods=None) -> list[dict]:
    specs = [s for s in all_methods() if methods is None or s.name in methods]
    rows = []
    for scenario, config in SCENARIOS.items():
        for n in sizes:
            for seed in range(seeds):
                X, y, truth = make_ground_truth(n, random_state=seed, **config)
                for spec in specs:
                    if not spec.supports("classification"):
                        continue
                    row = {"scenario": scenario, "n": n, "seed": seed,
                           "method": spec.name, **run_one(spec, X, y, truth, seed)}
                    rows.append(row)
                    print(_line(row), flush=True)
    return rows


def _line(row) -> str:
    head = (f"{row['scenario']:<7} n={row['n']:<6} seed={row['seed']} "
            f"{row['method']:<12}")
    if "error" in row:
        return f"{head} ERROR {row['error'][:100]}"
    return (f"{head} P@k={row['precision_at_k']:.2f} recall={row['recall']:.2f} "
            f"{row['seconds']:.1f}s")


def summarise(rows) -> pd.DataFrame:
    frame = pd.DataFrame([r for r in rows if "error" not in r])
    columns = ["precision_at_k", "recall", "suppressor_in_top",
               "high_cardinality_in_top", "interaction_found", "seconds"]
    return (
        frame.groupby(["scenario", "n", "method"], sort=False)[columns]
        .mean()
        .reset_index()
    )


def markdown(summary: pd.DataFrame) -> str:
    def fmt(v):
        return "-" if pd.isna(v) else f"{v:.2f}"

    lines = []
    for scenario, part in summary.groupby("scenario", sort=False):
        traps = (["suppressor_in_top", "high_cardinality_in_top"]
                 if scenario == "linear"
                 else ["interaction_found", "high_cardinality_in_top"])
        header = ["method", "n", "precision@k", "recall", *traps, "seconds"]
        lines += [f"### {scenario}", "", "| " + " | ".join(header) + " |",
                  "|" + "---|" * len(header)]
        for _, r in part.sort_values(["n", "method"]).iterrows():
            cells = [r["method"], f"{r['n']:,}", fmt(r["precision_at_k"]),
                     fmt(r["recall"]), *(fmt(r[t]) for t in traps),
                     f"{r['seconds']:.1f}"]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", help="default: every registered one")
    parser.add_argument("--output", default="ground_truth")
    args = parser.parse_args(argv)
    rows = run(args.sizes, args.seeds, args.methods)
    summary = summarise(rows)
    RESULTS.mkdir(exist_ok=True)
    meta = {"sizes": args.sizes, "seeds": args.seeds, "scenarios": SCENARIOS,
            "python": platform.python_version(), "machine": platform.machine()}
    payload = {"meta": meta, "summary": summary.to_dict(orient="records"),
               "runs": rows}
    (RESULTS / f"{args.output}.json").write_text(json.dumps(payload, indent=2))
    (RESULTS / f"{args.output}.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main()
