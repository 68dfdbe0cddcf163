"""Margin bounds of tree ensembles: sound over boxes, exact at points, and
the branch and bound agrees with brute force for every model family read."""

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import make_classification
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.linear_model import LogisticRegression
from sklearn.tree import DecisionTreeClassifier

from featimp.recourse import ResponsivenessExplainer, taiwan_action_set
from featimp.recourse._recourse import search_options
from featimp.recourse._trees import margin_bounds


def _families():
    yield DecisionTreeClassifier(max_depth=4, random_state=0)
    yield RandomForestClassifier(20, max_depth=4, random_state=0)
    yield ExtraTreesClassifier(20, max_depth=4, random_state=0)
    yield GradientBoostingClassifier(n_estimators=20, random_state=0)
    yield HistGradientBoostingClassifier(max_iter=20, random_state=0)
    yield BaggingClassifier(
        DecisionTreeClassifier(max_depth=3),
        n_estimators=10,
        max_features=3,
        random_state=0,
    )
    xgboost = pytest.importorskip("xgboost")
    yield xgboost.XGBClassifier(n_estimators=20, max_depth=3)
    lightgbm = pytest.importorskip("lightgbm")
    yield lightgbm.LGBMClassifier(n_estimators=20, verbose=-1)


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(600, 4, n_informative=3, n_redundant=0, random_state=0)
    return np.round(X * 2), y


@pytest.mark.parametrize("model", list(_families()), ids=lambda m: type(m).__name__)
@pytest.mark.parametrize("target", [0, 1])
def test_bounds_agree_with_brute_force(data, model, target):
    X, y = data
    model.fit(X, y)
    bounds = margin_bounds(model, model.predict, target, None, X)
    assert bounds is not None
    rng = np.random.default_rng(0)
    decided = {False: 0, True: 0}
    for _ in range(25):
        x = X[rng.integers(len(X))].astype(float)
        lo, hi = x - rng.integers(0, 3, 4), x + rng.integers(0, 3, 4)
        axes = [np.arange(a, b + 1) for a, b in zip(lo, hi, strict=True)]
        grid = np.array(list(itertools.product(*axes)), dtype=float)
        hit = bool((model.predict(grid) == target).any())
        # Sound: a box the bound rules out has no point of the target.
        assert not (bounds.cannot_reach(bounds.upper_bound(lo, hi))[0] and hit)
        parts = [([j], a.astype(float)[:, None]) for j, a in enumerate(axes)]
        answer, point = bounds.reach(x, parts, budget=10**6)
        assert answer == hit
        if hit:
            assert model.predict(point[None, :])[0] == target
        # Every hit of the product is among the candidates.
        index, _ = bounds.candidates(x, parts, budget=np.inf)
        points = np.column_stack([a[index[:, j]] for j, a in enumerate(axes)])
        hits = {tuple(p) for p in grid[model.predict(grid) == target]}
        assert hits <= {tuple(p) for p in points}
        decided[hit] += 1
    assert decided[True] and decided[False]


def test_exact_at_points(data):
    X, y = data
    model = HistGradientBoostingClassifier(max_iter=30, random_state=0).fit(X, y)
    bounds = margin_bounds(model, model.predict, 1, None, X)
    margin = bounds.upper_bound(X, X)
    np.testing.assert_allclose(margin, model.decision_function(X), atol=bounds.tol)


def test_no_bounds_for_other_models(data):
    X, y = data
    model = LogisticRegression().fit(X, y)
    assert margin_bounds(model, model.predict, 1, None, X) is None
    three = np.where(X[:, 0] > 1, 2, y)
    tree = DecisionTreeClassifier(max_depth=3).fit(X, three)
    assert margin_bounds(tree, tree.predict, 1, None, X) is None


def test_a_model_that_fails_the_check_gets_no_bounds(data):
    """The reading is checked against the model's own decisions."""
    X, y = data
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    assert margin_bounds(model, lambda Z: 1 - model.predict(Z), 1, None, X) is None


def test_columns_follow_the_model(data):
    """A model fitted on a DataFrame in another column order."""
    X, y = data
    names = ["a", "b", "c", "d"]
    frame = pd.DataFrame(X, columns=names)[["d", "b", "a", "c"]]
    model = HistGradientBoostingClassifier(max_iter=20, random_state=0).fit(frame, y)

    def predict(Z):
        return model.predict(pd.DataFrame(Z, columns=names)[["d", "b", "a", "c"]])

    bounds = margin_bounds(model, predict, 1, np.array([2, 1, 3, 0]), X)
    assert bounds is not None
    np.testing.assert_allclose(
        bounds.upper_bound(X, X), model.decision_function(frame), atol=bounds.tol
    )


@pytest.fixture(scope="module")
def taiwan():
    from featimp.datasets._recourse import load_taiwan_recourse

    X, y = load_taiwan_recourse()
    X, y = X.iloc[:4000], y.iloc[:4000]
    model = HistGradientBoostingClassifier(max_iter=40, random_state=0).fit(X, y)
    return X, model, taiwan_action_set(X)


def test_taiwan_rows_decided_by_the_bound_are_right(taiwan):
    """Rows without a responsive feature: the bound decides rows a small
    enumeration budget leaves open, its actions get the target, and it
    agrees with every row the enumeration decides."""
    X, model, A = taiwan
    rows = X.iloc[:1500]
    res = ResponsivenessExplainer(model, A, random_state=0, max_joint=500).explain(rows)
    joint = res.status == "joint_only"
    assert joint.sum() > 0
    points = rows.to_numpy(float)[joint.to_numpy()] + res.actions[joint].to_numpy()
    assert (model.predict(pd.DataFrame(points, columns=rows.columns)) == 1).all()
    plain = ResponsivenessExplainer(
        model, A, random_state=0, certify="enumerate", max_joint=500
    )
    before = plain.explain(rows).status
    # The bound decides rows the enumeration could not, and never disagrees.
    decided = before.isin(["joint_only", "fixed"])
    assert (res.status[decided] == before[decided]).all()
    assert (res.status == "not_certified").sum() < (before == "not_certified").sum()


def test_search_with_bounds_finds_the_same_options(taiwan):
    """Pruning by the bound only skips points without the target: on rows
    the plain search finishes, both give the same options."""
    X, model, A = taiwan
    res = ResponsivenessExplainer(model, A, random_state=0).explain(X.iloc[:600])
    explained = res._explained
    rows = list(np.flatnonzero(np.isin(explained.status, ["responsive", "joint_only"])))
    assert explained.bounds is not None and rows
    plain = dataclasses.replace(explained, bounds=None, options_cache={})
    for (a, exact_a), (b, exact_b) in zip(
        search_options(explained, rows, 2), search_options(plain, rows, 2), strict=True
    ):
        if exact_b:
            assert exact_a
            assert [c for c, _, _ in a] == [c for c, _, _ in b]
            np.testing.assert_allclose([s for _, s, _ in a], [s for _, s, _ in b])
            for (_, _, p), (_, _, q) in zip(a, b, strict=True):
                np.testing.assert_array_equal(p, q)


def test_lone_integer_values_near_splits_equal_the_full_range(taiwan):
    """A lone integer feature's changes from the values next to the splits
    are those the compression of its full range keeps, row by row."""
    X, model, A = taiwan
    res = ResponsivenessExplainer(model, A, random_state=0).explain(X.iloc[:200])
    explained = res._explained
    lone = [
        g
        for g in explained.groups
        if len(g.group) == 1 and not g.constraints and g.elements[0].discrete
    ]
    long = [g for g in lone if g.elements[0].n_values(0) > 1000]
    assert long  # the amounts: tens of thousands of values each
    for x in explained.values[:60]:
        for g in lone:
            j = g.group[0]
            full = (g.elements[0].values(x[j]) - x[j])[:, None]
            slow = explained.compress(g, x, full[full[:, 0] != 0])
            np.testing.assert_array_equal(explained.joint_changes(g, x), slow)


@pytest.mark.parametrize(
    "model", list(_families())[3:5], ids=lambda m: type(m).__name__
)
def test_subset_bounds_equal_the_bounds_of_their_boxes(data, model, monkeypatch):
    X, y = data
    model.fit(X, y)
    bounds = margin_bounds(model, model.predict, 1, None, X)
    rng = np.random.default_rng(1)
    groups = [[0], [1, 2]]  # feature 3 stays at x
    subsets = [(), (0,), (1,), (0, 1)]
    # Small chunks: the subsets are bounded over several of them.
    monkeypatch.setattr("featimp.recourse._trees._CHUNK_CELLS", 3 * len(bounds.value))
    for _ in range(20):
        x = X[rng.integers(len(X))].astype(float)
        ranges = []
        for features in groups:
            lo = x[features] - rng.integers(0, 3, len(features))
            ranges.append((features, lo, lo + rng.integers(0, 4, len(features))))
        lo, hi = (
            np.repeat(x[None], len(subsets), 0),
            np.repeat(x[None], len(subsets), 0),
        )
        for i, subset in enumerate(subsets):
            for g in subset:
                features, a, b = ranges[g]
                lo[i, features], hi[i, features] = a, b
        np.testing.assert_allclose(
            bounds.subset_bounds(x, ranges, subsets), bounds.upper_bound(lo, hi)
        )
