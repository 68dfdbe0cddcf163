"""KANSelector and its importance variants (featimp/kan/_selector.py), with
tiny settings; each network's importances and their ranges."""

import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.datasets import make_friedman1

pytest.importorskip("torch")

from featimp.datasets import load_german_credit
from featimp.kan import (
    KANClassifier,
    KANSelector,
    kan_fit_importances,
    kan_importance_variants,
    kan_importances,
)
from featimp.kan._config import SELECTOR_DEFAULTS
from featimp.methods import ranking_table
from tests._kan import METHODS, TINY_SELECTOR


def test_selector_networks_keep_their_own_defaults(diabetes, monkeypatch):
    # The regressor's early stopping and sparsity defaults must not leak
    # into the selector, whose defaults reproduce the paper benchmark.
    import featimp.kan._train as train

    configs = []
    original = train.train_network
    monkeypatch.setattr(
        train,
        "train_network",
        lambda *a, **k: configs.append(k["config"]) or original(*a, **k),
    )
    X, y = diabetes
    KANSelector(cv=2, n_seeds=1, max_iter=2, random_state=0).fit(X, y)
    assert {(c.early_stopping, c.sparsity, c.grid_size) for c in configs} == {
        (False, SELECTOR_DEFAULTS["sparsity"], SELECTOR_DEFAULTS["grid_size"])
    }


def test_selector_finds_informative_features_of_ground_truth():
    from featimp.datasets import make_ground_truth

    X, y, truth = make_ground_truth(n_samples=400, random_state=0)
    k = len(truth.relevant)
    sel = KANSelector(
        n_features_to_select=k,
        cv=2,
        n_seeds=1,
        grid_size=3,
        hidden_layer_sizes=[8],
        max_iter=30,
        random_state=0,
    ).fit(X, y)
    for method, scores in sel.all_importances_.items():
        top = set(X.columns[np.argsort(-scores)[:k]])
        assert len(top & set(truth.relevant)) >= k - 2, method


def test_selector_defaults_match_the_score_functions():
    params = KANSelector().get_params()
    assert {k: params[k] for k in SELECTOR_DEFAULTS} == SELECTOR_DEFAULTS


def test_default_selector_ranks_bmi_and_s5_first_on_diabetes(diabetes):
    # The defaults (grid 3, sparsity 0.03, 5 folds x 3 seeds) as run by
    # benchmarks/kan_paper.py: every authors' variant agrees on the two
    # features LASSO and the paper's baselines put first.
    X, y = diabetes
    sel = KANSelector(random_state=0).fit(X, y)
    for method in ("l1", "l2", "si", "ko"):
        top = X.columns[np.argsort(-sel.all_importances_[method])[:2]]
        assert set(top) == {"bmi", "s5"}, method


def test_default_selector_on_german_recourse_agrees_with_lasso_at_the_top():
    # The defaults as benchmarks/kan_paper.py runs them (German credit row of
    # the README): every authors' variant ranks checking-account status
    # first and keeps LASSO's next three among its top eight.
    from featimp.datasets import load_german_recourse

    X, y = load_german_recourse()
    sel = KANSelector(random_state=0).fit(X, y)
    lasso_top = {"HistoryOfDelinquency", "SavingsAcct_exists", "LoanDuration_geq_36"}
    for method in ("l1", "l2", "si", "ko"):
        order = X.columns[np.argsort(-sel.all_importances_[method], kind="stable")]
        assert order[0] == "CheckingAcct_exists", method
        assert lasso_top <= set(order[:8]), method
    low = np.quantile(sel.fit_importances_, 0.05, axis=0)
    assert low[X.columns.get_loc("CheckingAcct_exists")] > np.median(sel.importances_)


def test_all_variants_come_from_one_set_of_networks(cancer, monkeypatch):
    X, y = cancer
    import featimp.kan._train as train

    calls = []
    original = train.train_network
    monkeypatch.setattr(
        train, "train_network", lambda *a, **k: calls.append(1) or original(*a, **k)
    )
    params = {
        "cv": 2,
        "n_seeds": 2,
        "grid_size": 3,
        "hidden_layer_sizes": [5],
        "max_iter": 3,
        "random_state": 0,
    }
    scores = kan_importance_variants(X, y, **params)
    assert len(calls) == 4
    assert set(scores) == set(METHODS)
    for v in scores.values():
        assert v.sum() == pytest.approx(1.0) and (v >= 0).all()
    single = kan_importances(X, y, method="ko", **params)
    np.testing.assert_allclose(single, scores["ko"])


def test_selector_on_german_credit_names_columns():
    X, y = load_german_credit()
    numeric = X.select_dtypes("number")
    sel = KANSelector(n_features_to_select=3, **TINY_SELECTOR)
    out = sel.set_output(transform="pandas").fit(numeric, y).transform(numeric)
    assert list(out.columns) == [c for c in numeric.columns if c in set(out.columns)]
    # The raw table, text columns included: one share per original column.
    sel = KANSelector(**TINY_SELECTOR).fit(X, y)
    assert list(sel.feature_names_in_) == list(X.columns)
    assert sel.importances_.sum() == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"non-numeric column.*'credit_history'"):
        KANClassifier(max_iter=2).fit(X, y)


def test_parallel_fits_give_the_same_importances_on_german_credit():
    X, y = load_german_credit()
    params = {**TINY_SELECTOR, "cv": 2, "n_seeds": 2}
    serial = KANSelector(**params).fit(X, y)
    parallel = KANSelector(**params, n_jobs=2).fit(X, y)
    # Each network on one thread in its worker, summed in the runs' order.
    np.testing.assert_array_equal(parallel.fit_importances_, serial.fit_importances_)
    np.testing.assert_array_equal(parallel.importances_, serial.importances_)


def test_selector_regression_and_joblib(diabetes, tmp_path):
    X, y = diabetes
    sel = KANSelector(method="si", n_features_to_select=3, **TINY_SELECTOR).fit(X, y)
    path = tmp_path / "sel.joblib"
    joblib.dump(sel, path)
    np.testing.assert_array_equal(joblib.load(path).importances_, sel.importances_)
    assert clone(sel).get_params()["method"] == "si"


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
