"""The selection rule as a pure function (featimp/_selection.py)."""

import ast
from pathlib import Path

import numpy as np
import pytest
from sklearn.base import BaseEstimator
from sklearn.datasets import make_classification
from sklearn.feature_selection import RFE, SelectFromModel
from sklearn.linear_model import LogisticRegression

import featimp
from featimp._selection import (
    n_selected,
    ranking_from_importances,
    support_mask,
    threshold_value,
)
from featimp.baselines import LassoSelector

PACKAGE = Path(featimp.__file__).parent


def test_ranking_is_one_for_best_and_ties_keep_order():
    assert ranking_from_importances([0.1, 0.5, 0.5, 0.0]).tolist() == [3, 1, 2, 4]


@pytest.mark.parametrize(
    ("k", "d", "expected"),
    [
        (3, 10, 3),
        (0.6, 10, 6),
        (0.05, 10, 1),
        (1.0, 7, 7),
        (0.29, 100, 28),
        (0.25, 30, 7),
        (0.7, 10, 7),
    ],
)
def test_n_selected_truncates_fractions_as_rfe(k, d, expected):
    assert n_selected(k, d) == expected
    if k < 1 and d * k >= 1:  # RFE keeps int(d * k) features
        X, y = make_classification(60, d, random_state=0)
        rfe = RFE(LogisticRegression(), n_features_to_select=k, step=0.5).fit(X, y)
        assert rfe.n_features_ == expected


IMPORTANCES = np.array([0.4, 0.1, 0.3, 0.2, 0.0])


@pytest.mark.parametrize(
    ("k", "threshold", "expected"),
    [
        (None, None, [1, 0, 1, 0, 0]),  # the best half: 5 // 2 = 2
        (3, None, [1, 0, 1, 1, 0]),
        (0.4, None, [1, 0, 1, 0, 0]),
        (None, 0.2, [1, 0, 1, 1, 0]),
        (None, "mean", [1, 0, 1, 1, 0]),
        (None, "median", [1, 0, 1, 1, 0]),
        (2, 0.35, [1, 0, 0, 0, 0]),
    ],
)
def test_support_mask_rules(k, threshold, expected):
    mask = support_mask(IMPORTANCES, None, k, threshold)
    assert mask.tolist() == [bool(e) for e in expected]


def test_support_mask_uses_the_given_ranking_for_ties():
    tied = np.array([0.5, 0.5, 0.1])
    assert support_mask(tied, np.array([2, 1, 3]), 1).tolist() == [False, True, False]
    assert support_mask(tied, None, 1).tolist() == [True, False, False]


def test_threshold_value_reads_select_from_models_strings():
    assert threshold_value("mean", [1.0, 2.0, 6.0]) == 3.0
    assert threshold_value("median", [1.0, 2.0, 6.0]) == 2.0
    assert threshold_value("1.5*mean", [1.0, 2.0, 6.0]) == 4.5
    assert threshold_value(" 0.5 * median", [1.0, 2.0, 6.0]) == 1.0
    assert threshold_value(0.5, [1.0]) == 0.5


@pytest.mark.parametrize("bad", ["max", "x*mean", "1.5*", "mean*2"])
def test_a_bad_threshold_is_named_before_the_fit(bad, cancer):
    X, y = cancer
    with pytest.raises(ValueError, match=r"threshold=.*'1.25\*mean'"):
        LassoSelector(threshold=bad).fit(X, y)


def test_scaled_threshold_selects_as_select_from_model(cancer):
    X, y = cancer
    sel = LassoSelector(threshold="1.25*mean").fit(X, y)
    model = SelectFromModel(_Fixed(sel.importances_), threshold="1.25*mean")
    model.fit(X, y)
    assert sel.get_support().tolist() == model.get_support().tolist()


class _Fixed(BaseEstimator):
    """A prefit model whose feature_importances_ are given."""

    def __init__(self, importances=None):
        self.importances = importances

    def fit(self, X, y=None):
        self.feature_importances_ = np.asarray(self.importances)
        return self


def _featimp_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
    return {n for n in names if n.split(".")[0] == "featimp"}


def test_selection_is_a_leaf_and_the_stability_cycle_is_gone():
    assert _featimp_imports(PACKAGE / "_selection.py") == set()
    assert "featimp._base" not in _featimp_imports(PACKAGE / "_stability.py")
