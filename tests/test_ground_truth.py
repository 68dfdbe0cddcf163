"""make_ground_truth's suppressor and XOR roles, and the benchmark's scoring."""

from pathlib import Path

import numpy as np
import pytest
from sklearn.linear_model import LinearRegression
from sklearn.tree import DecisionTreeClassifier

from featimp.datasets import make_ground_truth
from tests._shared import load_benchmark

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "ground_truth.py"


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("ground_truth", "ground_truth_bench")


def test_defaults_are_unchanged_by_the_new_roles():
    a = make_ground_truth(300, random_state=5)
    b = make_ground_truth(300, random_state=5, n_suppressors=0, n_interaction_pairs=0)
    assert a[0].equals(b[0]) and a[1].equals(b[1])
    assert set(a[2].roles) == {
        "informative",
        "redundant",
        "noise",
        "high_cardinality_noise",
    }


def test_suppressor_is_independent_of_y_but_used_by_a_linear_model():
    X, y, truth = make_ground_truth(
        20000,
        n_informative=2,
        n_redundant=0,
        n_noise=0,
        n_high_cardinality=0,
        n_suppressors=1,
        task="regression",
        noise=0.1,
        random_state=0,
    )
    assert truth.features("suppressor") == ["suppressor_0"]
    assert abs(np.corrcoef(X["suppressor_0"], y)[0, 1]) < 0.02
    coef = LinearRegression().fit(X, y).coef_
    # The suppressor cancels the distractor added to informative_0.
    assert coef[2] == pytest.approx(-coef[0], rel=0.05)
    assert truth.signal == ["informative_0", "informative_1"]


def test_xor_pairs_are_marginally_useless_but_jointly_predictive():
    X, y, truth = make_ground_truth(
        4000,
        n_informative=1,
        n_redundant=0,
        n_noise=0,
        n_high_cardinality=0,
        n_interaction_pairs=1,
        random_state=0,
    )
    pair = truth.features("interaction")
    assert pair == ["interaction_0", "interaction_1"]
    for name in pair:
        assert abs(np.corrcoef(X[name] > 0, y)[0, 1]) < 0.05
    xor = (X[pair[0]] > 0) == (X[pair[1]] > 0)
    assert abs(np.corrcoef(xor, y)[0, 1]) > 0.3
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X[pair], y)
    assert tree.score(X[pair], y) > 0.6
    assert truth.signal == ["informative_0", *pair]


def test_new_roles_reject_negative_counts():
    with pytest.raises(ValueError, match="n_suppressors"):
        make_ground_truth(n_suppressors=-1)
    with pytest.raises(ValueError, match="n_interaction_pairs"):
        make_ground_truth(n_interaction_pairs=-1)


def test_benchmark_scores_and_the_suppressor_trap(bench):
    X, _, truth = make_ground_truth(1000, random_state=0, **bench.SCENARIOS["linear"])
    perfect = np.zeros(X.shape[1])
    perfect[[X.columns.get_loc(c) for c in truth.signal]] = 1
    assert bench.scores_for(X, truth, perfect)["precision_at_k"] == 1.0
    rows = bench.run([1000], 1, methods=["lasso", "mi"])
    linear = {r["method"]: r for r in rows if r["scenario"] == "linear"}
    # A linear model's weights call the suppressors important; MI does not.
    assert linear["lasso"]["suppressor_in_top"] == 1.0
    assert linear["mi"]["suppressor_in_top"] == 0.0
    summary = bench.summarise(rows)
    assert "### xor" in bench.markdown(summary)
