"""Bootstrap and subsample stability (featimp/_stability.py)."""

import numpy as np
import pytest

from featimp._selection import support_mask
from featimp._stability import (
    bootstrap_stability,
    kuncheva_index,
    mean_jaccard,
    resample_indices,
    selection_mask,
)
from featimp.baselines import LassoSelector


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


def test_selectors_and_the_bootstrap_select_alike(cancer):
    X, y = cancer
    sel = LassoSelector(n_features_to_select=0.2, threshold="median").fit(X, y)
    assert np.array_equal(sel.get_support(), selection_mask(sel, sel.importances_))
    # An unfitted selector is enough: the rule needs only its parameters.
    fresh = LassoSelector(n_features_to_select=0.2, threshold="median")
    assert np.array_equal(sel.get_support(), selection_mask(fresh, sel.importances_))
    result = bootstrap_stability(fresh, X, y, n_bootstrap=3, random_state=0)
    for importances, selected in zip(result.importances, result.selected, strict=True):
        assert selected.sum() == 6
        assert np.array_equal(selected, support_mask(importances, None, 0.2, "median"))
