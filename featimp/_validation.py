"""Input checks shared by every method.

The score functions and the selectors call these before any numerical work so
that bad input fails with a message naming the offending column, not with a
traceback from deep inside numpy.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import type_of_target

from featimp._encoding import encode_table, to_pandas
from featimp._encoding import format_names as format_names

TASKS = ("classification", "regression")
#: The ``_parameter_constraints`` entry of every ``task`` parameter.
TASK_CONSTRAINT = [StrOptions({"auto", *TASKS})]


def feature_names_of(X, n_features: int) -> list[str]:
    """Column names of ``X`` as strings, or ``x0 .. x{d-1}`` for arrays."""
    columns = getattr(X, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    return [f"x{j}" for j in range(n_features)]


def infer_task(y, task: str = "auto") -> str:
    """Return ``"classification"`` or ``"regression"`` for target ``y``.

    ``"auto"`` treats string, boolean and integer targets with at most
    ``max(20, sqrt(n))`` distinct values as classification, everything else as
    regression.
    """
    if task in TASKS:
        return task
    if task != "auto":
        raise ValueError(
            f"task must be 'auto', 'classification' or 'regression', got {task!r}"
        )
    y = np.asarray(y)
    if y.dtype.kind in "OUSb":
        return "classification"
    kind = type_of_target(y)
    if kind in ("binary", "multiclass"):
        n_unique = np.unique(y).size
        if y.dtype.kind in "iu" or n_unique <= max(20, int(np.sqrt(y.size))):
            return "classification"
    return "regression"


def encode_target(y, task: str) -> tuple[np.ndarray, np.ndarray | None]:
    """Return (y_encoded, classes). Classes are None for regression.

    Classification targets become integer codes 0..k-1; a target with a
    single class is an error.
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.ndim != 1:
        raise ValueError(f"y must be one-dimensional, got shape {y.shape}")
    if task == "classification":
        if y.dtype.kind in "fc" and not np.isfinite(y).all():
            raise ValueError("y contains NaN or infinity")
        classes, codes = np.unique(y, return_inverse=True)
        if classes.size < 2:
            raise ValueError(
                f"y has only one class ({classes[0]!r}); feature importance "
                "needs at least 2 classes"
            )
        return codes.astype(np.intp), classes
    y = np.asarray(y, dtype=float)
    if not np.isfinite(y).all():
        raise ValueError("y contains NaN or infinity")
    return y, None


def check_target(y, n_samples: int):
    """``y`` as a 1-D array of ``n_samples`` values without missing ones."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.shape[0] != n_samples:
        raise ValueError(
            f"X and y have different numbers of rows: {n_samples} and {y.shape[0]}"
        )
    missing = np.flatnonzero(pd.isna(y)) if y.ndim == 1 else []
    if len(missing):
        rows = ", ".join(str(i) for i in missing[:5])
        raise ValueError(
            f"y has {len(missing)} missing value(s) (row(s) {rows}"
            f"{', ...' if len(missing) > 5 else ''}); drop those rows or fill them"
        )
    return y


def check_numeric(X, who: str):
    """``X`` itself, after checking that it is finite numbers only.

    For models, and for selectors that do not read tables: a ValueError
    names the text, missing or infinite columns. Anything but a table or a
    2-D array (sparse input, 1-D or complex data) is left to scikit-learn's
    ``validate_data``, whose messages its common checks expect, and so are
    objects that are neither numbers nor text (numpy's TypeError).
    """
    frame = to_pandas(X)
    if isinstance(frame, pd.DataFrame):
        text = [c for c in frame.columns if not _is_number_column(frame[c])]
        values = None if text else frame.to_numpy(dtype=float, na_value=np.nan)
        names = [str(c) for c in frame.columns]
    elif isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "biufOUS":
        names = feature_names_of(X, X.shape[1])
        text = _text_columns(X, names) if X.dtype.kind in "OUS" else []
        if text is None:
            return X
        values = None if text else X.astype(float)
    else:
        return X
    if text:
        raise ValueError(
            f"non-numeric column(s) {format_names(text)}: {who} needs numbers; "
            "encode them first (the featimp selectors encode them themselves)"
        )
    bad = ~np.isfinite(values).all(axis=0)
    if bad.any():
        kind = "NaN" if np.isnan(values[:, bad]).any() else "infinity"
        raise ValueError(
            f"Input X contains {kind} in column(s) "
            f"{format_names(np.asarray(names)[bad])}; impute or drop them first"
        )
    return X


def _is_number_column(column) -> bool:
    return pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column)


def _text_columns(values: np.ndarray, names) -> list[str] | None:
    """Columns of an object array holding text that is not a number; None
    when some object is neither (numpy's own TypeError then says so)."""
    text = []
    for j, name in enumerate(names):
        try:
            values[:, j].astype(float)
        except ValueError:
            text.append(name)
        except TypeError:
            return None
    return text


def check_X_y(
    X,
    y=None,
    *,
    encoding: str = "codes",
    y_required: bool = True,
    min_samples: int = 2,
    copy: bool = True,
):
    """Validate and encode a table (and target) for a score function.

    Returns ``(table, y)``: the :class:`~featimp._encoding.EncodedTable` of
    ``X`` in ``encoding`` (see :mod:`featimp._encoding`) and ``y`` as an
    array, or None. ``copy=False`` is for functions that only read the
    values (see :func:`~featimp._encoding.encode_table`).
    """
    table = encode_table(X, encoding, copy)
    n, d = table.values.shape[0], table.n_features
    if d == 0:
        raise ValueError("X has 0 features; at least 1 is required")
    if n < min_samples:
        raise ValueError(f"X has {n} sample(s); at least {min_samples} are required")
    if y is None:
        if y_required:
            raise ValueError("this method is supervised: y is required")
        return table, None
    return table, check_target(y, n)


def check_random_state_seed(random_state) -> np.random.Generator:
    """A numpy Generator from None, an int, a Generator or a RandomState."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(2**31 - 1))
    if random_state is None or isinstance(random_state, numbers.Integral):
        return np.random.default_rng(random_state)
    raise ValueError(
        f"random_state must be None, an int or a Generator, got {random_state!r}"
    )
