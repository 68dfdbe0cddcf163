"""The one selection rule: from importances to ranks and a support mask.

A leaf module (numpy only), as scikit-learn keeps ``_calculate_threshold``
outside its selectors: :class:`~featimp.BaseImportanceSelector` selects
with it after ``fit``, and the bootstrap of :mod:`featimp._stability` and
the consensus select each resample's set with it, from importances alone,
without a fitted estimator.
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np


def ranking_from_importances(importances) -> np.ndarray:
    """Ranks with 1 = most important; ties keep column order.

    Examples
    --------
    >>> ranking_from_importances([0.1, 0.5, 0.5, 0.0]).tolist()
    [3, 1, 2, 4]
    """
    importances = np.asarray(importances, dtype=float)
    order = np.argsort(-importances, kind="stable")
    ranking = np.empty(importances.size, dtype=np.intp)
    ranking[order] = np.arange(1, importances.size + 1)
    return ranking


def n_selected(n_features_to_select, n_features: int) -> int:
    """Resolve an int count or a fraction in (0, 1] to a number of features.

    Examples
    --------
    >>> n_selected(3, 10), n_selected(0.6, 10), n_selected(0.01, 10)
    (3, 6, 1)
    """
    if isinstance(n_features_to_select, Integral):
        return int(n_features_to_select)
    # Round first so that 0.6 * 10 is 6, not 7.
    return max(1, math.ceil(round(n_features_to_select * n_features, 9)))


def threshold_value(threshold, importances) -> float:
    """The importance a feature must reach: a number, or ``"mean"``/``"median"``."""
    if threshold == "mean":
        return float(np.mean(importances))
    if threshold == "median":
        return float(np.median(importances))
    return float(threshold)


def support_mask(
    importances, ranking=None, n_features_to_select=None, threshold=None
) -> np.ndarray:
    """Which features the selection rule keeps.

    ``n_features_to_select`` keeps the ``k`` best by ``ranking`` (computed
    from ``importances`` when None); ``threshold`` keeps features whose
    importance is at least it; with both a feature must pass both; with
    neither, the best half is kept (as ``sklearn.feature_selection.RFE``).

    Examples
    --------
    >>> support_mask([0.4, 0.1, 0.3, 0.2]).tolist()
    [True, False, True, False]
    >>> support_mask([0.4, 0.1, 0.3, 0.2], n_features_to_select=3,
    ...              threshold="mean").tolist()
    [True, False, True, False]
    """
    importances = np.asarray(importances, dtype=float)
    if ranking is None:
        ranking = ranking_from_importances(importances)
    d = importances.size
    mask = np.ones(d, dtype=bool)
    if n_features_to_select is None and threshold is None:
        mask &= ranking <= max(1, d // 2)
    if n_features_to_select is not None:
        mask &= ranking <= n_selected(n_features_to_select, d)
    if threshold is not None:
        mask &= importances >= threshold_value(threshold, importances)
    return mask
