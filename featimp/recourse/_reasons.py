"""Reason codes: each person's principal reasons ranked by responsiveness.

A lender must name the principal reasons for a denial; a reason the
applicant cannot act on is of no use to them. Here the reasons are the
person's original columns with a positive responsiveness score, most
responsive first, each with the change that makes it work, and
:func:`compare_reasons` sets them beside another explainer's top ``k``
(SHAP's, say), flagging the reasons nobody can act on.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from featimp.recourse._recourse import (
    Explained,
    Percentiles,
    action_text,
    run_batched,
)

STATUSES = ("approved", "responsive", "joint_only", "fixed", "not_certified")
REASON_COLUMNS = ["row", "rank", "feature", "responsiveness", "action"]


def row_status(approved, scores, fixed) -> np.ndarray:
    """Per row, one of :data:`STATUSES` (see ``ResponsivenessResult.status``)."""
    fixed = pd.array(fixed, dtype="boolean")
    known = fixed.to_numpy(dtype=bool, na_value=False)
    status = np.full(len(approved), "not_certified", dtype=object)
    status[~known & ~fixed.isna()] = "joint_only"
    status[known] = "fixed"
    status[np.asarray(scores).max(axis=1, initial=0) > 0] = "responsive"
    status[np.asarray(approved, dtype=bool)] = "approved"
    return status


def column_scores(explained: Explained, scores: np.ndarray):
    """Per row and original column, its responsiveness and the feature it
    comes from: the current category's dummy for a one-hot column, else the
    column's most responsive feature."""
    names, of_feature = explained.columns
    n = len(scores)
    values = np.zeros((n, len(names)))
    source = np.zeros((n, len(names)), dtype=int)
    raw = explained.action_set._raw
    for c in range(len(names)):
        features = np.flatnonzero(of_feature == c)
        categorical = raw is not None and raw.columns[c].kind == "categorical"
        block = explained.values if categorical else scores
        pick = features[np.argmax(block[:, features], axis=1)]
        source[:, c] = pick
        values[:, c] = scores[np.arange(n), pick]
    return values, source


def reasons_frame(explained: Explained, scores: pd.DataFrame, k: int) -> pd.DataFrame:
    """The long table of :meth:`ResponsivenessResult.reasons`."""
    names, _ = explained.columns
    values, source = column_scores(explained, scores.to_numpy())
    percentiles = Percentiles(explained.values)
    lines, searches = [], []
    for i, x in enumerate(explained.values):
        if explained.status[i] == "approved":
            continue
        order = np.argsort(-values[i], kind="stable")[:k]
        order = order[values[i, order] > 0]
        for rank, c in enumerate(order, 1):
            lines.append((explained.index[i], rank, names[c], values[i, c]))
            searches.append((x, source[i, c]))
    actions = run_batched(
        explained,
        (_cheapest_action(explained, x, j, percentiles) for x, j in searches),
    )
    lines = [(*line, action) for line, action in zip(lines, actions, strict=True)]
    frame = pd.DataFrame(lines, columns=REASON_COLUMNS)
    return frame.astype({"rank": int, "responsiveness": float, "action": str})


def _cheapest_action(explained, x, j, percentiles) -> str:
    """The change in feature ``j``'s 1-D reachable set from ``x`` with the
    smallest shift that gets the target, as text ("" when none does): a
    search of :func:`~featimp.recourse._recourse.run_batched`."""
    g = next(g for g in explained.groups if j in g.group)
    changes = explained.one_dim_changes(g, x, j)
    hit = np.flatnonzero((yield from explained.change_hits(x, g.group, changes)))
    if hit.size == 0:
        return ""
    shift = percentiles.shift(g.group, x, changes[hit])
    point = x.copy()
    point[g.group] += changes[hit[np.argmin(shift)]]
    return action_text(explained.changes(x, point))


def compare_reasons(result, attributions, *, k: int = 4) -> pd.DataFrame:
    """Another explainer's top ``k`` reasons beside responsiveness.

    Parameters
    ----------
    result : ResponsivenessResult
    attributions : DataFrame
        One row per explained row (same index), one column per feature or
        per original column, e.g. SHAP values of the score of the target;
        features of one original column are summed. The ``k`` largest
        absolute values of a row are its reasons.
    k : int, default=4

    Returns
    -------
    DataFrame with columns ``row``, ``rank``, ``feature``, ``attribution``,
    ``responsiveness`` and ``actionable`` (responsiveness > 0), for the
    rows not approved. The share of slots with ``actionable`` False is the
    share of reasons the person cannot act on.
    """
    explained = result._require_explained()
    names, of_feature = explained.columns
    frame = _by_column(pd.DataFrame(attributions), explained, names, of_feature)
    if len(frame) != len(result.scores) or not frame.index.equals(result.scores.index):
        raise ValueError(
            "attributions must have one row per explained row, with the same index"
        )
    values, _ = column_scores(explained, result.scores.to_numpy())
    magnitude = np.abs(frame.to_numpy(dtype=float))
    lines = []
    for i in range(len(frame)):
        if explained.status[i] == "approved":
            continue
        order = np.argsort(-magnitude[i], kind="stable")[:k]
        for rank, c in enumerate(order, 1):
            score = float(values[i, c])
            row = explained.index[i]
            attribution = float(frame.iat[i, c])
            lines.append((row, rank, names[c], attribution, score, score > 0))
    columns = ["row", "rank", "feature", "attribution", "responsiveness", "actionable"]
    return pd.DataFrame(lines, columns=columns)


def _by_column(frame, explained, names, of_feature) -> pd.DataFrame:
    columns = [str(c) for c in frame.columns]
    frame = frame.set_axis(columns, axis=1)
    if set(columns) == set(names):
        return frame[names]
    features = explained.action_set.names
    if set(columns) != set(features):
        raise ValueError(
            "attributions must have one column per feature or per original column "
            "of the action set"
        )
    values = frame[features].to_numpy(dtype=float)
    summed = np.zeros((len(frame), len(names)))
    np.add.at(summed.T, of_feature, values.T)
    return pd.DataFrame(summed, index=frame.index, columns=names)
