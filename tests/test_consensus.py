"""ConsensusSelector (featimp/_consensus.py)."""

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.datasets import load_diabetes
from sklearn.utils.estimator_checks import parametrize_with_checks

from featimp import methods
from featimp._consensus import (
    ConsensusSelector,
    aggregate_ranks,
    consensus_importances,
    parse_methods,
)
from featimp.datasets import load_german_credit, make_ground_truth
from featimp.methods import MethodSpec, get_method

FAST = ["lasso", ("svm_rfe", {"step": 0.5})]


@parametrize_with_checks(
    [
        ConsensusSelector(
            methods=FAST, stability=2, random_state=0, n_features_to_select=1
        )
    ]
)
def test_sklearn_common_checks(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def fitted(cancer):
    X, y = cancer
    return ConsensusSelector(
        methods=["mi", *FAST],
        stability=8,
        n_features_to_select=5,
        random_state=0,
    ).fit(X, y)


def test_aggregations_agree_with_hand_computation():
    ranks = np.array([[1.0, 2, 3, 4], [2, 1, 4, 3], [1, 3, 2, 4]])
    borda = aggregate_ranks(ranks, "borda")
    np.testing.assert_allclose(borda, ((4 - ranks) / 3).mean(axis=0))
    np.testing.assert_allclose(
        aggregate_ranks(ranks, "mean_rank"), 5 - ranks.mean(axis=0)
    )
    rrf = aggregate_ranks(ranks, "rrf", rrf_k=1)
    np.testing.assert_allclose(rrf, (1 / (1 + ranks)).sum(axis=0))
    assert borda.argmax() == 0 and rrf.argmax() == 0


def test_rrf_rewards_a_feature_one_method_puts_first():
    # Feature 0 is first for one method and third for the other; feature 1
    # is second for both. Borda ties them; RRF prefers the outright winner.
    ranks = np.array([[1.0, 2, 3, 4, 5], [3, 2, 1, 4, 5]])
    borda = aggregate_ranks(ranks, "borda")
    rrf = aggregate_ranks(ranks, "rrf", rrf_k=1)
    assert borda[0] == borda[1]
    assert rrf[0] > rrf[1]


def test_consensus_on_breast_cancer(fitted, cancer):
    X, _ = cancer
    assert fitted.methods_ == ["mi", "lasso", "svm_rfe"]
    assert fitted.method_rankings_.shape == (3, 30)
    assert fitted.transform(X).shape == (569, 5)
    frame = fitted.stability_.to_frame()
    assert list(frame.index[:1]) == [fitted.get_feature_names_out()[0]] or (
        frame.index[0] in set(fitted.get_feature_names_out())
    )
    assert (
        (frame.rank_low <= frame.rank_median) & (frame.rank_median <= frame.rank_high)
    ).all()
    prob = fitted.stability_.selection_probability
    assert prob.sum() == pytest.approx(5.0)  # five selected per resample
    assert 0 < fitted.stability_.kuncheva <= 1
    assert 0 < fitted.stability_.jaccard <= 1
    assert fitted.bootstrap_method_importances_.shape == (8, 3, 30)


def test_selected_features_are_the_stable_ones(fitted):
    prob = fitted.stability_.selection_probability
    assert prob[fitted.get_support()].mean() > prob[~fitted.get_support()].mean()


def test_consensus_is_seeded_and_parallel_safe(cancer):
    X, y = cancer
    kwargs = {"methods": FAST, "stability": 3, "random_state": 1}
    serial = ConsensusSelector(**kwargs).fit(X, y)
    with parallel_backend("loky", n_jobs=2):
        parallel = ConsensusSelector(**kwargs, n_jobs=2).fit(X, y)
    np.testing.assert_allclose(serial.importances_, parallel.importances_)
    np.testing.assert_allclose(
        serial.stability_.importances, parallel.stability_.importances
    )


def test_consensus_finds_ground_truth_and_regression():
    X, y, truth = make_ground_truth(
        600,
        n_informative=3,
        n_redundant=0,
        n_noise=6,
        n_high_cardinality=1,
        random_state=0,
    )
    sel = ConsensusSelector(
        methods=["mi", "lasso"],
        aggregation="rrf",
        n_features_to_select=3,
        random_state=0,
    ).fit(X, y)
    assert set(sel.get_feature_names_out()) == set(truth.informative)
    assert sel.stability_ is None
    Xd, yd = load_diabetes(return_X_y=True, as_frame=True)
    reg = ConsensusSelector(
        methods=["lasso", "mi"],
        aggregation="mean_rank",
        n_features_to_select=2,
        random_state=0,
    ).fit(Xd, yd)
    assert reg.task_ == "regression"
    assert "bmi" in reg.get_feature_names_out()


def test_consensus_on_raw_german_credit():
    X, y = load_german_credit()
    sel = ConsensusSelector(
        methods=["mi", "gain", "lasso"], n_features_to_select=3, random_state=0
    ).fit(X, y)
    assert "status_of_existing_checking_account" in sel.get_feature_names_out()
    assert sel.method_importances_.shape == (3, 20)


def test_unknown_method_names_the_position():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match=r"methods\[1\]: unknown method 'nope'"):
        ConsensusSelector(methods=["lasso", "nope"]).fit(X, y)


def test_method_not_supporting_the_task(monkeypatch):
    monkeypatch.setitem(
        methods._REGISTRY,
        "classif_only",
        MethodSpec(
            name="classif_only",
            selector="featimp.baselines._lasso:LassoSelector",
            function="featimp.baselines._lasso:lasso_importances",
            tasks=("classification",),
            summary="test double",
        ),
    )
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="'classif_only' does not support regression"):
        ConsensusSelector(methods=["lasso", "classif_only"]).fit(X, y)


def test_bad_method_entries_and_params():
    X, y = load_diabetes(return_X_y=True)
    with pytest.raises(ValueError, match="stability"):
        ConsensusSelector(methods=["lasso"], stability=1).fit(X, y)
    with pytest.raises(ValueError, match="aggregation"):
        ConsensusSelector(methods=["lasso"], aggregation="vote").fit(X, y)
    with pytest.raises(TypeError, match=r"methods\[0\] must be a method name"):
        parse_methods([42])
    with pytest.raises(TypeError, match="write methods=\\['lasso'\\]"):
        parse_methods("lasso")
    with pytest.raises(ValueError, match="methods is empty"):
        parse_methods([])
    with pytest.raises(ValueError, match=r"methods\[0\] \('lasso'\).*n_bins"):
        ConsensusSelector(methods=[("lasso", {"n_bins": 3})]).fit(X, y)


def test_registry_entry():
    spec = get_method("consensus")
    sel = spec.make_selector(methods=["lasso"], stability=2)
    assert isinstance(sel, ConsensusSelector)
    assert spec.score_function() is consensus_importances
