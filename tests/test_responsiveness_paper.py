"""The German LR part of benchmarks/responsiveness_paper.py: the paper's
split and model, and the counts the benchmark reproduces."""

from pathlib import Path

import pytest

from featimp.datasets import load_german_recourse
from featimp.recourse import german_action_set
from tests._shared import load_benchmark

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def paper():
    return load_benchmark("responsiveness_paper")


@pytest.fixture(scope="module")
def german_lr(paper):
    X, y = load_german_recourse()
    train = paper.paper_split(y)
    model = paper.train_lr(X[train].to_numpy(float), y[train])
    rows = paper.denied_unique(model, X.astype(float))
    action_set = german_action_set(X)
    counts, result = paper.recourse_counts(model, action_set, rows.astype(int))
    return X, train, model, rows, action_set, counts, result


def test_denied_and_fixed_match_the_paper(paper, german_lr):
    counts = german_lr[5]
    target = paper.PAPER["german"]["lr"]
    assert counts["n_denied"] == target["n_denied"] == 228
    assert counts["n_fixed"] == target["n_fixed"] == 17
    assert counts["n_uncertified"] == 0


def test_no_responsive_count_is_within_a_point_of_the_paper(paper, german_lr):
    counts = german_lr[5]
    # 59 (reachml's own scorer gives 59 on this model too); the paper has 61.
    assert counts["n_no_responsive"] == 59
    target = paper.PAPER["german"]["lr"]["no_responsive_share"]
    assert abs(counts["no_responsive_share"] - target) < 1.0


def test_per_value_rule_gives_the_same_counts(paper, german_lr):
    _, _, model, rows, action_set, counts, _ = german_lr
    per_value, _ = paper.recourse_counts(
        model, action_set, rows.astype(int), rule="per_value"
    )
    assert per_value == counts


def test_shap_top4_shares(paper, german_lr):
    pytest.importorskip("shap")
    X, _, model, rows, action_set, _, result = german_lr
    att = paper.shap_values(model, X.astype(float), rows)
    shap = paper.reason_shares(result, att, list(X.columns))
    aware = paper.reason_shares(
        result, paper.action_aware(att, action_set), list(X.columns)
    )
    assert shap["n_slots"] == aware["n_slots"] == 4 * 228
    # Nobody can act on CheckingAcct_exists, in every SHAP top 4.
    assert shap["top4_features"]["CheckingAcct_exists"] == 228
    assert shap["top4_zero_share"] == 100.0
    assert aware["top4_zero_share"] == pytest.approx(90.79, abs=0.01)
    assert aware["all_unresponsive_share"] == pytest.approx(65.35, abs=0.01)
