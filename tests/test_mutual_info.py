import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, make_classification, make_regression
from sklearn.feature_selection import mutual_info_classif, mutual_info_regression
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import mutual_info_score
from sklearn.pipeline import make_pipeline

from featimp import _binning
from featimp._binning import (
    corrected_mi,
    discretize,
    plugin_mi,
)
from featimp._mutual_info import (
    MRMRSelector,
    MutualInfoSelector,
    mrmr_importances,
    mrmr_order,
    mutual_info_importances,
)


@pytest.fixture(scope="module")
def signal_and_noise():
    """A binary target, two noisy copies of it of different strength, noise."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    X = np.column_stack(
        [
            y + rng.normal(0, 0.5, y.size),
            y + rng.normal(0, 2.0, y.size),
            rng.normal(0, 1, y.size),
        ]
    )
    return X, y


# ------------------------------------------------------------------ binned MI
def test_binned_mi_equals_direct_plugin_on_discrete_data(rng):
    X = rng.integers(0, 4, (300, 5))
    y = (X[:, 0] + rng.integers(0, 2, 300)) % 3
    scores = mutual_info_importances(
        X, y, discrete_features=True, null_correction=False
    )
    expected = [mutual_info_score(X[:, j], y) for j in range(X.shape[1])]
    np.testing.assert_allclose(scores, expected, rtol=1e-12, atol=1e-15)


def test_informative_features_rank_first(signal_and_noise):
    X, y = signal_and_noise
    scores = mutual_info_importances(X, y, random_state=0)
    assert scores[0] > scores[1] > scores[2]
    assert scores[2] < 0.005


def test_null_correction_removes_the_high_cardinality_bias(rng):
    n = 4000
    y = rng.integers(0, 2, n)
    weak = y + rng.normal(0, 2.0, n)
    ids = rng.integers(0, n // 2, n)  # noise with ~1,700 distinct values
    X = np.column_stack([weak, ids])
    raw = mutual_info_importances(X, y, null_correction=False)
    corrected = mutual_info_importances(X, y, random_state=0)
    assert raw[1] > raw[0]  # the plug-in estimate is fooled by cardinality
    assert corrected[1] < corrected[0]
    assert corrected[1] < 0.01


def test_constant_column_scores_zero_without_warnings(signal_and_noise):
    X, y = signal_and_noise
    X = np.column_stack([X, np.full(len(y), 3.5)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for estimator in ("binned", "knn"):
            scores = mutual_info_importances(X, y, estimator=estimator, random_state=0)
            assert scores[-1] == 0.0
        assert mutual_info_importances(X, y, null_correction=False)[-1] == 0.0
        for criterion in ("mid", "miq"):
            scores = mrmr_importances(X, y, criterion=criterion, random_state=0)
            assert scores[-1] == 0.0  # never picked, not even last


def test_same_random_state_same_scores_and_float32(signal_and_noise):
    X, y = signal_and_noise
    a = mutual_info_importances(X, y, random_state=0)
    np.testing.assert_array_equal(a, mutual_info_importances(X, y, random_state=0))
    b = mutual_info_importances(X.astype(np.float32), y, random_state=0)
    assert np.argmax(b) == np.argmax(a)


def test_categorical_dataframe_column(rng):
    n = 600
    colour = rng.choice(["red", "green", "blue"], n)
    y = (colour == "red").astype(int) ^ (rng.random(n) < 0.1)
    X = pd.DataFrame({"colour": colour, "noise": rng.normal(size=n)})
    scores = mutual_info_importances(X, y, random_state=0)
    assert scores[0] > 0.2 > scores[1]
    selector = MutualInfoSelector(n_features_to_select=1, random_state=0).fit(X, y)
    assert selector.get_feature_names_out().tolist() == ["colour"]


def test_regression_binned(rng):
    X = rng.normal(size=(1000, 5))
    y = X[:, 0] + 2 * X[:, 1] + rng.normal(0, 0.5, 1000)
    scores = mutual_info_importances(X, y, random_state=0)
    assert scores[1] > scores[0] > 0.05
    assert scores[2:].max() < 0.02
    selector = MutualInfoSelector(task="regression", n_features_to_select=2)
    assert selector.fit(X, y).get_support().tolist() == [True, True] + [False] * 3


def test_german_credit_ranks_checking_account_near_the_top(german_credit):
    X, y = german_credit
    scores = pd.Series(mutual_info_importances(X, y, random_state=0), X.columns)
    top = scores.sort_values(ascending=False).index[:3]
    assert "status_of_existing_checking_account" in top


def test_breast_cancer_top_features_agree_with_ksg():
    X, y = load_breast_cancer(return_X_y=True)
    binned = mutual_info_importances(X, y, random_state=0)
    ksg = mutual_info_classif(X, y, random_state=0)
    top = lambda s: set(np.argsort(-s)[:10])  # noqa: E731
    assert len(top(binned) & top(ksg)) >= 8


# ------------------------------------------------------------------ KSG (knn)
def test_knn_equals_sklearn_classification():
    X, y = make_classification(300, 6, n_informative=3, random_state=0)
    ours = mutual_info_importances(X, y, estimator="knn", random_state=0)
    np.testing.assert_array_equal(ours, mutual_info_classif(X, y, random_state=0))
    ours = mutual_info_importances(X, y, estimator="knn", n_neighbors=5, random_state=1)
    expected = mutual_info_classif(X, y, n_neighbors=5, random_state=1)
    np.testing.assert_array_equal(ours, expected)


def test_knn_equals_sklearn_regression():
    X, y = make_regression(300, 6, n_informative=2, random_state=0)
    ours = mutual_info_importances(X, y, estimator="knn", random_state=0)
    np.testing.assert_array_equal(ours, mutual_info_regression(X, y, random_state=0))


# ----------------------------------------------------------------------- mRMR
def test_mrmr_prefers_a_new_feature_over_a_duplicate(rng):
    n = 2000
    y = rng.integers(0, 2, n)
    strong = y + rng.normal(0, 0.7, n)
    other = y + rng.normal(0, 1.0, n)  # weaker, but independent noise
    X = np.column_stack([strong, strong, other, rng.normal(size=n)])
    relevance = mutual_info_importances(X, y, random_state=0)
    assert relevance[1] > relevance[2]  # the duplicate is more relevant ...
    for criterion in ("mid", "miq"):
        order = np.argsort(-mrmr_importances(X, y, criterion=criterion, random_state=0))
        assert order[0] in (0, 1)
        assert order[1] == 2  # ... but mRMR takes the new information first


def _naive_mrmr(X, y, n_features, criterion):
    """O(d²) reference: the full pairwise MI matrix, then the greedy loop."""
    codes, _ = discretize(X, np.zeros(X.shape[1], dtype=bool), n_bins=8)
    d = codes.shape[0]
    relevance = np.array([mutual_info_score(c, y) for c in codes])
    pairwise = np.array([[mutual_info_score(a, b) for b in codes] for a in codes])
    order = [int(np.argmax(relevance))]
    while len(order) < n_features:
        rest = [j for j in range(d) if j not in order]
        redundancy = pairwise[np.ix_(rest, order)].mean(axis=1)
        gain = (
            relevance[rest] - redundancy
            if criterion == "mid"
            else relevance[rest] / (redundancy + 1e-12)
        )
        order.append(rest[int(np.argmax(gain))])
    return order


@pytest.mark.parametrize("criterion", ["mid", "miq"])
def test_incremental_mrmr_equals_naive_reference(criterion):
    X, y = make_classification(400, 12, n_informative=4, n_redundant=4, random_state=0)
    scores = mrmr_importances(
        X, y, criterion=criterion, n_bins=8, null_correction=False, n_features=8
    )
    order = np.argsort(-scores, kind="stable")[:8].tolist()
    assert order == _naive_mrmr(X, y, 8, criterion)


def test_mrmr_with_null_correction_matches_pairwise_reference(rng):
    X, y = make_classification(300, 6, n_informative=3, random_state=1)
    perms = [rng.permutation(300) for _ in range(2)]
    codes, cards = discretize(X, np.zeros(6, dtype=bool), n_bins=6)
    relevance = corrected_mi(codes, cards, y, 2, perms)

    def pair(a, b):
        return corrected_mi(codes[[a]], cards[[a]], codes[b], 6, perms)[0]

    order = [int(np.argmax(relevance))]
    while len(order) < 6:
        rest = [j for j in range(6) if j not in order]
        gain = [relevance[j] - np.mean([pair(j, s) for s in order]) for j in rest]
        order.append(rest[int(np.argmax(gain))])
    assert mrmr_order(codes, cards, relevance, 6, "mid", perms).tolist() == order


def test_mrmr_early_stop_and_ranking_follow_the_greedy_order():
    X, y = load_breast_cancer(return_X_y=True)
    selector = MRMRSelector(n_features=5, n_features_to_select=5, random_state=0)
    selector.fit(X, y)
    scores = selector.importances_
    assert np.count_nonzero(scores) == 5
    np.testing.assert_allclose(np.sort(scores)[::-1][:5], (30 - np.arange(5)) / 30)
    order = np.argsort(-scores)[:5]
    assert selector.ranking_[order].tolist() == [1, 2, 3, 4, 5]
    assert selector.get_support().sum() == 5


def test_mrmr_german_credit_dataframe(german_credit):
    X, y = german_credit
    selector = MRMRSelector(n_features=4, n_features_to_select=4, random_state=0)
    names = selector.fit(X, y).get_feature_names_out()
    assert "status_of_existing_checking_account" in names


# ------------------------------------------------------------------ selectors
@pytest.mark.parametrize(
    "selector",
    [
        MutualInfoSelector(n_features_to_select=5, random_state=0),
        MutualInfoSelector(estimator="knn", n_features_to_select=5, random_state=0),
        MRMRSelector(n_features_to_select=5, criterion="miq", random_state=0),
    ],
    ids=["mi-binned", "mi-knn", "mrmr-miq"],
)
def test_selectors_in_a_pipeline(selector):
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(selector, LogisticRegression(max_iter=2000))
    assert pipe.fit(X, y).score(X, y) > 0.9
    assert pipe[0].transform(X).shape == (569, 5)


# ------------------------------------------------------------------ bad input
def test_infinite_column_is_named(signal_and_noise):
    X, y = signal_and_noise
    frame = pd.DataFrame(X, columns=["a", "b", "c"])
    frame.loc[3, "b"] = np.inf
    with pytest.raises(ValueError, match="'b'"):
        mutual_info_importances(frame, y)
    with pytest.raises(ValueError, match="'b'"):
        MutualInfoSelector().fit(frame, y)


def test_missing_values_are_a_bin_of_their_own(rng):
    # Informative only through being missing: observed iff y == 1.
    y = rng.integers(0, 2, 2000)
    x = rng.standard_normal(2000)
    x[y == 0] = np.nan
    noise = rng.standard_normal(2000)
    noise[rng.random(2000) < 0.3] = np.nan  # missing at random: no signal
    X = np.column_stack([x, noise])
    scores = mutual_info_importances(X, y, random_state=0)
    # I(missing; y) = H(y) for a balanced y: log 2 nats.
    assert scores[0] == pytest.approx(np.log(2), abs=0.02)
    assert scores[1] < 0.005
    codes, cards = discretize(X, np.zeros(2, dtype=bool), 4)
    assert cards.tolist() == [5, 5]
    assert codes[0][y == 0].tolist() == [4] * int((y == 0).sum())


def test_categories_are_bins_whatever_discrete_features_says(rng):
    y = rng.integers(0, 3, 900)
    labels = np.array(["b", "c", "a"], dtype=object)
    frame = pd.DataFrame({"level": labels[y], "noise": rng.standard_normal(900)})
    for discrete in ("auto", False, [1]):
        scores = mutual_info_importances(
            frame, y, discrete_features=discrete, random_state=0
        )
        assert scores[0] == pytest.approx(np.log(3), abs=0.02)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"estimator": "ksg"}, "estimator"),
        ({"n_bins": 1}, "n_bins"),
        ({"discrete_features": [True]}, "discrete_features"),
        ({"discrete_features": [7]}, "discrete_features"),
        ({"task": "ranking"}, "task"),
    ],
)
def test_bad_parameters_are_named(signal_and_noise, kwargs, message):
    X, y = signal_and_noise
    with pytest.raises(ValueError, match=message):
        mutual_info_importances(X, y, **kwargs)


def test_bad_parameters_of_selectors_are_named(signal_and_noise):
    X, y = signal_and_noise
    with pytest.raises(ValueError, match="estimator"):
        MutualInfoSelector(estimator="ksg").fit(X, y)
    with pytest.raises(ValueError, match="criterion"):
        MRMRSelector(criterion="max").fit(X, y)
    with pytest.raises(ValueError, match="n_features"):
        mrmr_importances(X, y, n_features=4)


def test_single_class_target_is_an_error(signal_and_noise):
    X, _ = signal_and_noise
    with pytest.raises(ValueError, match="one class"):
        mutual_info_importances(X, np.zeros(len(X), dtype=int))


def test_length_mismatch_is_an_error(signal_and_noise):
    X, y = signal_and_noise
    with pytest.raises(ValueError, match="different numbers of rows"):
        mutual_info_importances(X, y[:-1])
    with pytest.raises(ValueError, match="different numbers of rows"):
        mrmr_importances(X, y[:-1])


def test_miq_with_the_null_correction_keeps_the_true_features_on_top():
    # Columns 0-9 are informative or redundant, 10-29 noise. A corrected
    # redundancy of 0 once made noise columns win the quotient (gains ~1e8)
    # and only 6 of the 10 reached the top 10.
    X, y = make_classification(
        2000, 30, n_informative=5, n_redundant=5, shuffle=False, random_state=0
    )
    for correction in (True, False):
        scores = mrmr_importances(
            X, y, criterion="miq", null_correction=correction, random_state=0
        )
        top = np.argsort(-scores)[:10]
        assert np.sum(top < 10) >= 9, (correction, top)
        assert top[:9].max() < 10  # noise is at most 10th


def test_knn_defaults_do_not_favour_many_valued_integer_noise():
    # Once every integer column was discrete and counted per value: a random
    # 0..999 column scored 1.02 nats, 1st of 14 on wine.
    from sklearn.datasets import load_wine

    X, y = load_wine(return_X_y=True)
    noise = np.random.default_rng(0).integers(0, 1000, len(X))
    scores = mutual_info_importances(
        np.column_stack([X, noise]), y, estimator="knn", random_state=0
    )
    assert scores[-1] < 0.15
    assert np.sum(scores > scores[-1]) >= 10


def test_knn_corrects_the_chance_level_of_discrete_columns():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 400)
    X = np.column_stack([y + rng.normal(0, 1, 400), rng.integers(0, 15, 400)])
    raw = mutual_info_importances(
        X, y, estimator="knn", null_correction=False, random_state=0
    )
    corrected = mutual_info_importances(X, y, estimator="knn", random_state=0)
    assert raw[1] > 0.02  # plug-in MI of 15-valued noise with 3 classes
    assert corrected[1] < raw[1] / 2
    assert corrected[0] == pytest.approx(raw[0])  # continuous: KSG as it is


def test_zscore_puts_many_valued_noise_on_the_scale_of_a_binary_column():
    # The mean-corrected MI of 1,000-valued noise scatters widely around 0
    # and beats a weak real feature on ~40 % of seeds; as a z-value it rarely
    # does.
    wins = {True: 0, "zscore": 0}
    for seed in range(20):
        rng = np.random.default_rng(seed)
        y = rng.integers(0, 2, 2000)
        X = np.column_stack([y + rng.normal(0, 5, 2000), rng.integers(0, 1000, 2000)])
        for correction in wins:
            scores = mutual_info_importances(
                X, y, null_correction=correction, random_state=seed
            )
            wins[correction] += scores[1] > scores[0]
    assert wins["zscore"] <= 4 < wins[True]


def test_zscore_needs_the_binned_estimator_and_two_permutations():
    X, y = make_classification(200, 4, random_state=0)
    with pytest.raises(ValueError, match="estimator='binned'"):
        mutual_info_importances(X, y, estimator="knn", null_correction="zscore")
    with pytest.raises(ValueError, match="n_permutations >= 2"):
        mutual_info_importances(X, y, null_correction="zscore", n_permutations=1)
    scores = MutualInfoSelector(null_correction="zscore", random_state=0).fit(X, y)
    assert np.isfinite(scores.importances_).all()


# --------------------------------------------------------------------------
# null_correction="expected": the exact mean of the permutation null
# --------------------------------------------------------------------------


def test_expected_null_corrects_many_valued_noise_without_permutations(rng):
    n = 2000
    y = rng.integers(0, 2, n)
    X = np.column_stack([y + rng.normal(0, 1, n), rng.integers(0, 1000, n)])
    raw = mutual_info_importances(X, y, null_correction=False)
    expected = mutual_info_importances(X, y, null_correction="expected")
    assert raw[1] > raw[0]  # the plug-in MI favours the 1,000-valued noise
    assert expected[0] > 0.05 and expected[1] < 0.02
    # No permutations: the same scores whatever the seed.
    again = mutual_info_importances(X, y, null_correction="expected", random_state=123)
    np.testing.assert_array_equal(again, expected)
    with pytest.raises(ValueError, match="needs estimator='binned'"):
        mutual_info_importances(X, y, estimator="knn", null_correction="expected")


def test_expected_null_in_mrmr_and_on_large_tables(rng, monkeypatch):
    from featimp import _binning

    X, y = make_classification(
        20000, 60, n_informative=6, n_redundant=6, shuffle=False, random_state=0
    )
    scores = mutual_info_importances(X, y, null_correction="expected")
    mrmr = mrmr_importances(X, y, n_features=6, null_correction="expected")
    assert set(np.argsort(-scores)[:6]) <= set(range(12))
    # MID then picks as with three permutations (both add noise after the
    # informative columns' redundancy grows: MID's own behaviour).
    sampled = mrmr_importances(X, y, n_features=6, random_state=0)
    np.testing.assert_array_equal(np.argsort(-mrmr)[:4], np.argsort(-sampled)[:4])
    monkeypatch.setattr(_binning, "_COMPILED_ENTRIES", np.inf)  # the NumPy path
    np.testing.assert_array_equal(
        mutual_info_importances(X, y, null_correction="expected"), scores
    )
    np.testing.assert_array_equal(
        mrmr_importances(X, y, n_features=6, null_correction="expected"), mrmr
    )


@pytest.fixture
def no_numba(monkeypatch):
    monkeypatch.setattr(_binning, "count_tables", lambda *args: None)


def test_mrmr_order_redundancy_against_the_last_pick_only(rng, no_numba):
    X, y = make_classification(800, 8, n_informative=3, random_state=0)
    codes, cards = discretize(X, np.zeros(8, dtype=bool), 8)
    relevance = plugin_mi(codes, cards, [y], 2)[0]
    order = mrmr_order(codes, cards, relevance, 8, "miq", [])
    pairwise = plugin_mi(codes, cards, list(codes), 8)  # cards are all 8
    expected = [int(np.argmax(relevance))]
    while len(expected) < 8:
        rest = [j for j in range(8) if j not in expected]
        redundancy = pairwise[np.ix_(expected, rest)].mean(axis=0)
        gain = relevance[rest] / (redundancy + 1e-12)
        expected.append(rest[int(np.argmax(gain))])
    assert order.tolist() == expected


def test_mi_does_not_copy_or_change_a_float_array(rng):
    X, y = make_classification(2000, 5, random_state=0)
    before = X.copy()
    mutual_info_importances(X, y, random_state=0)
    mrmr_importances(X, y, random_state=0)
    np.testing.assert_array_equal(X, before)
    assert X.flags.writeable
