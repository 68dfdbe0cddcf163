"""Responsiveness scores from reachml, for comparison with featimp.

Runs in a side environment that has reachml (not featimp):

    python -m venv /tmp/reachml-venv
    /tmp/reachml-venv/bin/pip install reachml scipy scikit-learn cplex
    /tmp/reachml-venv/bin/python benchmarks/reachml_reference.py IN.json OUT.json

IN.json (written by bench_responsiveness.py) holds the data, the linear
model's coefficients, the action set name and the rows to score. OUT.json
gets, per row, reachml's own enumerate-mode scores ("raw"), the scores of
reachml's interventions filtered by the paper's fewest-changes rule
("paper_rule"), and the seconds reachml spent.
"""

import json
import sys
import time
from importlib.metadata import version

import numpy as np
import pandas as pd
from reachml import ActionSet
from reachml.constraints import DirectionalLinkage, ThermometerEncoding
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
    parts = ("Age", "Job_is", "Housing_is_", "CreditAmt_geq_", "LoanDuration_",
             "LoanRate")
    immutable = [n for n in names if any(p in n for p in parts)] + [
        "Male", "Single", "ForeignWorker", "LiablePersons", "NoCreditHistory",
        "HistoryOfLatePayments", "HistoryOfDelinquency", "LoanRequiredForCar",
        "LoanRequiredForHome", "LoanRequiredForEducation",
        "LoanRequiredForBusiness"]
    A[immutable].actionable = False
    A["YearsAtResidence"].lb = 0
    A["YearsAtResidence"].ub = 7
    A["YearsAtResidence"].step_ub = 2
    up = [n for n in names if "Age" in n] + [
        "YearsAtResidence", "HasGuarantor", "HistoryOfBankInstallments",
        "HistoryOfStoreInstallments"]
    up += [n for n in names if n.startswith(("YearsEmployed_", "SavingsAcct_",
                                             "CheckingAcct_"))]
    A[up].step_direction = 1
    A.constraints.add(constraint=DirectionalLinkage(
        names=["YearsAtResidence", "Age"], scales=[1, 1]))
    A.constraints.add(constraint=DirectionalLinkage(
        names=["YearsEmployed_geq_1", "Age"], scales=[1, 1]))
    for prefix in ("CheckingAcct_", "SavingsAcct_"):
        A.constraints.add(constraint=ThermometerEncoding(
            names=[n for n in names if n.startswith(prefix)], step_direction=1))
    return A


def taiwan(X):
    A = ActionSet(X)
    fixed = [n for n in X.columns if n.startswith("Age_")] + [
        "Married", "Single", "TotalOverdueCounts", "TotalMonthsOverdue",
        "HistoryOfOverduePayments"]
    A[fixed].actionable = False
    A["EducationLevel"].step_direction = 1
    return A


def fewest_changes(actions, j):
    """Per new value of feature j, the actions changing fewest features."""
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
    json.dump({"columns": spec["columns"], "rows": rows, "raw": raw.tolist(),
               "paper_rule": paper.tolist(), "seconds": seconds,
               "n_raw": n_raw.astype(int).tolist(),
               "n_paper_rule": n_paper.astype(int).tolist(),
               "reachml_version": version("reachml")},
              open(path_out, "w"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
