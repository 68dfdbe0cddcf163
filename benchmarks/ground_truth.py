"""Ground-truth benchmark: does each registered method find the true features?

Data come from :func:`featimp.datasets.make_ground_truth` in three scenarios:

``linear``
    5 informative features, 2 redundant copies, 10 noise features, 2
    high-cardinality noise features and 2 suppressors (after Haufe et al.
    2014 and Wilming et al. 2023: independent of y, but a linear model uses
    them to cancel noise in an informative feature).
``xor``
    3 informative features plus 2 XOR-like interaction pairs (each member
    independent of y on its own), 10 noise and 1 high-cardinality noise
    feature.
``mixed``
    The ``linear`` table without suppressors, as a real table arrives: the
    last 2 of the 5 informative features are text categories (five levels
    whose alphabetical codes are not monotone in the signal, so only a
    method that treats them as categories sees it) and every informative
    feature has 10 % missing cells, ``informative_0`` missing at random
    (driven by ``redundant_0``), the others completely at random. 2
    categorical features test both kinds of method (one-hot and codes)
    with more than one category column; 10 % missing is common in practice
    yet leaves each feature most of its signal; the 2 high-cardinality
    noise columns (standard deviation ~290) are the trap that a raw-scale
    method falls into.

For every method in the registry (so methods added later are picked up),
n = 1,000 and 20,000 and 5 seeds, it records precision@k of the true set
(``truth.signal``, k = its size), recall of it within the top k + r
(r = redundant features, which legitimately carry signal), and how often
suppressors, high-cardinality noise, interaction features, the categorical
informative features and the missing-at-random one reach that top set.
KAN runs at n <= 1,000 only (``MAX_SAMPLES``): it trains 15 networks whose
epochs grow with n; on 2 shared cores a fit took 14-24 s at n = 1,000 and
161 s at n = 5,000, so some 11 minutes at n = 20,000 (about 3 hours for
its 15 runs there).

On ``mixed`` it also measures the one-hot scale bias of EC-FS and Inf-FS,
whose affinity weighs features by their standard deviation, in three
variants:

``before``
    What users did before featimp read mixed tables: a ``ColumnTransformer``
    with ``SimpleImputer(strategy="most_frequent")`` + ``OneHotEncoder(
    handle_unknown="ignore")`` for text columns and ``SimpleImputer(
    strategy="median")`` for numbers (the selectors refused NaN), then the
    selector with the raw standard deviations (``standardize=False``),
    which scores every dummy column. Column level: each original column
    takes the rank of its best dummy (its score is the largest of its
    dummies' scores). Dummy level: the share of the top-k dummy columns
    that belong to true features, and how many distinct true features
    they cover (over k).
``featimp, standardize=False``
    The raw table into the selector, raw standard deviations: featimp's
    encoding (missing category and indicator) and max aggregation alone.
``featimp, default``
    The raw table, ``standardize="auto"`` (standardises, since the table
    has categories): adds the standardisation.

Each variant runs on the mixed tables as they are and without their 2
high-cardinality noise columns. With them, the raw-scale ``S`` term is
dominated by those columns (standard deviation ~290 against at most 0.5
for a dummy and ~1 for the other numbers), which masks the bias against
dummies; without them the bias shows on its own.

Writes ``benchmarks/results/ground_truth.json`` and ``ground_truth.md``.

Run: ``python benchmarks/ground_truth.py [--sizes 1000 20000] [--seeds 5]
[--scenarios linear xor mixed] [--methods ...]``.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
import traceback
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder

from featimp.datasets import make_ground_truth
from featimp.methods import all_methods, get_method

RESULTS = Path(__file__).resolve().parent / "results"
SCENARIOS = {
    "linear": {
        "n_informative": 5,
        "n_redundant": 2,
        "n_noise": 10,
        "n_high_cardinality": 2,
        "n_suppressors": 2,
    },
    "xor": {
        "n_informative": 3,
        "n_redundant": 0,
        "n_noise": 10,
        "n_high_cardinality": 1,
        "n_interaction_pairs": 2,
    },
    "mixed": {
        "n_informative": 5,
        "n_redundant": 2,
        "n_noise": 10,
        "n_high_cardinality": 2,
        "n_categorical": 2,
        "missing_rate": 0.1,
    },
}
#: Traps shown per scenario in the markdown tables.
TRAPS = {
    "linear": ["suppressor_in_top", "high_cardinality_in_top"],
    "xor": ["interaction_found", "high_cardinality_in_top"],
    "mixed": ["categorical_in_top", "mar_in_top", "high_cardinality_in_top"],
}
SCORE_COLUMNS = [
    "precision_at_k",
    "recall",
    "suppressor_in_top",
    "high_cardinality_in_top",
    "interaction_found",
    "categorical_in_top",
    "mar_in_top",
]
#: Largest n a method runs at; KAN would take some 11 minutes a fit at 20,000.
MAX_SAMPLES = {"kan": 1000}
SCALE_BIAS_METHODS = ("ecfs", "inffs")
VARIANTS = ("before", "featimp, standardize=False", "featimp, default")
TABLES = ("as generated", "no high-cardinality")


def _ranking(importances, seed) -> np.ndarray:
    """Indices from most to least important, ties broken at random (column
    order would favour whichever role comes first, e.g. for lasso zeros)."""
    importances = np.asarray(importances, dtype=float)
    tiebreak = np.random.default_rng(seed).permutation(importances.size)
    return np.lexsort((tiebreak, -importances))


def _share(members, top, columns):
    members = [m for m in members if m in columns]
    return float(np.mean([m in top for m in members])) if members else None


def scores_for(X, truth, importances, seed=0) -> dict:
    """Precision@k, recall and the share of each trap role in the top set."""
    order = np.asarray(X.columns)[_ranking(importances, seed)]
    signal = set(truth.signal)
    k = len(signal)
    top = set(order[: k + len(truth.features("redundant"))])
    mar = [c for c, spec in truth.missing.items() if spec.mechanism == "MAR"]
    roles = {
        "suppressor_in_top": truth.features("suppressor"),
        "high_cardinality_in_top": truth.features("high_cardinality_noise"),
        "interaction_found": truth.features("interaction"),
        "categorical_in_top": truth.categorical,
        "mar_in_top": mar,
    }
    return {
        "precision_at_k": len(signal & set(order[:k])) / k,
        "recall": len(signal & top) / k,
        # A role whose columns were dropped from X scores None, not 0.
        **{key: _share(members, top, X.columns) for key, members in roles.items()},
    }


def run_one(spec, X, y, truth, seed) -> dict:
    params = {"random_state": seed} if "random_state" in spec.parameters() else {}
    start = time.perf_counter()
    try:
        selector = spec.make_selector(**params).fit(X, y)
    except Exception as exc:  # a broken method must not stop the benchmark
        return {
            "error": f"{type(exc).__name__}: {exc}",
            "trace": traceback.format_exc(limit=3),
        }
    seconds = time.perf_counter() - start
    scores = scores_for(X, truth, selector.importances_, seed)
    return {**scores, "seconds": seconds}


def run(sizes, seeds, methods=None, scenarios=None) -> list[dict]:
    specs = [s for s in all_methods() if methods is None or s.name in methods]
    rows = []
    for scenario, config in SCENARIOS.items():
        if scenarios is not None and scenario not in scenarios:
            continue
        for n in sizes:
            for seed in range(seeds):
                X, y, truth = make_ground_truth(n, random_state=seed, **config)
                for spec in specs:
                    if not spec.supports("classification") or n > MAX_SAMPLES.get(
                        spec.name, n
                    ):
                        continue
                    row = {
                        "scenario": scenario,
                        "n": n,
                        "seed": seed,
                        "method": spec.name,
                        **run_one(spec, X, y, truth, seed),
                    }
                    rows.append(row)
                    print(_line(row), flush=True)
    return rows


def onehot_workaround(X: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """``X`` encoded as users did before featimp read mixed tables, and the
    index of the original column of each encoded column."""
    numeric = set(X.select_dtypes("number").columns)
    text = make_pipeline(
        SimpleImputer(strategy="most_frequent"),
        OneHotEncoder(handle_unknown="ignore", sparse_output=False),
    )
    median = SimpleImputer(strategy="median")
    # One transformer per column, named after it, to map dummies back.
    transformer = ColumnTransformer(
        [(c, median if c in numeric else text, [c]) for c in X.columns]
    )
    values = transformer.fit_transform(X)
    groups = np.empty(values.shape[1], dtype=np.intp)
    for j, column in enumerate(X.columns):
        groups[transformer.output_indices_[column]] = j
    return values, groups


def dummy_scores(truth, columns, groups, importances, seed) -> dict:
    """The per-dummy view: which original columns the top-k dummies are from."""
    signal = set(truth.signal)
    k = len(signal)
    owners = np.asarray(columns)[groups[_ranking(importances, seed)[:k]]]
    return {
        "dummies_true_at_k": float(np.mean([o in signal for o in owners])),
        "features_in_top_dummies": len(signal & set(owners)) / k,
    }


def scale_bias_one(spec, X, y, truth, seed, variant) -> dict:
    """One variant of ``spec`` (EC-FS or Inf-FS) on one mixed dataset."""
    start = time.perf_counter()
    if variant == "before":
        values, groups = onehot_workaround(X)
        dummies = spec.make_selector(standardize=False).fit(values, y).importances_
        importances = np.full(X.shape[1], -np.inf)
        np.maximum.at(importances, groups, dummies)
        extra = dummy_scores(truth, X.columns, groups, dummies, seed)
    else:
        params = {"standardize": False} if variant.endswith("=False") else {}
        importances = spec.make_selector(**params).fit(X, y).importances_
        extra = {}
    seconds = time.perf_counter() - start
    return {**scores_for(X, truth, importances, seed), **extra, "seconds": seconds}


def run_scale_bias(sizes, seeds) -> list[dict]:
    rows = []
    for n in sizes:
        for seed in range(seeds):
            X, y, truth = make_ground_truth(n, random_state=seed, **SCENARIOS["mixed"])
            tables = dict(
                zip(
                    TABLES,
                    [X, X.drop(columns=truth.features("high_cardinality_noise"))],
                    strict=True,
                )
            )
            for (table, data), name, variant in product(
                tables.items(), SCALE_BIAS_METHODS, VARIANTS
            ):
                row = {
                    "scenario": "mixed",
                    "table": table,
                    "n": n,
                    "seed": seed,
                    "method": name,
                    "variant": variant,
                    **scale_bias_one(get_method(name), data, y, truth, seed, variant),
                }
                rows.append(row)
                print(_line(row), flush=True)
    return rows


def _line(row) -> str:
    head = (
        f"{row['scenario']:<7} n={row['n']:<6} seed={row['seed']} {row['method']:<12}"
    )
    if "variant" in row:
        head += f" [{row['table']}; {row['variant']}]"
    if "error" in row:
        return f"{head} ERROR {row['error'][:100]}"
    return (
        f"{head} P@k={row['precision_at_k']:.2f} recall={row['recall']:.2f} "
        f"{row['seconds']:.1f}s"
    )


def summarise(rows, by=("scenario", "n", "method")) -> pd.DataFrame:
    frame = pd.DataFrame([r for r in rows if "error" not in r])
    columns = [
        c
        for c in [
            *SCORE_COLUMNS,
            "dummies_true_at_k",
            "features_in_top_dummies",
            "seconds",
        ]
        if c in frame
    ]
    return frame.groupby(list(by), sort=False)[columns].mean().reset_index()


def _fmt(v) -> str:
    return "-" if pd.isna(v) else f"{v:.2f}"


def _table(header, rows) -> list[str]:
    return [
        "| " + " | ".join(header) + " |",
        "|" + "---|" * len(header),
        *("| " + " | ".join(cells) + " |" for cells in rows),
    ]


def markdown(summary: pd.DataFrame) -> str:
    lines = []
    for scenario, part in summary.groupby("scenario", sort=False):
        traps = TRAPS[scenario]
        header = ["method", "n", "precision@k", "recall", *traps, "seconds"]
        cells = [
            [
                r["method"],
                f"{r['n']:,}",
                _fmt(r["precision_at_k"]),
                _fmt(r["recall"]),
                *(_fmt(r[t]) for t in traps),
                f"{r['seconds']:.1f}",
            ]
            for _, r in part.sort_values(["n", "method"]).iterrows()
        ]
        lines += [f"### {scenario}", "", *_table(header, cells), ""]
    return "\n".join(lines)


def scale_bias_markdown(summary: pd.DataFrame) -> str:
    """The before/after table of the one-hot scale bias."""
    header = [
        "table",
        "method",
        "n",
        "variant",
        "precision@k",
        "categorical_in_top",
        "mar_in_top",
        "high_cardinality_in_top",
        "top-k dummies true",
        "true features in top-k dummies",
    ]
    rank = {v: i for i, v in enumerate(VARIANTS)}
    ordered = summary.assign(_v=summary["variant"].map(rank)).sort_values(
        ["table", "n", "method", "_v"], kind="stable"
    )
    cells = [
        [
            r["table"],
            r["method"],
            f"{r['n']:,}",
            r["variant"],
            _fmt(r["precision_at_k"]),
            _fmt(r["categorical_in_top"]),
            _fmt(r["mar_in_top"]),
            _fmt(r["high_cardinality_in_top"]),
            _fmt(r["dummies_true_at_k"]),
            _fmt(r["features_in_top_dummies"]),
        ]
        for _, r in ordered.iterrows()
    ]
    intro = (
        "Mixed scenario, as generated and without its 2 high-cardinality "
        "noise columns. `before`: imputers + OneHotEncoder in front of "
        "the selector, raw standard deviations; its column precision@k "
        "ranks each column by its best dummy. The last two columns are "
        "the per-dummy view: the share of the top-k dummies that belong "
        "to true features, and the distinct true features they cover / k."
    )
    return "\n".join(
        [
            "### one-hot scale bias: before vs after",
            "",
            intro,
            "",
            *_table(header, cells),
            "",
        ]
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 20000])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--methods", nargs="+", help="default: every registered one")
    parser.add_argument(
        "--scenarios", nargs="+", choices=list(SCENARIOS), help="default: all"
    )
    parser.add_argument("--output", default="ground_truth")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    rows = run(args.sizes, args.seeds, args.methods, args.scenarios)
    bias_rows = (
        []
        if args.scenarios and "mixed" not in args.scenarios
        else run_scale_bias(args.sizes, args.seeds)
    )
    summary = summarise(rows)
    report = markdown(summary)
    meta = {
        "sizes": args.sizes,
        "seeds": args.seeds,
        "scenarios": SCENARIOS,
        "max_samples": MAX_SAMPLES,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    payload = {"meta": meta, "summary": summary.to_dict(orient="records"), "runs": rows}
    if bias_rows:
        bias = summarise(bias_rows, by=("table", "n", "method", "variant"))
        report += "\n" + scale_bias_markdown(bias)
        payload["scale_bias"] = {
            "summary": bias.to_dict(orient="records"),
            "runs": bias_rows,
        }
    meta["total_seconds"] = time.perf_counter() - start
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.output}.json").write_text(json.dumps(payload, indent=2))
    (RESULTS / f"{args.output}.md").write_text(report)
    print(report)


if __name__ == "__main__":
    main()
