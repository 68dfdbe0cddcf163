"""Input checks shared by every method.

The score functions and the selectors call these before any numerical work so
that bad input fails with a message naming the offending column, not with a
traceback from deep inside numpy.
"""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils.multiclass import type_of_target

TASKS = ("classification", "regression")


def feature_names_of(X, n_features: int) -> list[str]:
    """Column names of ``X`` as strings, or ``x0 .. x{d-1}`` for arrays."""
    columns = getattr(X, "columns", None)
    if columns is not None:
        return [str(c) for c in columns]
    return [f"x{j}" for j in range(n_features)]


def _format_columns(names, limit: int = 8) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(repr(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names) - limit} more)"
    return shown


def encode_categorical_frame(X: pd.DataFrame, *, allow_categorical: bool):
    """Return a float frame; non-numeric columns become integer codes.

    Raises a ValueError naming the non-numeric columns when
    ``allow_categorical`` is False.
    """
    non_numeric = [
        c
        for c in X.columns
        if not (pd.api.types.is_numeric_dtype(X[c]) or pd.api.types.is_bool_dtype(X[c]))
    ]
    if not non_numeric:
        return X
    if not allow_categorical:
        raise ValueError(
            f"non-numeric column(s) {_format_columns(non_numeric)}: encode them "
            "as numbers first, or use a method that accepts categoricals "
            "(e.g. method='mi')"
        )
    X = X.copy()
    for c in non_numeric:
        if X[c].isna().any():
            raise ValueError(f"column {c!r} has missing values")
        codes, _ = pd.factorize(X[c], sort=True)
        X[c] = codes
    return X


def check_finite_columns(X, feature_names=None) -> None:
    """Raise a ValueError naming the columns that hold NaN or infinity."""
    if isinstance(X, pd.DataFrame):
        numeric = X.select_dtypes(include=["number", "bool"])
        values = numeric.to_numpy(dtype=float, na_value=np.nan)
        names = [str(c) for c in numeric.columns]
    else:
        values = np.asarray(X)
        if values.dtype.kind not in "fc":
            return
        if values.ndim != 2:
            return
        names = feature_names or feature_names_of(X, values.shape[1])
    if values.size == 0 or values.ndim != 2:
        return
    bad = ~np.isfinite(values).all(axis=0)
    if bad.any():
        has_nan = np.isnan(values[:, bad]).any()
        kind = "NaN" if has_nan else "infinity"
        raise ValueError(
            f"Input X contains {kind} in column(s) "
            f"{_format_columns(np.asarray(names)[bad])}; impute or drop them first"
        )


def check_object_array(X) -> None:
    """For object arrays, name the columns holding strings that are not numbers."""
    values = np.asarray(X) if not isinstance(X, pd.DataFrame) else None
    if values is None or values.dtype.kind not in "OUS" or values.ndim != 2:
        return
    bad = []
    for j in range(values.shape[1]):
        try:
            values[:, j].astype(float)
        except ValueError:
            bad.append(f"x{j}")
        except TypeError:
            # Non-string objects (dicts, ...) keep numpy's own TypeError.
            return
    if bad:
        raise ValueError(
            f"non-numeric column(s) {_format_columns(bad)}: encode them as "
            "numbers first"
        )


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


def check_X_y(
    X,
    y=None,
    *,
    y_required: bool = True,
    allow_categorical: bool = False,
    min_samples: int = 2,
):
    """Validate a feature matrix (and target) for a score function.

    Returns ``(X, y, feature_names)`` with ``X`` a C-ordered float64 array.
    """
    if isinstance(X, pd.DataFrame):
        X = encode_categorical_frame(X, allow_categorical=allow_categorical)
    else:
        check_object_array(X)
    check_finite_columns(X)
    names = None
    if isinstance(X, pd.DataFrame):
        names = [str(c) for c in X.columns]
        X = X.to_numpy(dtype=float)
    X = np.asarray(X, dtype=float)
    if X.ndim == 1:
        raise ValueError(
            "X must be 2-D (n_samples, n_features); reshape a single feature "
            "with X.reshape(-1, 1)"
        )
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D, got {X.ndim} dimensions")
    n, d = X.shape
    if d == 0:
        raise ValueError("X has 0 features; at least 1 is required")
    if n < min_samples:
        raise ValueError(f"X has {n} sample(s); at least {min_samples} are required")
    names = names or feature_names_of(X, d)
    if y is None:
        if y_required:
            raise ValueError("this method is supervised: y is required")
        return np.ascontiguousarray(X), None, names
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.ravel()
    if y.shape[0] != n:
        raise ValueError(
            f"X and y have different numbers of rows: {n} and {y.shape[0]}"
        )
    return np.ascontiguousarray(X), y, names


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
