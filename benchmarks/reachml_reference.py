"""Responsiveness scores from reachml, for comparison with featimp.

Runs in a side environment that has reachml (not featimp). reachml 0.2.0a1
does not declare scipy, scikit-learn or cplex:

    python -m venv /tmp/reachml-venv
    /tmp/reachml-venv/bin/pip install reachml scipy scikit-learn cplex pandas

Two modes, each driven by a featimp-side script that writes IN.json:

    python benchmarks/reachml_reference.py IN.json OUT.json
        (from bench_responsiveness.py) IN.json holds the data, the linear
        model's coefficients, the action set name and the rows to score.
        OUT.json gets, per row, reachml's own enumerate-mode scores ("raw"),
        the scores of those interventions filtered by featimp's
        ``rule="per_value"`` (fewest changes per new value of the feature;
        stored as "paper_rule", its historical name), and the seconds
        reachml spent.

    python benchmarks/reachml_reference.py --cases IN.json OUT.json
        (from reachml_rule_cases.py) IN.json holds hand-built action sets in
        featimp's ``ActionSet.to_dict`` form (or "german"), people and linear
        models. OUT.json gets reachml's joint reachable set of each person,
        the per-feature sets of reachml's marginal filter
        (``EnumeratingScorer._filter_1D``, the code behind the paper's
        experiments) and their scores: what featimp's ``rule="reference"``
        must reproduce.
"""

import json
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

import numpy as np
import pandas as pd
from reachml import ActionSet, ReachableSetDatabase
from reachml.constraints import (
    DirectionalLinkage,
    OneHotEncoding,
    ThermometerEncoding,
)
from reachml.scoring import ResponsivenessScorer


class LinearModel:
    def __init__(self, coef, intercept):
        self.coef = np.asarray(coef, dtype=float)
        self.intercept = float(intercept)

    def predict(self, X):
        X = np.atleast_2d(np.asarray(X, dtype=float))
        return (X @ self.coef + self.intercept > 0).astype(int)


def german(X):
    A = ActionSet(X)
    names = list(X.columns)
    parts = (
        "Age",
        "Job_is",
        "Housing_is_",
        "CreditAmt_geq_",
        "LoanDuration_",
        "LoanRate",
    )
    immutable = [n for n in names if any(p in n for p in parts)] + [
        "Male",
        "Single",
        "ForeignWorker",
        "LiablePersons",
        "NoCreditHistory",
        "HistoryOfLatePayments",
        "HistoryOfDelinquency",
        "LoanRequiredForCar",
        "LoanRequiredForHome",
        "LoanRequiredForEducation",
        "LoanRequiredForBusiness",
    ]
    A[immutable].actionable = False
    A["YearsAtResidence"].lb = 0
    A["YearsAtResidence"].ub = 7
    A["YearsAtResidence"].step_ub = 2
    up = [n for n in names if "Age" in n] + [
        "YearsAtResidence",
        "HasGuarantor",
        "HistoryOfBankInstallments",
        "HistoryOfStoreInstallments",
    ]
    up += [
        n
        for n in names
        if n.startswith(("YearsEmployed_", "SavingsAcct_", "CheckingAcct_"))
    ]
    A[up].step_direction = 1
    A.constraints.add(
        constraint=DirectionalLinkage(names=["YearsAtResidence", "Age"], scales=[1, 1])
    )
    A.constraints.add(
        constraint=DirectionalLinkage(
            names=["YearsEmployed_geq_1", "Age"], scales=[1, 1]
        )
    )
    for prefix in ("CheckingAcct_", "SavingsAcct_"):
        A.constraints.add(
            constraint=ThermometerEncoding(
                names=[n for n in names if n.startswith(prefix)], step_direction=1
            )
        )
    return A


def taiwan(X):
    A = ActionSet(X)
    fixed = [n for n in X.columns if n.startswith("Age_")] + [
        "Married",
        "Single",
        "TotalOverdueCounts",
        "TotalMonthsOverdue",
        "HistoryOfOverduePayments",
    ]
    A[fixed].actionable = False
    A["EducationLevel"].step_direction = 1
    return A


def fewest_changes(actions, j):
    """featimp's rule="per_value" on reachml's interventions: per new value
    of feature j, the actions changing the fewest features."""
    if actions.size == 0:
        return actions
    support = np.count_nonzero(actions, axis=1)
    keep = np.zeros(len(actions), dtype=bool)
    for value in np.unique(actions[:, j]):
        same = actions[:, j] == value
        keep |= same & (support == support[same].min())
    return actions[keep]


def main(path_in, path_out):
    spec = json.load(open(path_in))
    X = pd.DataFrame(spec["X"], columns=spec["columns"])
    A = {"german": german, "taiwan": taiwan}[spec["action_set"]](X)
    model = LinearModel(spec["coef"], spec["intercept"])
    rows = spec["rows"]
    values = X.to_numpy(dtype=float)
    scorer = ResponsivenessScorer(A, method="enumerate")
    start = time.perf_counter()
    raw = np.vstack([scorer.score(values[i], model.predict, target=1) for i in rows])
    seconds = time.perf_counter() - start
    paper = np.zeros_like(raw)
    n_raw, n_paper = np.zeros_like(raw), np.zeros_like(raw)
    for r, i in enumerate(rows):
        inter = scorer.inter[scorer._get_inter_key(values[i])]
        for j, actions in inter.items():
            actions = np.asarray(actions)
            kept = fewest_changes(actions, j)
            n_raw[r, j] = len(actions) if actions.size else 0
            n_paper[r, j] = len(kept) if kept.size else 0
            if kept.size:
                paper[r, j] = np.mean(model.predict(values[i] + kept) == 1)
    json.dump(
        {
            "columns": spec["columns"],
            "rows": rows,
            "raw": raw.tolist(),
            "paper_rule": paper.tolist(),
            "seconds": seconds,
            "n_raw": n_raw.astype(int).tolist(),
            "n_paper_rule": n_paper.astype(int).tolist(),
            "reachml_version": version("reachml"),
        },
        open(path_out, "w"),
    )


def from_featimp(spec, X):
    """reachml's ActionSet for featimp's ``ActionSet.to_dict()`` output.

    Only what both libraries mean the same way: bounds, steps, directions,
    one-hot, thermometer and directional-linkage constraints. (reachml's
    IfThen acts on changes rather than values, and its ordinal encoding
    orders levels differently, so cases do not use them.)
    """
    A = ActionSet(X)
    types = {"bool": bool, "int": int, "float": float}
    for f in spec["features"]:
        e = A[f["name"]]
        if e.variable_type is not types[f["kind"]]:
            raise ValueError(
                f"{f['name']}: reachml infers {e.variable_type}, "
                f"featimp says {f['kind']}; widen the data"
            )
        for key in ("lb", "ub", "step_lb", "step_ub"):
            if f[key] is not None:
                setattr(e, key, f[key])
        e.actionable = f["actionable"]
        e.step_direction = f["step_direction"]
    for c in spec["constraints"]:
        if c["kind"] == "onehot":
            con = OneHotEncoding(names=c["names"], limit_type=c["limit_type"])
        elif c["kind"] == "thermometer":
            con = ThermometerEncoding(
                names=c["names"], step_direction=c["step_direction"]
            )
        elif c["kind"] == "linkage":
            con = DirectionalLinkage(
                names=c["names"], scales=[1, *c["scales"]], keep_bounds=c["keep_bounds"]
            )
        else:
            raise ValueError(f"constraint kind {c['kind']!r} is not portable")
        A.constraints.add(constraint=con)
    return A


def marginal_filter(A, people):
    """Per person: reachml's joint reachable set (as changes) and, per
    actionable feature, the changes its marginal filter keeps."""
    with tempfile.TemporaryDirectory() as tmp:
        db = ReachableSetDatabase(A, path=Path(tmp) / "reach.h5")
        db.generate(people)
        scorer = ResponsivenessScorer(A, db=db)
        assert scorer.method == "filter"
        # 0.2.0a1 renamed the attribute to `db` in __init__ but _filter_1D
        # still reads `reach_db`, so the filter (the paper scripts' path,
        # ResponsivenessScorer(action_set, reach_db=db)) fails without this.
        scorer.reach_db = db
        joint, sets = [], []
        for x in people:
            joint.append(db[x].actions)
            scorer.build_inter(x)
            found = scorer.inter[scorer._get_inter_key(x)]
            sets.append(
                {j: np.asarray(a).reshape(-1, len(x)) for j, a in found.items()}
            )
    return joint, sets


def filter_scores(people, sets, model):
    scores = np.zeros_like(people)
    for i, x in enumerate(people):
        for j, a in sets[i].items():
            if len(a):
                scores[i, j] = np.mean(model.predict(x + a) == 1)
    return scores


def _rows(a):
    return sorted(np.asarray(a, dtype=float).tolist())


def case(spec):
    X = pd.DataFrame(spec["X"], columns=spec["columns"])
    if spec["action_set"] == "german":
        A = german(X)
    else:
        A = from_featimp(spec["action_set"], X)
    people = X.to_numpy(dtype=float)[spec["rows"]]
    start = time.perf_counter()
    joint, sets = marginal_filter(A, people)
    out = {
        "name": spec["name"],
        "seconds": time.perf_counter() - start,
        "scores": [
            filter_scores(people, sets, LinearModel(**m)).tolist()
            for m in spec["models"]
        ],
        "n_points": [[len(s[j]) if j in s else 0 for j in range(len(A))] for s in sets],
    }
    if spec.get("keep_sets", True):
        out["joint"] = [_rows(a) for a in joint]
        out["sets"] = [{str(j): _rows(a) for j, a in s.items()} for s in sets]
    return out


def cases(path_in, path_out):
    specs = json.load(open(path_in))
    json.dump(
        {
            "reachml_version": version("reachml"),
            "cases": [case(spec) for spec in specs],
        },
        open(path_out, "w"),
    )


if __name__ == "__main__":
    if sys.argv[1] == "--cases":
        cases(sys.argv[2], sys.argv[3])
    else:
        main(sys.argv[1], sys.argv[2])
