"""BaseImportanceSelector: the one selection rule every method shares."""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from featimp._validation import (
    check_finite_columns,
    check_object_array,
    encode_categorical_frame,
)

SELECTION_PARAMETERS = ("n_features_to_select", "threshold")
#: Parameters of the base class that are not passed to the score function.
BASE_PARAMETERS = (*SELECTION_PARAMETERS, "stability")
#: Bootstrap resamples for ``stability=True``.
DEFAULT_N_BOOTSTRAP = 50


def ranking_from_importances(importances) -> np.ndarray:
    """Ranks with 1 = most important; ties keep column order."""
    importances = np.asarray(importances, dtype=float)
    order = np.argsort(-importances, kind="stable")
    ranking = np.empty(importances.size, dtype=np.intp)
    ranking[order] = np.arange(1, importances.size + 1)
    return ranking


def n_selected(n_features_to_select, n_features: int) -> int:
    """Resolve an int count or a fraction in (0, 1] to a number of features."""
    if isinstance(n_features_to_select, Integral):
        return int(n_features_to_select)
    # Round first so that 0.6 * 10 is 6, not 7.
    return max(1, math.ceil(round(n_features_to_select * n_features, 9)))


class BaseImportanceSelector(SelectorMixin, BaseEstimator):
    """Select features by an importance score.

    Subclasses implement only ``_compute_importances(X, y)``, which receives
    validated float64 arrays and returns one non-negative-is-better score per
    feature. ``fit`` validates, calls it, and stores the scores and ranking.

    Selection: ``n_features_to_select`` keeps the best ``k`` features (an int,
    or a fraction of the features in (0, 1]); ``threshold`` keeps features
    whose importance is at least a value, or the ``"mean"`` or ``"median"``
    importance. With both, a feature must pass both. With neither, the best
    half is kept (as in ``sklearn.feature_selection.RFE``).

    Parameters
    ----------
    n_features_to_select : int >= 1, float in (0, 1] or None, default=None
        How many of the best features to keep (a fraction of them if float).
    threshold : float, "mean", "median" or None, default=None
        Keep features whose importance is at least this.
    stability : bool or int >= 2, default=False
        Also refit on bootstrap resamples (50 when True, else this many) and
        store rank intervals and selection stability in ``stability_``.
        Subclasses take it (and the two above) in their own signature.

    Attributes
    ----------
    importances_ : ndarray of shape (n_features_in_,)
        The scores; bigger is more important.
    feature_importances_ : ndarray of shape (n_features_in_,)
        Same array as ``importances_``, for ``SelectFromModel`` and friends.
    ranking_ : ndarray of shape (n_features_in_,)
        1 for the most important feature.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    stability_ : StabilityResult
        Only when ``stability`` is set.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_features_to_select": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "threshold": [
            Interval(Real, None, None, closed="neither"),
            StrOptions({"mean", "median"}),
            None,
        ],
        "stability": ["boolean", Interval(Integral, 2, None, closed="left")],
    }

    #: Whether ``fit`` needs a target.
    _requires_y = True
    #: Whether non-numeric DataFrame columns are accepted (as integer codes).
    _accepts_categorical = False

    def __init__(self, *, n_features_to_select=None, threshold=None):
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    #: The pure score function a selector wraps, as ``staticmethod(f)``. Its
    #: keyword arguments are the selector's parameters less the selection
    #: ones, so the default ``_compute_importances`` only has to call it.
    _score_function = None

    def _compute_importances(self, X, y):
        """Importances of the validated ``X``; override for anything but a call."""
        if self._score_function is None:  # pragma: no cover - abstract
            raise NotImplementedError(
                f"{type(self).__name__} must set _score_function or override "
                "_compute_importances"
            )
        params = self.get_params(deep=False)
        for name in BASE_PARAMETERS:
            params.pop(name, None)
        return self._score_function(X, y, **params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Compute the importances of the features of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features)
        y : array-like of shape (n_samples,), optional for unsupervised methods

        Returns
        -------
        self
        """
        X = self._check_named(X)
        if y is None and not self._requires_y:
            X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        else:
            X, y = validate_data(self, X, y, dtype=np.float64, ensure_min_samples=2)
        self._check_n_features_to_select(X.shape[1])
        importances = np.asarray(self._compute_importances(X, y), dtype=float)
        if importances.shape != (X.shape[1],):
            raise RuntimeError(
                f"{type(self).__name__} returned importances of shape "
                f"{importances.shape} for {X.shape[1]} features"
            )
        self.importances_ = importances
        self.feature_importances_ = importances
        self.ranking_ = ranking_from_importances(importances)
        if getattr(self, "stability", False):
            self.stability_ = self._bootstrap(X, y)
        return self

    def _bootstrap(self, X, y):
        """``stability_`` for ``stability=True``: the same selector, resampled."""
        from featimp._stability import bootstrap_stability

        names = getattr(self, "feature_names_in_", None)
        if names is not None:
            X = pd.DataFrame(X, columns=names)
        n = DEFAULT_N_BOOTSTRAP if self.stability is True else int(self.stability)
        return bootstrap_stability(
            clone(self).set_params(stability=False),
            X,
            y,
            n_bootstrap=n,
            # Methods without a random_state are deterministic: so is this.
            random_state=getattr(self, "random_state", 0),
        )

    def _check_named(self, X):
        """Fail early, naming columns, on non-numeric or non-finite input."""
        if isinstance(X, pd.DataFrame):
            X = encode_categorical_frame(X, allow_categorical=self._accepts_categorical)
        else:
            check_object_array(X)
        check_finite_columns(X)
        return X

    def _check_n_features_to_select(self, n_features: int) -> None:
        k = self.n_features_to_select
        if isinstance(k, Integral) and k > n_features:
            raise ValueError(
                f"n_features_to_select={k} is larger than the number of "
                f"features in X ({n_features})"
            )

    def _get_support_mask(self):
        check_is_fitted(self, "importances_")
        importances = self.importances_
        d = importances.size
        mask = np.ones(d, dtype=bool)
        if self.n_features_to_select is None and self.threshold is None:
            mask &= self.ranking_ <= max(1, d // 2)
        if self.n_features_to_select is not None:
            k = n_selected(self.n_features_to_select, d)
            mask &= self.ranking_ <= k
        if self.threshold is not None:
            mask &= importances >= self._threshold_value(importances)
        return mask

    def _threshold_value(self, importances) -> float:
        if self.threshold == "mean":
            return float(np.mean(importances))
        if self.threshold == "median":
            return float(np.median(importances))
        return float(self.threshold)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._requires_y
        tags.input_tags.allow_nan = False
        return tags
