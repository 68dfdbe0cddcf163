"""FunctionSelector: any score function as a featimp selector."""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from featimp._base import BaseImportanceSelector


class FunctionSelector(BaseImportanceSelector):
    """Select features by the scores of an ad-hoc function.

    ``score_func(X, y, **kw_args)`` returns one bigger-is-better score per
    column, or a pair ``(scores, pvalues)`` as scikit-learn's univariate
    functions do (``f_classif``, ``chi2``, ``mutual_info_classif`` returns
    scores only), so that they plug in unchanged. The selector adds
    everything every featimp selector has: the selection rule, ``ranking_``,
    ``stability=``, pandas/polars output, ``Pipeline``/``GridSearchCV``/
    ``clone``/``joblib`` (with a picklable, module-level function), as
    imbalanced-learn's ``FunctionSampler`` does for samplers.

    Parameters
    ----------
    score_func : callable or None, default=None
        ``score_func(X, y, **kw_args) -> scores`` or ``(scores, pvalues)``.
        None scores every feature by its variance (a placeholder that keeps
        the estimator constructible without arguments, as scikit-learn asks).
    kw_args : dict or None, default=None
        Keyword arguments of ``score_func``.
    validate : bool, default=True
        True: ``score_func`` receives a finite float64 array, and text,
        categories or missing values are errors naming the columns. False:
        it receives the table as given (a pandas DataFrame; polars is
        converted), missing values and text included, and must cope.
    requires_y : bool, default=True
        Whether ``fit`` needs a target (False for an unsupervised score).
    n_features_to_select, threshold, stability
        Selection and bootstrap stability, as in
        :class:`~featimp.BaseImportanceSelector`.

    Attributes
    ----------
    importances_, feature_importances_, ranking_, n_features_in_,
    feature_names_in_, stability_
        As on every selector. A NaN score (a constant column under
        ``f_classif``, say) becomes the lowest float, so that such a
        feature ranks last, as in ``SelectKBest``.
    pvalues_ : ndarray of shape (n_features_in_,) or None
        The p-values when ``score_func`` returned them.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.feature_selection import f_classif
    >>> from featimp import FunctionSelector
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> sel = FunctionSelector(f_classif, n_features_to_select=3).fit(X, y)
    >>> sel.get_feature_names_out().tolist()
    ['mean concave points', 'worst perimeter', 'worst concave points']
    >>> sel.pvalues_.shape
    (30,)
    """

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        "score_func": [callable, None],
        "kw_args": [dict, None],
        "validate": ["boolean"],
        "requires_y": ["boolean"],
    }

    def __init__(
        self,
        score_func=None,
        *,
        kw_args=None,
        validate=True,
        requires_y=True,
        n_features_to_select=None,
        threshold=None,
        stability=False,
    ):
        self.score_func = score_func
        self.kw_args = kw_args
        self.validate = validate
        self.requires_y = requires_y
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold
        self.stability = stability

    @property
    def _reads_tables(self) -> bool:
        return not self.validate

    @property
    def _requires_y(self) -> bool:
        return self.requires_y

    def _compute_importances(self, X, y):
        self.pvalues_ = None
        if self.score_func is None:
            return np.nanvar(np.asarray(X, dtype=float), axis=0)
        result = self.score_func(X, y, **(self.kw_args or {}))
        if isinstance(result, tuple):
            if len(result) != 2:
                raise ValueError(
                    f"score_func returned a tuple of {len(result)} items; "
                    "expected scores or (scores, pvalues)"
                )
            result, pvalues = result
            self.pvalues_ = np.asarray(pvalues, dtype=float)
        scores = np.asarray(result, dtype=float)
        return np.where(np.isnan(scores), np.finfo(float).min, scores)
