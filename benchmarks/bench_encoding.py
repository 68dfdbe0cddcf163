"""What the encoding layer costs: every method on raw German credit against
the same method on a pre-encoded all-numeric table.

Run: ``python benchmarks/bench_encoding.py`` (``--methods mi lasso`` for a
subset; ``--repeats``, ``--budget``, ``--threads``). Writes
``benchmarks/results/encoding.json``. Target (the issue): encoding adds at
most 20 % to a method's fit, i.e. raw / pre-encoded <= 1.20.

The raw table is :func:`featimp.datasets.load_german_credit` as loaded: 1,000
rows, 13 text columns and 7 integer ones, no missing values. Each method is
fitted (``spec.make_selector(**params).fit(X, y)``) on it and on a
pre-encoded table that carries the same information, built once, outside the
timings, by :func:`featimp._encoding.encode_table`:

``"codes"`` methods (mi, mrmr, shap, permutation, gain, consensus)
    A float64 frame with the 20 original columns: the integer columns as
    they are, each text column as its category codes ``0 .. k-1``. The
    methods are told which columns are categories wherever they have a
    parameter for it, so that they do the same work as on the raw table:
    shap and gain get an ``XGBClassifier`` with the registry's defaults and
    ``feature_types`` marking the categories (what the raw fit builds);
    permutation a ``HistGradientBoostingClassifier(max_iter=100)`` with
    ``categorical_features`` set as the raw fit sets it. mi and mrmr keep
    their default ``discrete_features="auto"`` on both sides, which marks
    the integer-valued columns discrete: on the pre-encoded frame that is
    every column, the mask the raw fit builds (the same check, plus its
    categorical columns); an explicit mask would spare only the pre-encoded
    fit that check. permutation and consensus get the codes as a float64
    *array*, not a frame: with an estimator of the user's, a frame is handed
    to the model as a frame (by design), which would make the pre-encoded
    fit do more work; their pre-encoded fits also run on the one OpenMP
    thread that the raw fit gives its default model. consensus is run with
    the members ``mi, mrmr, permutation``, each with the hints above: its
    default members include lasso, which reads one-hot columns, and no one
    table is the pre-encoded input of both families.
``"onehot"`` methods (ecfs, inffs, lasso, svm_rfe, kan, responsiveness)
    The 61-column float64 frame of the one-hot encoding: the integer columns
    as they are and one 0/1 column per category (German credit has no
    missing values, so no indicators). Both fits see the same 61 columns;
    the raw one maps the 61 scores back to 20. ecfs and inffs get
    ``standardize=True``, which their default ``"auto"`` picks for the raw
    table. responsiveness gets, as ``action_set``, the action set it infers
    from the raw table (the same features, bounds and one-hot constraints)
    without its raw columns; the raw fit infers it inside the fit, so that
    inference counts against the raw side.

Parameters shared by both fits: ``random_state=0`` wherever there is one and
the registry defaults, except for the slow kan (``cv=2, n_seeds=1,
max_iter=20``: 2 networks instead of 15, same architecture and encoding);
consensus has no bootstrap (its default). "same" says whether the two fits
gave the same importances (the pre-encoded ones mapped back by the method's
rule), which shows that they did the same work; lasso maps coefficients back
by their effect on the predictor, not by a rule, so it has no check.

Timings are the best of several interleaved runs (raw and pre-encoded
alternate, and which goes first alternates), at least ``--repeats`` of each
and more for fast methods, up to ``--budget`` seconds per method, after one
untimed warm-up of each: on a shared 2-core machine absolute times are
noisy, the ratio is what counts. Both fits run with the BLAS and OpenMP
thread pools limited to ``--threads`` (default 1, through threadpoolctl):
on this machine two BLAS threads made small fits vary several-fold
(responsiveness: 60 to 190 ms a fit, against 60 to 76 ms on one thread),
and the encoding layer runs on one thread whatever the setting. Each run
also records its CPU time (``time.process_time``, all threads of the
process): other jobs on the machine inflate wall time much more than CPU
time, so "cpu ratio" is the check to read when the recorded load average is
high; on a quiet machine the two agree. "median" is the ratio of the median
times, a check on the best-of ratio when a method's own run time varies.

"encode s" is the time spent in the encoding layer within the fastest raw
fit (``encode_table``, the aggregation back to the columns, and for
consensus and responsiveness the column checks and the re-encoding of rows
they do), "share" that time over the raw fit, and "pre enc s" the same
layer's time in the pre-encoded fit (which still inspects its numeric
columns): the ratio's excess over 1 is about their difference over the
pre-encoded fit.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # so a checkout runs without installing

import _environment  # noqa: E402  (benchmarks/_environment.py, beside this script)

from featimp import _consensus, _encoding, _validation  # noqa: E402
from featimp.baselines._common import (  # noqa: E402
    _HGB_MAX_CATEGORIES,
    BOOSTER_DEFAULTS,
)
from featimp.datasets import load_german_credit  # noqa: E402
from featimp.methods import all_methods  # noqa: E402
from featimp.recourse import ActionSet  # noqa: E402
from featimp.recourse._raw import RawEncoding  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "encoding.json"
LIMIT = 1.20
SEED = 0
#: Most timed runs of each side, however fast the method.
MAX_REPEATS = 200


@dataclass(frozen=True)
class Case:
    """How one method is benchmarked."""

    encoding: str
    #: Parameters of both fits (``random_state`` is added where it exists).
    params: dict = field(default_factory=dict)
    #: How pre-encoded scores map back to the columns, for the "same" check.
    rule: str | None = None
    #: Pre-encoded input as an array rather than a frame (see the docstring).
    array: bool = False
    #: Run the pre-encoded fit on one OpenMP thread, as the raw fit does.
    one_thread: bool = False


CASES = {
    "mi": Case("codes"),
    "mrmr": Case("codes"),
    "ecfs": Case("onehot", rule="max"),
    "inffs": Case("onehot", rule="max"),
    "shap": Case("codes"),
    "permutation": Case("codes", array=True, one_thread=True),
    "gain": Case("codes"),
    "lasso": Case("onehot"),
    "svm_rfe": Case("onehot", rule="max"),
    "consensus": Case("codes", array=True, one_thread=True),
    "responsiveness": Case("onehot", rule="max"),
    "kan": Case("onehot", params={"cv": 2, "n_seeds": 1, "max_iter": 20}, rule="sum"),
}
CONSENSUS_MEMBERS = ("mi", "mrmr", "permutation")


def hints(name: str, codes) -> dict:
    """Parameters that tell a codes-family method which columns are categories."""
    mask = codes.categorical
    if name in ("shap", "gain"):
        from xgboost import XGBClassifier

        types = ["c" if c else "q" for c in mask]
        return {
            "estimator": XGBClassifier(
                **BOOSTER_DEFAULTS["xgboost"],
                enable_categorical=True,
                feature_types=types,
            )
        }
    if name == "permutation":
        sizes = np.array([len(codes.columns[g].categories) for g in codes.groups])
        return {
            "estimator": HistGradientBoostingClassifier(
                max_iter=100, categorical_features=mask & (sizes <= _HGB_MAX_CATEGORIES)
            )
        }
    return {}


def pre_params(name: str, X) -> dict:
    """Extra parameters of the pre-encoded fit (see the module docstring)."""
    codes = _encoding.encode_table(X, "codes")
    if name == "consensus":
        return {"methods": [(m, hints(m, codes)) for m in CONSENSUS_MEMBERS]}
    if name in ("ecfs", "inffs"):
        return {"standardize": True}
    if name == "responsiveness":
        plain = ActionSet.from_data(X).to_dict()
        plain.pop("raw_columns")
        return {"action_set": ActionSet.from_dict(plain)}
    return hints(name, codes)


def pre_encoded(case: Case, X):
    """The pre-encoded table of ``X`` for ``case``, and its EncodedTable."""
    table = _encoding.encode_table(X, case.encoding)
    if case.array:
        return table.values.copy(), table
    names = table.names if case.encoding == "codes" else table.encoded_names
    return pd.DataFrame(table.values, columns=names), table


def base_params(spec, case: Case) -> dict:
    params = dict(case.params)
    if spec.name == "consensus":
        params["methods"] = list(CONSENSUS_MEMBERS)
    if "random_state" in spec.parameters():
        params["random_state"] = SEED
    return params


class EncodingClock:
    """Wall time spent in the encoding layer while it is installed.

    Wraps the layer's entry points where the methods look them up; calls
    made from inside another wrapped call are not counted twice.
    """

    TARGETS = (
        (_validation, "encode_table"),
        (_consensus, "unusable_columns"),
        (_encoding.EncodedTable, "aggregate"),
        (RawEncoding, "encode"),
        (RawEncoding, "aggregate_rows"),
    )

    def __init__(self):
        self.seconds = 0.0
        self._depth = 0

    def _wrap(self, function):
        def timed(*args, **kwargs):
            self._depth += 1
            start = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self.seconds += time.perf_counter() - start

        return timed

    @contextmanager
    def installed(self):
        with ExitStack() as stack:
            for owner, name in self.TARGETS:
                original = getattr(owner, name)
                stack.enter_context(
                    mock.patch.object(owner, name, self._wrap(original))
                )
            yield self


def timed_fit(spec, params: dict, X, y, *, threads: int | None, one_thread: bool):
    """(wall seconds, CPU seconds, encoding-layer seconds, importances)."""
    selector = spec.make_selector(**params)
    clock = EncodingClock()
    with ExitStack() as stack:
        stack.enter_context(clock.installed())
        if threads is not None:
            stack.enter_context(threadpool_limits(limits=threads))
        if one_thread:
            stack.enter_context(threadpool_limits(limits=1, user_api="openmp"))
        wall, cpu = time.perf_counter(), time.process_time()
        selector.fit(X, y)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return wall, cpu, clock.seconds, selector.importances_


def n_repeats(warm_up_seconds: float, repeats: int, budget: float) -> int:
    """At least ``repeats``; more for fast methods, within ``budget`` seconds."""
    affordable = int(budget / max(warm_up_seconds, 1e-6))
    return max(repeats, min(affordable, MAX_REPEATS))


def interleaved(runs: dict, count: int) -> dict:
    """``count`` timed runs of each side, alternating which goes first."""
    timings = {"raw": [], "pre": []}
    for i in range(count):
        for side in ("raw", "pre") if i % 2 == 0 else ("pre", "raw"):
            timings[side].append(runs[side]()[:3])
    return timings


def summary(timings: dict) -> dict:
    """Best wall and CPU times of each side, their ratios and the encoding
    time within the fastest raw fit."""
    wall, cpu, encode = (
        {side: [t[k] for t in runs] for side, runs in timings.items()} for k in range(3)
    )
    fastest = int(np.argmin(wall["raw"]))
    raw_s, pre_s = min(wall["raw"]), min(wall["pre"])
    cpu_ratio = min(cpu["raw"]) / min(cpu["pre"])
    return {
        "raw_seconds": raw_s,
        "pre_encoded_seconds": pre_s,
        "ratio": raw_s / pre_s,
        "within_limit": bool(raw_s / pre_s <= LIMIT),
        "raw_cpu_seconds": min(cpu["raw"]),
        "pre_encoded_cpu_seconds": min(cpu["pre"]),
        "cpu_ratio": cpu_ratio,
        "cpu_within_limit": bool(cpu_ratio <= LIMIT),
        "median_ratio": float(np.median(wall["raw"]) / np.median(wall["pre"])),
        "encode_seconds": encode["raw"][fastest],
        "encode_share": encode["raw"][fastest] / raw_s,
        "pre_encoded_encode_seconds": min(encode["pre"]),
        "raw_times": wall["raw"],
        "pre_encoded_times": wall["pre"],
        "raw_cpu_times": cpu["raw"],
        "pre_encoded_cpu_times": cpu["pre"],
    }


def bench_method(spec, X, y, args) -> dict:
    case = CASES[spec.name]
    raw_params = base_params(spec, case)
    pre_X, table = pre_encoded(case, X)
    pre = {**raw_params, **pre_params(spec.name, X)}
    threads = args.threads or None
    runs = {
        "raw": lambda: timed_fit(
            spec, raw_params, X, y, threads=threads, one_thread=False
        ),
        "pre": lambda: timed_fit(
            spec, pre, pre_X, y, threads=threads, one_thread=case.one_thread
        ),
    }
    warm = {side: run() for side, run in runs.items()}
    count = n_repeats(warm["raw"][0] + warm["pre"][0], args.repeats, args.budget)
    return {
        "encoding": case.encoding,
        "params": _jsonable(raw_params),
        "pre_encoded_params": _jsonable(pre),
        "pre_encoded_input": (
            f"{'array' if case.array else 'frame'} {pre_X.shape[0]} x "
            f"{pre_X.shape[1]} float64"
        ),
        "pre_encoded_one_openmp_thread": case.one_thread,
        "repeats": count,
        "same_importances": same_importances(case, table, warm),
        **summary(interleaved(runs, count)),
    }


def same_importances(case: Case, table, warm) -> bool | None:
    raw, pre = warm["raw"][3], warm["pre"][3]
    if case.encoding == "onehot":
        if case.rule is None:
            return None
        pre = table.aggregate(pre, case.rule)
    return bool(np.allclose(raw, pre, rtol=1e-9, atol=1e-12))


def _jsonable(params: dict) -> dict:
    out = {}
    for key, value in params.items():
        if isinstance(value, np.ndarray):
            value = value.tolist()
        try:
            json.dumps(value)
        except TypeError:
            value = repr(value)
        out[key] = value
    return out


def environment() -> dict:
    return _environment.environment("xgboost", "shap", "torch")


def report(results: dict) -> None:
    print(
        f"{'method':<15}{'raw s':>9}{'pre s':>9}{'ratio':>7}  {'<=' + str(LIMIT):<6}"
        f"{'cpu ratio':>10}{'median':>7}{'encode s':>9}{'share':>7}{'pre enc s':>10}"
        "  same  runs"
    )
    for name, r in results["methods"].items():
        same = {True: "yes", False: "NO", None: "n/a"}[r["same_importances"]]
        print(
            f"{name:<15}{r['raw_seconds']:9.4f}{r['pre_encoded_seconds']:9.4f}"
            f"{r['ratio']:7.3f}  {'yes' if r['within_limit'] else 'NO':<6}"
            f"{r['cpu_ratio']:10.3f}{r['median_ratio']:7.3f}"
            f"{r['encode_seconds']:9.4f}{r['encode_share']:7.1%}"
            f"{r['pre_encoded_encode_seconds']:10.4f}  {same:<4}{r['repeats']:6d}"
        )


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--methods", nargs="+", choices=list(CASES), default=list(CASES)
    )
    parser.add_argument(
        "--repeats", type=int, default=7, help="fewest timed runs of each side"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=4.0,
        help="seconds per method for more runs of fast methods",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="BLAS/OpenMP threads of both fits (0: no limit)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    X, y = load_german_credit()
    specs = [s for s in all_methods() if s.name in args.methods]
    missing = sorted(set(CASES) - {s.name for s in all_methods()})
    if missing:
        raise SystemExit(f"methods not in the registry: {missing}")
    env = environment()  # the load average before the runs
    results = {
        "benchmark": "encoding",
        "data": {
            "dataset": "german_credit",
            "shape": list(X.shape),
            "text_columns": int(sum(X[c].dtype.kind not in "biuf" for c in X.columns)),
        },
        "limit": LIMIT,
        "min_repeats": args.repeats,
        "budget_seconds": args.budget,
        "blas_openmp_threads": args.threads or None,
        "methods": {s.name: bench_method(s, X, y, args) for s in specs},
        **env,
    }
    env["machine"]["load_average_1_5_15_min_at_end"] = list(os.getloadavg())
    for key in ("within_limit", "cpu_within_limit"):
        results[f"all_{key}"] = all(r[key] for r in results["methods"].values())
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    report(results)
    print(f"wrote {args.output}")
    return results


if __name__ == "__main__":
    main()
