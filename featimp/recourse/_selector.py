"""Global responsiveness as a registered feature-importance method."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions

from featimp._base import BaseImportanceSelector
from featimp._encoding import is_frame, to_pandas
from featimp._validation import check_X_y
from featimp.recourse._action_set import ActionSet
from featimp.recourse._reachable import RULES
from featimp.recourse._scores import check_input, prediction_function, score_details


def responsiveness_importances(
    X,
    y,
    *,
    estimator=None,
    action_set=None,
    target=None,
    method="auto",
    rule="per_value",
    n_samples=20,
    random_state=None,
):
    """Mean responsiveness of each column over the rows a fitted model does
    not predict as ``target``: how often changing the column (within the
    action set) gets them there.

    ``X`` may be the user's own table: text, ``category`` and boolean
    columns and missing values are encoded as
    :meth:`ActionSet.from_data <featimp.recourse.ActionSet.from_data>`
    describes, the model is fitted and scored on the encoded features, and
    each original column gets one score: per row, the largest score of its
    features (``"max"``), then the mean over rows. A categorical column is a
    lever for a person when switching it to *any* of its categories gets
    them to ``target``; summing its dummies would instead reward columns for
    having many categories, and averaging would dilute the one category
    that works among those that do not. A numeric column's missing
    indicator cannot be acted on and scores 0, so the column keeps the score
    of its (imputed) values.

    Parameters
    ----------
    X : array-like, pandas or polars DataFrame of shape (n_samples, n_features)
        The user's table, or the features of ``action_set`` (already
        encoded, e.g. :func:`~featimp.datasets.load_german_recourse`).
    y : array-like of shape (n_samples,)
    estimator : classifier or None
        Cloned and fitted on the encoded features of ``X`` (an array in the
        order of the action set's features) and ``y``; None means a
        standardised ``LogisticRegression``.
    action_set : ActionSet, dict or None
        None infers one with ``ActionSet.from_data(X)`` (every feature
        actionable within its observed range, one-hot constraints for
        categories); a dict is read with ``ActionSet.from_dict``. Its raw
        columns (for an action set built from the user's table) or its
        features must be the columns of ``X``, in order.
    target : label or None
        The desired prediction; None takes the last class.
    method, rule, n_samples, random_state
        As in :func:`featimp.recourse.responsiveness_scores`.

    Returns
    -------
    ndarray of shape (n_features,)
        One score per column of ``X``, in [0, 1].

    Examples
    --------
    >>> from featimp.datasets import load_german_recourse
    >>> from featimp.recourse import german_action_set, responsiveness_importances
    >>> X, y = load_german_recourse()
    >>> scores = responsiveness_importances(X, y, action_set=german_action_set(X))
    >>> X.columns[scores.argmax()]
    'HasGuarantor'

    The raw German credit table, text columns and all:

    >>> from featimp.datasets import load_german_credit
    >>> from featimp.recourse import responsiveness_importances
    >>> X, y = load_german_credit()
    >>> scores = responsiveness_importances(X, y, random_state=0)
    >>> scores.shape, X.columns[scores.argmax()]
    ((20,), 'status_of_existing_checking_account')
    """
    table, y = check_X_y(X, y, encoding="onehot")
    frame = (
        to_pandas(X)
        if is_frame(X)
        else pd.DataFrame(np.asarray(X), columns=table.names)
    )
    if isinstance(action_set, dict):
        action_set = ActionSet.from_dict(action_set)
    inferred = action_set is None
    if inferred:
        action_set = ActionSet._from_table(table)
    raw = action_set.raw_columns is not None and table.names == [
        c.name for c in action_set.raw_columns
    ]
    if not raw and action_set.names != table.names:
        raise ValueError(
            f"the action set's features {action_set.names[:5]}... do not match "
            f"the columns of X {table.names[:5]}..."
        )
    # An action set inferred from this table has its encoding as features.
    values = (
        action_set.check_data(table.values)
        if inferred
        else check_input(frame, action_set)
    )
    if estimator is None:
        # Scaling makes the default converge quickly on raw-unit features.
        estimator = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    model = clone(estimator).fit(values, y)
    if target is None:
        target = model.classes_[-1]
    scores = _denied_scores(
        model,
        values,
        action_set,
        target,
        method=method,
        rule=rule,
        n_samples=n_samples,
        random_state=random_state,
    )
    if raw:
        scores = action_set._raw.aggregate_rows(scores, "max")
    return scores.mean(axis=0)


def _denied_scores(model, values, action_set, target, **kwargs):
    # Recourse is about the rows not yet predicted as target; a row already
    # at target would call every feature "responsive" for staying there.
    predict = prediction_function(model, action_set.names)
    denied = np.asarray(predict(values)) != target
    rows = values[denied] if denied.any() else values
    return score_details(model, rows, action_set, target=target, **kwargs).scores


class ResponsivenessSelector(BaseImportanceSelector):
    """Select the features that are the strongest levers of recourse.

    Wraps :func:`responsiveness_importances`: ``X`` may be the user's own
    table (text, categories, missing values), and every original column gets
    one importance, the largest over the features that encode it.

    Parameters
    ----------
    estimator : classifier or None, default=None
    action_set : ActionSet, dict or None, default=None
    target : label or None, default=None
    method : {"auto", "enumerate", "sample"}, default="auto"
    rule : {"per_value", "reference"}, default="per_value"
        Which points make up each feature's reachable set; see
        :func:`~featimp.recourse.responsiveness_scores`.
    n_samples : int, default=20
    random_state : int or None, default=None
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from featimp.datasets import load_german_recourse
    >>> from featimp.recourse import german_action_set
    >>> X, y = load_german_recourse()
    >>> sel = ResponsivenessSelector(action_set=german_action_set(X),
    ...                              n_features_to_select=3).fit(X, y)
    >>> list(sel.get_feature_names_out())
    ['HasGuarantor', 'CheckingAcct_geq_0', 'SavingsAcct_geq_100']
    """

    _test_params: ClassVar[dict] = {"n_samples": 3}

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        "estimator": [HasMethods(["fit", "predict"]), None],
        "action_set": [ActionSet, dict, None],
        "target": "no_validation",
        "method": [StrOptions({"auto", "enumerate", "sample"})],
        "rule": [StrOptions(set(RULES))],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        *,
        estimator=None,
        action_set=None,
        target=None,
        method="auto",
        rule="per_value",
        stability=False,
        n_samples=20,
        random_state=None,
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        super().__init__(n_features_to_select=n_features_to_select, threshold=threshold)
        self.estimator = estimator
        self.action_set = action_set
        self.target = target
        self.method = method
        self.rule = rule
        self.n_samples = n_samples
        self.random_state = random_state

    # Raw tables (text, categories, missing values) are encoded by
    # ActionSet.from_data, so fit hands them over as they are.
    _reads_tables = True

    def _compute_importances(self, X, y):
        names = getattr(self, "feature_names_in_", None)
        if names is not None and not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X, columns=[str(n) for n in names])
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(2**31 - 1)
        return responsiveness_importances(
            X,
            y,
            estimator=self.estimator,
            action_set=self.action_set,
            target=self.target,
            method=self.method,
            rule=self.rule,
            n_samples=self.n_samples,
            random_state=seed,
        )
