"""Which rows of a table to explain: the model's predictions and a filter.

The CLI's ``featimp explain --rows`` and the service's responsiveness job
both pick their rows here, so that the same table, model and action set give
the same report from either door.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from featimp.recourse._scores import check_input, on_features, prediction_function

#: What ``rows=`` may ask for: rows not predicted as the target, rows that
#: are, or every row.
ROW_FILTERS = ("denied", "approved", "all")
#: Columns of :func:`result_table` before the per-feature scores.
RESULT_COLUMNS = ("row", "prediction", "status", "fixed", "n_reachable")


def select_rows(model, action_set, X, *, rows="denied", target=1):
    """The model's prediction for every row of ``X``, and which to explain.

    Parameters
    ----------
    model : fitted estimator with ``predict``, or a callable
        As :class:`~featimp.recourse.ResponsivenessExplainer` takes it: on
        the action set's features, or on the user's raw columns.
    action_set : ActionSet
    X : DataFrame
        Rows in the action set's features, or in its ``raw_columns``. Rows
        that break the action set are a ValueError naming the row.
    rows : {"denied", "approved", "all"}, default="denied"
        ``"denied"``: rows the model does not predict as ``target``.
    target : label, default=1

    Returns
    -------
    predictions : ndarray of shape (n_rows,)
    keep : bool ndarray of shape (n_rows,)

    Examples
    --------
    >>> import pandas as pd
    >>> from featimp.recourse import ActionSet
    >>> X = pd.DataFrame({"income": [1.0, 5.0, 2.0]})
    >>> A = ActionSet.from_data(X)
    >>> predictions, keep = select_rows(lambda Z: (Z[:, 0] > 3).astype(int), A, X)
    >>> predictions.tolist(), keep.tolist()
    ([0, 1, 0], [True, False, True])
    """
    if rows not in ROW_FILTERS:
        raise ValueError(f"rows must be one of {ROW_FILTERS}, got {rows!r}")
    values = check_input(X, action_set)
    predict = prediction_function(on_features(model, action_set), action_set.names)
    predictions = np.asarray(predict(values))
    approved = predictions == target
    keep = {"denied": ~approved, "approved": approved}.get(rows)
    if keep is None:
        keep = np.ones(len(predictions), dtype=bool)
    return predictions, keep


def result_table(result, predictions) -> pd.DataFrame:
    """One row per explained row: :data:`RESULT_COLUMNS`, then one
    responsiveness score per feature (the service's job result, and
    ``featimp explain --output``).

    ``predictions`` are the model's, for the explained rows (as
    :func:`select_rows` gives them, filtered by ``keep``). ``row`` is the
    row's index label, which must be an integer (its position in the table
    the rows came from, for tables read from files).
    """
    scores = result.scores
    head = pd.DataFrame(
        {
            "row": np.asarray(scores.index, dtype=np.int64),
            "prediction": np.asarray(predictions),
            "status": result.status.astype(str).to_numpy(),
            "fixed": result.fixed.to_numpy(),
            "n_reachable": result.n_reachable.to_numpy(dtype=float),
        }
    ).astype({"fixed": "boolean"})
    return pd.concat([head, scores.reset_index(drop=True)], axis=1)
