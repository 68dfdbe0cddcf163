import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_friedman1

pytest.importorskip("torch")

from featimp.kan import KANSelector, kan_fit_importances, kan_importance_variants
from featimp.methods import ranking_table

FAST = {"grid_size": 3, "hidden_layer_sizes": [3], "max_iter": 30, "cv": 3}


@pytest.fixture(scope="module")
def friedman():
    X, y = make_friedman1(240, n_features=8, noise=0.3, random_state=0)
    X = pd.DataFrame(X, columns=[f"x{j}" for j in range(8)])
    # x0 twice: two features that no importance can tell apart.
    return X.assign(x0_copy=X["x0"]), y


def test_each_network_is_kept_and_the_means_are_the_importances(friedman):
    X, y = friedman
    sel = KANSelector(method="si", n_seeds=2, random_state=0, **FAST).fit(X, y)
    fits = sel.fit_importances_
    assert fits.shape == (6, X.shape[1])
    np.testing.assert_allclose(fits.sum(axis=1), 1.0)
    np.testing.assert_allclose(fits.mean(axis=0), sel.importances_, atol=1e-12)
    np.testing.assert_allclose(sel.importances_std_, fits.std(axis=0, ddof=1))
    assert set(sel.all_fit_importances_) == set(sel.all_importances_)
    np.testing.assert_array_equal(sel.all_fit_importances_["si"], fits)
    means, each = kan_fit_importances(
        X, y, methods=["si"], n_seeds=2, random_state=0, **FAST
    )
    np.testing.assert_array_equal(each["si"], fits)
    variants = kan_importance_variants(
        X, y, methods=["si"], n_seeds=2, random_state=0, **FAST
    )
    np.testing.assert_array_equal(means["si"], variants["si"])
    table = ranking_table(sel, X.columns).set_index("feature")
    low, high = np.quantile(fits, [0.05, 0.95], axis=0)
    np.testing.assert_allclose(table.loc[X.columns, "importance_low"], low)
    np.testing.assert_allclose(table.loc[X.columns, "importance_high"], high)


def test_intervals_cover_a_reseeded_fit_and_tell_signal_from_noise(friedman):
    X, y = friedman
    first = KANSelector(method="l2", n_seeds=2, random_state=0, **FAST).fit(X, y)
    again = KANSelector(method="l2", n_seeds=2, random_state=1, **FAST).fit(X, y)
    low, high = np.quantile(first.fit_importances_, [0.05, 0.95], axis=0)
    covered = (low <= again.importances_) & (again.importances_ <= high)
    assert covered.mean() >= 0.8, (low, again.importances_, high)
    assert (high > low).all()
    # x3 (10 x3 in friedman1) against the noise columns x5..x7: apart.
    noise = X.columns.get_indexer(["x5", "x6", "x7"])
    assert low[X.columns.get_loc("x3")] > high[noise].max()
    # The copies of x0 share its signal: their ranges overlap.
    a, b = X.columns.get_loc("x0"), X.columns.get_loc("x0_copy")
    assert max(low[a], low[b]) <= min(high[a], high[b])
