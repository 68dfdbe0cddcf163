"""The one selection rule: from importances to ranks and a support mask.

A leaf module (numpy only), as scikit-learn keeps ``_calculate_threshold``
outside its selectors: :class:`~featimp.BaseImportanceSelector` selects
with it after ``fit``, and the bootstrap of :mod:`featimp._stability` and
the consensus select each resample's set with it, from importances alone,
without a fitted estimator.
"""

from __future__ import annotations

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

    A fraction is truncated as ``sklearn.feature_selection.RFE`` truncates
    it (``int(n_features * fraction)``), but never to 0 features.

    Examples
    --------
    >>> n_selected(3, 10), n_selected(0.6, 10), n_selected(0.29, 100)
    (3, 6, 28)
    >>> n_selected(0.01, 10)
    1
    """
    if isinstance(n_features_to_select, Integral):
        return int(n_features_to_select)
    return max(1, int(n_features * n_features_to_select))


def parse_threshold(threshold) -> tuple[float, str | None]:
    """``(scale, reference)`` of a threshold: a number is ``(value, None)``;
    ``"mean"``, ``"median"`` and ``SelectFromModel``'s ``"1.25*mean"``
    scale a reference. ValueError names ``threshold`` otherwise.

    Examples
    --------
    >>> parse_threshold("1.25*mean"), parse_threshold("median"), parse_threshold(0.5)
    ((1.25, 'mean'), (1.0, 'median'), (0.5, None))
    """
    if not isinstance(threshold, str):
        return float(threshold), None
    scale, star, reference = threshold.rpartition("*")
    reference = reference.strip()
    try:
        factor = float(scale) if star else 1.0
    except ValueError:
        factor = None
    if reference not in ("mean", "median") or factor is None:
        raise ValueError(
            f"threshold={threshold!r}: use a number, 'mean', 'median' or a "
            "scaled one such as '1.25*mean'"
        )
    return factor, reference


def threshold_value(threshold, importances) -> float:
    """The importance a feature must reach (see :func:`parse_threshold`)."""
    scale, reference = parse_threshold(threshold)
    if reference == "mean":
        return scale * float(np.mean(importances))
    if reference == "median":
        return scale * float(np.median(importances))
    return scale


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
