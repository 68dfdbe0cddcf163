"""A credit portfolio end to end: every Taiwan row, a gradient-boosted model.

All 30,000 rows of Taiwan credit, HistGradientBoosting(max_iter=100) and
:func:`featimp.recourse.taiwan_action_set`: explain every row (scores,
fixedness, status), then the principal reasons and the per-applicant
report (``to_json``, and ``write_report``: report.json, index.html and one
page per person), single-process and with ``n_jobs=2`` (the results must be
equal). Side by side, on the first ``--reference-rows`` rows, the same steps
with featimp as it was at ``--reference-commit`` (before the portfolio
work), run from a git worktree in a child process:

    python benchmarks/bench_portfolio.py [--rows 30000] \
        [--reference-commit 503cb2e] [--reference-rows 300]

Writes benchmarks/results/portfolio.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results" / "portfolio.json"
sys.path.insert(0, str(HERE))

from _environment import environment  # noqa: E402

#: The timed steps, run here and, for the reference, in a child process
#: with another featimp on its path.
STEPS = r"""
import json, sys, tempfile, time
from sklearn.ensemble import HistGradientBoostingClassifier
from featimp.datasets._recourse import load_taiwan_recourse
from featimp.recourse import ResponsivenessExplainer, taiwan_action_set

n_rows, n_jobs, write = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "1"
X, y = load_taiwan_recourse()
A = taiwan_action_set(X)
model = HistGradientBoostingClassifier(max_iter=100, random_state=0).fit(X, y)
rows = X.iloc[:n_rows]
seconds = {}
start = time.perf_counter()
result = ResponsivenessExplainer(model, A, random_state=0, n_jobs=n_jobs).explain(rows)
seconds["explain"] = time.perf_counter() - start
start = time.perf_counter()
reasons = result.reasons(k=4)
seconds["reasons"] = time.perf_counter() - start
start = time.perf_counter()
report = result.to_json()
seconds["to_json"] = time.perf_counter() - start
if write:
    with tempfile.TemporaryDirectory() as folder:
        start = time.perf_counter()
        result.write_report(folder)
        seconds["write_report"] = time.perf_counter() - start
print(json.dumps({
    "seconds": seconds,
    "status": result.status.astype(str).value_counts().to_dict(),
    "report": report,
}))
"""


def run_steps(n_rows, n_jobs, *, path=None, write=False) -> dict:
    env = dict(os.environ)
    if path is not None:
        env["PYTHONPATH"] = str(path)
    out = subprocess.run(
        [sys.executable, "-c", STEPS, str(n_rows), str(n_jobs), "1" if write else "0"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=path or ROOT,
    )
    return json.loads(out.stdout)


def reference(commit, n_rows) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        tree = Path(folder) / "ref"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", str(tree), commit],
            check=True,
            capture_output=True,
        )
        try:
            return run_steps(n_rows, 1, path=tree)
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(tree)],
                check=True,
                capture_output=True,
            )


def compare_reports(before: str, after: str) -> tuple[bool, bool, dict]:
    """Whether every person has the same reasons and options; whether every
    person whose status did not change has; and how many changed status
    (``"old -> new": count``; rows the reference left ``not_certified``
    that a joint action decides are ``joint_only`` now)."""
    old, new = json.loads(before)["people"], json.loads(after)["people"]
    if len(old) != len(new):
        return False, False, {}

    def same(a, b):
        return (a["row"], a["reasons"], a["options"]) == (
            b["row"],
            b["reasons"],
            b["options"],
        )

    pairs = list(zip(old, new, strict=True))
    changes: dict = {}
    for a, b in pairs:
        if a["status"] != b["status"]:
            key = f"{a['status']} -> {b['status']}"
            changes[key] = changes.get(key, 0) + 1
    kept = [(a, b) for a, b in pairs if a["status"] == b["status"]]
    return all(same(a, b) for a, b in pairs), all(same(a, b) for a, b in kept), changes


def per_row(run, n_rows, steps) -> float:
    return 1000 * sum(run["seconds"][s] for s in steps) / n_rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=30_000)
    parser.add_argument("--reference-commit", default="503cb2e")
    parser.add_argument("--reference-rows", type=int, default=300)
    args = parser.parse_args(argv)

    steps = ("explain", "reasons", "to_json")
    ref = reference(args.reference_commit, args.reference_rows)
    ours_small = run_steps(args.reference_rows, 1)
    same, same_kept, status_changes = compare_reports(
        ref["report"], ours_small["report"]
    )
    side = {
        "rows": args.reference_rows,
        "reference_commit": args.reference_commit,
        "reference_ms_per_row": per_row(ref, args.reference_rows, steps),
        "featimp_ms_per_row": per_row(ours_small, args.reference_rows, steps),
        "reference_seconds": ref["seconds"],
        "featimp_seconds": ours_small["seconds"],
        "same_reasons_and_options": same,
        "same_where_status_unchanged": same_kept,
        "status_changes": status_changes,
    }
    side["speedup"] = side["reference_ms_per_row"] / side["featimp_ms_per_row"]
    print(
        f"{args.reference_rows} rows, explain + reasons + report: reference "
        f"{side['reference_ms_per_row']:.2f} ms/row, featimp "
        f"{side['featimp_ms_per_row']:.2f} ms/row ({side['speedup']:.0f}x); "
        f"same reasons and options: {same} (where the status is unchanged: "
        f"{same_kept}); status changes {status_changes}"
    )

    portfolio = {}
    for n_jobs in (1, 2):
        run = run_steps(args.rows, n_jobs, write=True)
        portfolio[f"n_jobs={n_jobs}"] = {
            "seconds": run["seconds"],
            "ms_per_row": per_row(run, args.rows, steps),
            "ms_per_row_with_pages": per_row(run, args.rows, (*steps, "write_report")),
            "status": run["status"],
        }
        portfolio[f"n_jobs={n_jobs}"]["_report"] = run["report"]
        print(
            f"{args.rows} rows, n_jobs={n_jobs}: "
            f"{portfolio[f'n_jobs={n_jobs}']['ms_per_row']:.2f} ms/row "
            f"({run['seconds']}); status {run['status']}"
        )
    equal = portfolio["n_jobs=1"].pop("_report") == portfolio["n_jobs=2"].pop("_report")
    print(f"n_jobs=1 and n_jobs=2 give the same report: {equal}")
    results = {
        "environment": environment(),
        "dataset": "taiwan",
        "model": "HistGradientBoosting(max_iter=100, random_state=0)",
        "action_set": "featimp.recourse.taiwan_action_set",
        "rows": args.rows,
        "side_by_side": side,
        "portfolio": portfolio,
        "n_jobs_same_report": equal,
        "target_ms_per_row": 1.0,
    }
    RESULTS.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
