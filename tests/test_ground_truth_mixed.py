"""Ground truth on a mixed table: text categories and missing values.

The data are the ``mixed`` scenario of ``benchmarks/ground_truth.py`` (5
informative features, the last 2 as text categories, 10 % missing cells in
each, ``informative_0`` missing at random) at n = 2,000, seeds 0-4. The top
set is the k + r = 7 best columns (5 informative + 2 redundant).

Which method must put what in the top set was decided from seeds 0-19,
default parameters (seeds with every categorical / at least one / the MAR
feature in the top set):

    mi, ecfs, inffs  20 / 20 / 20     svm_rfe      17 / 20 / 18
    consensus        19 / 20 / 20     mrmr         17 / 20 / 19
    lasso            19 / 20 / 19     shap         15 / 20 / 19
    responsiveness   19 / 20 / 19     gain         14 / 20 / 19
                                      permutation  14 / 20 / 18

Every method sees the categories (one-hot nodes, or codes that the boosted
trees split natively and MI bins as categories) and the MAR feature (a
missing indicator node, a missing bin, or NaN sent down its own branch).
The right-hand ones still drop the weaker categorical below a noise column
on 3 to 6 seeds of 20: it is five levels of a value that the two redundant
columns also carry, and trees, greedy mRMR and RFE take those columns
instead. So they must rank one categorical in the top set on every seed,
the left-hand ones both on 4 of 5 seeds; the MAR feature must be there on
4 of 5 seeds for all. KAN is left to the benchmark: one fit takes
about 20 s at n = 1,000.
"""

from pathlib import Path

import numpy as np
import pytest

from featimp.datasets import make_ground_truth
from featimp.methods import get_method
from tests._shared import load_benchmark

BENCH = Path(__file__).resolve().parents[1] / "benchmarks" / "ground_truth.py"
N_SAMPLES = 2000
SEEDS = range(5)
SEES_EVERY_CATEGORICAL = ("mi", "ecfs", "inffs", "consensus", "lasso", "responsiveness")
SEES_ONE_CATEGORICAL = ("svm_rfe", "mrmr", "shap", "gain", "permutation")


@pytest.fixture(scope="module")
def bench():
    return load_benchmark("ground_truth", "ground_truth_bench")


@pytest.fixture(scope="module")
def tables(bench):
    return [
        make_ground_truth(N_SAMPLES, random_state=seed, **bench.SCENARIOS["mixed"])
        for seed in SEEDS
    ]


def top_set(bench, name, tables, transform=None):
    """``(categorical_in_top, mar_in_top)`` of method ``name`` on each seed."""
    spec = get_method(name)
    hits = []
    for seed, (X, y, truth) in zip(SEEDS, tables, strict=True):
        params = {"random_state": seed} if "random_state" in spec.parameters() else {}
        data = X if transform is None else transform(X, truth)
        importances = spec.make_selector(**params).fit(data, y).importances_
        scores = bench.scores_for(X, truth, importances, seed)
        hits.append((scores["categorical_in_top"], scores["mar_in_top"]))
    return np.array(hits)


def alphabetical_codes(X, truth):
    """The categories as the numbers 0-4 of their alphabetical order."""
    codes = {label: float(i) for i, label in enumerate("abcde")}
    return X.assign(**{c: X[c].map(codes) for c in truth.categorical})


@pytest.mark.parametrize("name", SEES_EVERY_CATEGORICAL + SEES_ONE_CATEGORICAL)
def test_categorical_and_mar_features_reach_the_top_set(bench, tables, name):
    categorical, mar = top_set(bench, name, tables).T
    assert (categorical > 0).all(), categorical
    assert mar.sum() >= 4, mar
    if name in SEES_EVERY_CATEGORICAL:
        assert (categorical == 1).sum() >= 4, categorical


def test_alphabetical_codes_hide_the_categories_from_a_linear_method(bench, tables):
    # The control for the test above: codes that are not monotone in the
    # signal lose the categoricals, so that test can fail.
    categorical, _ = top_set(bench, "lasso", tables, alphabetical_codes).T
    assert (categorical == 1).sum() <= 1, categorical


@pytest.mark.parametrize("name", ["ecfs", "inffs"])
def test_featimp_beats_the_onehot_encoder_workaround(bench, tables, name):
    spec = get_method(name)
    before, after = [], []
    for seed, (X, y, truth) in zip(SEEDS, tables, strict=True):
        for out, variant in ((before, "before"), (after, "featimp, default")):
            out.append(bench.scale_bias_one(spec, X, y, truth, seed, variant))
    p_before = np.array([r["precision_at_k"] for r in before])
    p_after = np.array([r["precision_at_k"] for r in after])
    assert (p_after > p_before).all(), (p_before, p_after)
    assert p_after.mean() - p_before.mean() >= 0.2
    assert all(r["high_cardinality_in_top"] == 1 for r in before)
    assert all(r["high_cardinality_in_top"] == 0 for r in after)


@pytest.mark.parametrize("name", ["ecfs", "inffs"])
def test_raw_scale_pushes_dummies_down_standardising_lifts_them(bench, tables, name):
    # Without the high-cardinality columns (whose spread dominates the raw
    # S term) the one-hot scale bias shows alone: a 0/1 dummy's standard
    # deviation of at most 0.5 loses to the numeric columns' ~1.
    spec = get_method(name)
    shares = {variant: [] for variant in ("before", "featimp, default")}
    for seed, (X, y, truth) in zip(SEEDS, tables, strict=True):
        X = X.drop(columns=truth.features("high_cardinality_noise"))
        for variant, out in shares.items():
            row = bench.scale_bias_one(spec, X, y, truth, seed, variant)
            out.append(row["categorical_in_top"])
    assert np.mean(shares["before"]) <= 0.2, shares
    assert np.mean(shares["featimp, default"]) == 1.0, shares
