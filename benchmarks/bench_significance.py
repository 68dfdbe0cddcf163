"""Power and false discoveries of SignificanceSelector, BorutaPy and SelectFdr.

Data come from :func:`featimp.datasets.make_ground_truth` (classification),
in four scenarios:

``noise``
    The default table (5 informative, 2 redundant, 10 noise, 2
    high-cardinality noise features, n = 1,000) with ``y`` permuted at
    random, so that no feature is related to it. Every selection is a false
    discovery; the target is a per-feature selection rate of at most alpha.
``planted``
    The default table as generated: the 7 informative and redundant
    features are relevant, the 12 others are not.
``hard``
    n = 300, latent noise 2.0 and 40 noise features: weaker signal, 7
    relevant features among 49.
``xor``
    3 informative features and 2 XOR-like interaction pairs (each member
    independent of y on its own), 10 noise and 1 high-cardinality noise
    feature: 7 relevant among 18, 4 of them visible only jointly.

Relevant = ``truth.signal`` plus the redundant features. For each run:
power = relevant selected / relevant, FDP = false selected / max(selected,
1). Averaged over seeds, FDP estimates the FDR; on ``noise`` it is the share
of runs that select anything.

Methods, all at alpha = 0.1:

- ``featimp mi (permutation)``: ``SignificanceSelector("mi")``, target
  permutation, 199 permutations (the defaults).
- ``featimp rf (shadow)``: ``SignificanceSelector`` around the random
  forest Boruta uses below (100 trees, depth 5), with the defaults: 10
  shadows of each column (``ceil(1 / alpha)``), 5 refits with fresh forest
  seeds.
- ``featimp lasso (shadow)``: ``SignificanceSelector("lasso")``, the same
  defaults.
- ``featimp rf (shadow, 20 refits)``: the same with ``n_refits=20``, to
  show what more refits (Boruta fits 100 forests) buy.
- ``featimp lasso (permutation)``: the lasso with ``null="permutation"``,
  which for a model permutes one column at a time (10 times each, 190 or
  490 refits) and pools the permuted columns' importances. Before, it
  permuted the target, and the lasso's FDR was 0.61 (planted) and 0.82
  (hard) at alpha 0.1: a target permutation tests a model only against
  the global null.
- ``boruta``: ``BorutaPy`` (PyPI ``Boruta``) with the recommended random
  forest (depth 5, ``n_estimators="auto"``), ``max_iter=100``, its default
  two-step correction; confirmed features only. Boruta is not a featimp
  dependency: install it into a side environment with featimp, e.g.
  ``python -m venv /tmp/peers && /tmp/peers/bin/pip install Boruta -e .``.
  Without it the Boruta rows are left out.
- ``SelectFdr f_classif``: scikit-learn's univariate F-test with BH.

``bound`` is BH's guarantee ``alpha * m0 / m`` for valid p-values (PRDS).
A second pass repeats the methods that take under 3 s a run over
``--many-seeds`` seeds, without Boruta (10 s a run).

Run: ``python benchmarks/bench_significance.py [--seeds 10] [--noise-seeds
40] [--many-seeds 100] [--scenarios ...] [--methods ...]``. Writes
``benchmarks/results/significance.json`` and prints the tables.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.ensemble import RandomForestClassifier
from sklearn.feature_selection import SelectFdr, f_classif

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so a checkout runs without installing

import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)

from featimp import SignificanceSelector  # noqa: E402
from featimp.datasets import make_ground_truth  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "significance.json"
ALPHA = 0.1
DEFAULT = {"n_informative": 5, "n_redundant": 2, "n_noise": 10, "n_high_cardinality": 2}
SCENARIOS = {
    "noise": {"n_samples": 1000, **DEFAULT},
    "planted": {"n_samples": 1000, **DEFAULT},
    "hard": {"n_samples": 300, **DEFAULT, "n_noise": 40, "noise": 2.0},
    "xor": {
        "n_samples": 1000,
        "n_informative": 3,
        "n_redundant": 0,
        "n_noise": 10,
        "n_high_cardinality": 1,
        "n_interaction_pairs": 2,
    },
}


def forest() -> RandomForestClassifier:
    """The forest of featimp's shadow test; SignificanceSelector seeds it."""
    return RandomForestClassifier(n_estimators=100, max_depth=5)


def boruta_support(X, y, seed: int) -> np.ndarray:
    from boruta import BorutaPy

    model = RandomForestClassifier(max_depth=5, n_jobs=2, random_state=seed)
    selector = BorutaPy(
        model, n_estimators="auto", alpha=ALPHA, max_iter=100, random_state=seed
    )
    return selector.fit(np.asarray(X, dtype=float), np.asarray(y)).support_


def significance_support(estimator, X, y, seed: int, n_jobs) -> np.ndarray:
    selector = SignificanceSelector(
        estimator, alpha=ALPHA, random_state=seed, n_jobs=n_jobs
    )
    return selector.fit(X, y).get_support()


def select_fdr_support(X, y, seed: int) -> np.ndarray:
    return SelectFdr(f_classif, alpha=ALPHA).fit(X, y).get_support()


#: Each method: (X, y, seed) -> boolean support.
METHODS = {
    # Target permutations of a cheap score run faster in one process.
    "featimp mi (permutation)": lambda X, y, s: significance_support(
        "mi", X, y, s, n_jobs=1
    ),
    "featimp rf (shadow)": lambda X, y, s: significance_support(
        forest(), X, y, s, n_jobs=2
    ),
    "featimp rf (shadow, 20 refits)": lambda X, y, s: (
        SignificanceSelector(
            forest(), alpha=ALPHA, n_refits=20, random_state=s, n_jobs=2
        )
        .fit(X, y)
        .get_support()
    ),
    "featimp lasso (shadow)": lambda X, y, s: significance_support(
        "lasso", X, y, s, n_jobs=2
    ),
    "featimp lasso (permutation)": lambda X, y, s: (
        SignificanceSelector(
            "lasso", alpha=ALPHA, null="permutation", random_state=s, n_jobs=2
        )
        .fit(X, y)
        .get_support()
    ),
    "boruta": boruta_support,
    "SelectFdr f_classif": select_fdr_support,
}


#: Fast enough for the second pass over ``--many-seeds`` seeds, which pins
#: down rates that 10 seeds leave loose (one false feature in 8 is 0.125).
CHEAP = (
    "featimp mi (permutation)",
    "featimp rf (shadow)",
    "featimp lasso (shadow)",
    "SelectFdr f_classif",
)


def has_boruta() -> bool:
    try:
        import boruta  # noqa: F401
    except ImportError:
        return False
    return True


def dataset(scenario: str, seed: int):
    config = dict(SCENARIOS[scenario])
    X, y, truth = make_ground_truth(
        config.pop("n_samples"), random_state=seed, **config
    )
    relevant = set(truth.signal) | set(truth.features("redundant"))
    if scenario == "noise":
        y = y.sample(frac=1.0, random_state=10_000 + seed).reset_index(drop=True)
        relevant = set()
    return X, y, relevant


def bh_bound(scenario: str) -> float | None:
    """``alpha * m0 / m``: the FDR that BH guarantees for valid, PRDS p-values."""
    X, _, relevant = dataset(scenario, 0)
    return ALPHA * (X.shape[1] - len(relevant)) / X.shape[1] if relevant else None


def score(columns, support, relevant) -> dict:
    selected = {c for c, keep in zip(columns, support, strict=True) if keep}
    false = len(selected - relevant)
    return {
        "n_selected": len(selected),
        "power": len(selected & relevant) / len(relevant) if relevant else None,
        "fdp": false / max(len(selected), 1),
        "selection_rate": false / len(columns) if not relevant else None,
        "selected": sorted(selected),
    }


def run(scenarios, methods, seeds: int, noise_seeds: int, quiet=False) -> list:
    rows = []
    for scenario in scenarios:
        for seed in range(noise_seeds if scenario == "noise" else seeds):
            X, y, relevant = dataset(scenario, seed)
            for name in methods:
                start = time.perf_counter()
                support = METHODS[name](X, y, seed)
                row = {
                    "scenario": scenario,
                    "seed": seed,
                    "method": name,
                    "seconds": time.perf_counter() - start,
                    **score(X.columns, support, relevant),
                }
                rows.append(row)
                if not quiet:
                    print(
                        f"{scenario:8} seed={seed:<3} {name:27} "
                        f"selected={row['n_selected']:<3} fdp={row['fdp']:.2f} "
                        f"{row['seconds']:.1f}s",
                        flush=True,
                    )
    return rows


def summarise(rows) -> list[dict]:
    """Means over seeds per scenario and method."""
    summary = []
    keys = dict.fromkeys((r["scenario"], r["method"]) for r in rows)
    for scenario, method in keys:
        group = [r for r in rows if r["scenario"] == scenario and r["method"] == method]
        entry = {
            "scenario": scenario,
            "method": method,
            "runs": len(group),
            "seconds": float(np.mean([r["seconds"] for r in group])),
        }
        if scenario == "noise":
            selected = [set(r["selected"]) for r in group]
            columns = {c for s in selected for c in s}
            entry.update(
                selection_rate=float(np.mean([r["selection_rate"] for r in group])),
                max_feature_rate=max(
                    (sum(c in s for s in selected) / len(group) for c in columns),
                    default=0.0,
                ),
                any_selected=float(np.mean([r["n_selected"] > 0 for r in group])),
            )
        else:
            entry.update(
                power=float(np.mean([r["power"] for r in group])),
                fdr=float(np.mean([r["fdp"] for r in group])),
                fdr_bound=bh_bound(scenario),
                n_selected=float(np.mean([r["n_selected"] for r in group])),
            )
        summary.append(entry)
    return summary


def table(summary) -> str:
    lines = [
        f"{'scenario':9} {'method':27} {'runs':>4} {'power':>6} {'FDR':>6} "
        f"{'bound':>6} {'sel/feat':>8} {'max/feat':>8} {'any':>5} {'s/run':>7}"
    ]

    def cell(value, width):
        return f"{'-':>{width}}" if value is None else f"{value:>{width}.3f}"

    for e in summary:
        lines.append(
            f"{e['scenario']:9} {e['method']:27} {e['runs']:>4} "
            f"{cell(e.get('power'), 6)} {cell(e.get('fdr'), 6)} "
            f"{cell(e.get('fdr_bound'), 6)} "
            f"{cell(e.get('selection_rate'), 8)} {cell(e.get('max_feature_rate'), 8)} "
            f"{cell(e.get('any_selected'), 5)} {e['seconds']:>7.2f}"
        )
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--noise-seeds", type=int, default=40)
    parser.add_argument(
        "--many-seeds",
        type=int,
        default=100,
        help="seeds of the second pass (0 skips it)",
    )
    parser.add_argument(
        "--scenarios", nargs="+", default=list(SCENARIOS), choices=list(SCENARIOS)
    )
    parser.add_argument(
        "--methods", nargs="+", default=list(METHODS), choices=list(METHODS)
    )
    args = parser.parse_args(argv)
    methods = [m for m in args.methods if m != "boruta" or has_boruta()]
    if len(methods) < len(args.methods):
        print("Boruta is not installed: its rows are left out", file=sys.stderr)
    rows = run(args.scenarios, methods, args.seeds, args.noise_seeds)
    summary = summarise(rows)
    cheap = [m for m in methods if m in CHEAP]
    many = (
        summarise(
            run(args.scenarios, cheap, args.many_seeds, args.many_seeds, quiet=True)
        )
        if args.many_seeds and cheap
        else []
    )
    result = {
        "alpha": ALPHA,
        "scenarios": SCENARIOS,
        "summary": summary,
        "summary_many_seeds": many,
        "runs": rows,
        **_environment.environment(),
    }
    # The boruta module has no __version__: ask its distribution.
    result["versions"]["Boruta"] = _version("Boruta") if "boruta" in methods else None
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2))
    print(table(summary))
    if many:
        print(f"\nThe methods under 3 s a run, over {args.many_seeds} seeds:")
        print(table(many))


def _version(distribution: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(distribution)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    main()
