"""ConsensusSelector and the shared bootstrap-stability helper."""

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
from featimp._stability import (
    bootstrap_stability,
    kuncheva_index,
    mean_jaccard,
    resample_indices,
)
from featimp.baselines import LassoSelector
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


def test_bootstrap_stability_helper_on_any_selector(cancer):
    X, y = cancer
    result = bootstrap_stability(
        LassoSelector(n_features_to_select=5, random_state=0),
        X,
        y,
        n_bootstrap=6,
        random_state=0,
    )
    assert result.importances.shape == (6, 30)
    assert (result.selected.sum(axis=1) == 5).all()
    assert result.to_frame().index.name == "feature"
    assert -1 <= result.kuncheva <= 1
    with pytest.raises(ValueError, match="n_bootstrap must be an int >= 1"):
        bootstrap_stability(LassoSelector(), X, y, n_bootstrap=0)


def test_kuncheva_and_jaccard_reference_values():
    rng = np.random.default_rng(0)
    identical = np.tile(np.arange(10) < 3, (4, 1))
    assert kuncheva_index(identical) == 1.0 and mean_jaccard(identical) == 1.0
    # Random 3-of-10 subsets: Kuncheva is chance-corrected to about 0.
    random_sets = np.array([rng.permutation(10) < 3 for _ in range(300)])
    assert abs(kuncheva_index(random_sets)) < 0.05
    # Two sets of 2 of 4 sharing 1: r d - k^2 = 0.
    assert kuncheva_index(np.array([[1, 1, 0, 0], [1, 0, 1, 0]], bool)) == 0.0
    assert np.isnan(kuncheva_index(np.ones((3, 4), bool)))


def test_stratified_resamples_keep_every_class():
    y = np.array([0] * 18 + [1] * 2)
    rng = np.random.RandomState(0)
    for rows in resample_indices(y, 20, 20, rng, stratify=True):
        # 63.2 % of each class, no row twice; a class of one keeps its row.
        assert np.bincount(y[rows]).tolist() == [11, 1]
        assert len(set(rows)) == len(rows)
    for rows in resample_indices(y, 20, 20, rng, stratify=True, resampling="bootstrap"):
        assert np.bincount(y[rows]).tolist() == [18, 2]
    with pytest.raises(ValueError, match="resampling must be one of"):
        resample_indices(y, 20, 2, rng, stratify=False, resampling="jackknife")


def test_subsamples_do_not_reward_repeated_rows():
    """A bootstrap sample repeats rows, which an estimator that matches rows
    exactly reads as information: MI ranks German credit's integer column
    credit_amount 5th on the data and 1st in every bootstrap resample;
    subsamples keep it near its place."""
    from featimp import MutualInfoSelector, bootstrap_stability
    from featimp.datasets import load_german_credit

    X, y = load_german_credit()
    j = list(X.columns).index("credit_amount")
    selector = MutualInfoSelector(random_state=0)
    rank = selector.fit(X, y).ranking_[j]
    boot = bootstrap_stability(
        selector, X, y, n_bootstrap=10, random_state=0, resampling="bootstrap"
    )
    sub = bootstrap_stability(selector, X, y, n_bootstrap=10, random_state=0)
    assert rank == 5
    assert (boot.rankings[:, j] == 1).all()  # the bias subsampling avoids
    low, high = sub.rank_interval(0.9)[j]
    assert low <= rank + 1 and high >= rank and low > 1


def test_registry_entry():
    spec = get_method("consensus")
    sel = spec.make_selector(methods=["lasso"], stability=2)
    assert isinstance(sel, ConsensusSelector)
    assert spec.score_function() is consensus_importances
