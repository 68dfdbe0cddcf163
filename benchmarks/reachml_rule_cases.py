"""Hand-built cases where featimp's two per-feature rules differ, scored by
reachml's marginal filter, for tests/data/reachml_rule_cases.json.

Each case isolates one of the three places where featimp's
``rule="per_value"`` and reachml's filter (``rule="reference"``) part ways;
"agree" cases and German credit check that the reference rule matches
reachml everywhere else too. reachml needs cplex, so CI only reads the
fixture (tests/test_recourse_rule.py). Regenerate with

    python benchmarks/reachml_rule_cases.py \\
        --reachml-python /tmp/reachml-venv/bin/python

(set that environment up as benchmarks/reachml_reference.py says). The
script prints, per case, the cells where each featimp rule differs from
reachml.
"""

from __future__ import annotations

import argparse
import itertools
import json
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from featimp.datasets._recourse import load_german_recourse
from featimp.recourse import (
    ActionSet,
    DirectionalLinkage,
    OneHotEncoding,
    ThermometerEncoding,
    responsiveness_scores,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent / "tests" / "data"
FIXTURE = DATA / "reachml_rule_cases.json"


def _people(columns, *values):
    """Every combination of the given values, one column each."""
    return pd.DataFrame(list(itertools.product(*values)), columns=columns)


def housing():
    """A one-hot category whose dummy drives a linkage: leaving "rent"
    changes HousingCost, which shares no constraint with "own" or "free"."""
    names = ["own", "rent", "free"]
    rows = [
        dict(zip(names, np.eye(3)[k], strict=True), HousingCost=c, Savings=s)
        for k in range(3)
        for c in (0, 4, 8)
        for s in (0, 3)
    ]
    X = pd.DataFrame(rows)
    A = ActionSet.from_data(X)
    A["HousingCost"].actionable = False
    A.add_constraint(OneHotEncoding(names))
    A.add_constraint(DirectionalLinkage(["rent", "HousingCost"], scales=[4]))
    models = [
        {"coef": [1.0, -1.0, 0.5, -0.25, 0.5], "intercept": -0.45},
        {"coef": [2.0, 0.0, 1.0, -0.5, 0.25], "intercept": -0.05},
    ]
    return ("neighbours", "completion moves a non-neighbour", X, A, models)


def accounts():
    """Opening accounts adds credit lines unless one is closed: +1 account
    can come alone (closing a line), +2 and +3 cannot."""
    X = _people(["Accounts", "CreditLines", "Income"], range(4), range(1, 4), (0, 2))
    A = ActionSet.from_data(X)
    A["Accounts"].step_direction = 1
    # Everyone holds a line they may close, so CreditLines always moves
    # alone (at 0 it would also show the linkage difference).
    A["CreditLines"].lb = 0
    A["CreditLines"].step_lb, A["CreditLines"].step_ub = -1, 0
    A.add_constraint(DirectionalLinkage(["Accounts", "CreditLines"]))
    models = [
        {"coef": [1.0, -0.5, 0.3], "intercept": -2.05},
        {"coef": [0.5, 0.5, 0.5], "intercept": -3.05},
    ]
    return ("per_value", "smallest completion per value vs overall", X, A, models)


def tenure():
    """Years at the job also count as years in the city; the city years
    cannot grow past their bound on their own."""
    X = _people(["JobYears", "CityYears"], (0, 4, 9), range(4))
    A = ActionSet.from_data(X)
    A[["JobYears", "CityYears"]].step_direction = 1
    A["JobYears"].step_ub = 2
    A["CityYears"].step_ub = 1
    A.add_constraint(DirectionalLinkage(["JobYears", "CityYears"]))
    models = [
        {"coef": [0.0, 1.0], "intercept": -3.5},
        {"coef": [0.3, 0.6], "intercept": -3.55},
    ]
    return ("linkage", "change of j caused by another feature's linkage", X, A, models)


def savings():
    """An increasing thermometer beside a one-hot group: the rules agree."""
    levels = ["Savings_geq_0", "Savings_geq_100", "Savings_geq_500"]
    colours = ["red", "green", "blue"]
    rows = [
        dict(
            zip(levels, [1.0] * t + [0.0] * (3 - t), strict=True),
            **dict(zip(colours, np.eye(3)[k], strict=True)),
        )
        for t in range(4)
        for k in range(3)
    ]
    X = pd.DataFrame(rows)
    A = ActionSet.from_data(X)
    A[levels].step_direction = 1
    A.add_constraint(ThermometerEncoding(levels, step_direction=1))
    A.add_constraint(OneHotEncoding(colours))
    models = [{"coef": [0.5, 1.0, 1.0, 0.0, 0.4, 1.0], "intercept": -2.05}]
    return ("agree", "thermometer and one-hot; no difference", X, A, models)


CASES = (housing, accounts, tenure, savings)


def case_specs():
    specs = []
    for make in CASES:
        difference, description, X, A, models = make()
        specs.append(
            {
                "name": make.__name__,
                "difference": difference,
                "description": description,
                "action_set": A.to_dict(),
                "columns": list(X.columns),
                "X": X.to_numpy(float).tolist(),
                "rows": list(range(len(X))),
                "models": models,
            }
        )
    return specs


def german_spec():
    """Every denied person of the committed German fixture, same model."""
    X, _ = load_german_recourse()
    ref = json.loads((DATA / "german_reachml_reference.json").read_text())
    return {
        "name": "german",
        "difference": "none",
        "description": "the paper's German credit action set",
        "action_set": "german",
        "columns": list(X.columns),
        "X": X.to_numpy(float).tolist(),
        "rows": ref["rows"],
        "models": [{"coef": ref["coef"], "intercept": ref["intercept"]}],
        "keep_sets": False,
    }


def run_reachml(python, specs):
    with tempfile.TemporaryDirectory() as tmp:
        path_in, path_out = Path(tmp) / "in.json", Path(tmp) / "out.json"
        path_in.write_text(json.dumps(specs))
        subprocess.run(
            [
                python,
                str(HERE / "reachml_reference.py"),
                "--cases",
                str(path_in),
                str(path_out),
            ],
            check=True,
        )
        return json.loads(path_out.read_text())


def linear(model):
    clf = LogisticRegression()
    clf.coef_ = np.array([model["coef"]])
    clf.intercept_ = np.array([model["intercept"]])
    clf.classes_ = np.array([0, 1])
    return clf


def report(spec, result):
    """Cells where each featimp rule differs from reachml's scores."""
    if spec["action_set"] == "german":
        from featimp.recourse import german_action_set

        X, _ = load_german_recourse()
        A = german_action_set(X)
        people = X.iloc[spec["rows"]]
    else:
        A = ActionSet.from_dict(spec["action_set"])
        people = pd.DataFrame(spec["X"], columns=spec["columns"])
    line = {"case": spec["name"]}
    for rule in ("per_value", "reference"):
        differ = sum(
            int(
                (
                    responsiveness_scores(linear(m), people, A, rule=rule)
                    != np.array(ref)
                ).sum()
            )
            for m, ref in zip(spec["models"], result["scores"], strict=True)
        )
        line[rule] = differ
    line["cells"] = len(spec["models"]) * len(people) * len(A)
    return line


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--reachml-python", default="/tmp/reachml-venv/bin/python")
    args = parser.parse_args(argv)
    specs = [*case_specs(), german_spec()]
    out = run_reachml(args.reachml_python, specs)
    fixture = {
        "note": "reachml's marginal filter (EnumeratingScorer._filter_1D) on "
        "hand-built action sets and German credit; written by "
        "benchmarks/reachml_rule_cases.py",
        "reachml_version": out["reachml_version"],
        "cases": [],
    }
    for spec, result in zip(specs, out["cases"], strict=True):
        print(json.dumps(report(spec, result)))
        if spec["action_set"] == "german":
            # The German data and model are in german_reachml_reference.json.
            spec = {k: spec[k] for k in ("name", "difference", "description", "rows")}
        # Timings would make every regeneration a diff.
        result.pop("seconds")
        fixture["cases"].append({**spec, "reachml": result})
    FIXTURE.write_text(json.dumps(fixture) + "\n")


if __name__ == "__main__":
    main()
