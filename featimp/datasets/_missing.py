"""Seeded missing values, completely at random (MCAR) or at random (MAR)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
import pandas as pd

from featimp._validation import check_random_state_seed

MECHANISMS = ("MCAR", "MAR")


class MissingColumn(NamedTuple):
    """How :func:`add_missing` blanks one column.

    Attributes
    ----------
    rate : float
        Fraction of the column's cells set missing, in ``[0, 1)``.
    mechanism : {"MCAR", "MAR"}
        ``"MCAR"``: every row is equally likely to lose its cell.
        ``"MAR"``: a row's chance grows with the rank of its ``driver`` value.
    driver : str or None
        The observed numeric column MAR missingness depends on; None for MCAR.
    """

    rate: float
    mechanism: str
    driver: str | None = None


def add_missing(
    frame: pd.DataFrame, spec: Mapping, *, random_state=None
) -> pd.DataFrame:
    """A copy of ``frame`` with seeded missing cells in the columns of ``spec``.

    For each column, exactly ``round(rate * len(frame))`` rows, drawn without
    replacement, lose their cell. Under ``"MCAR"`` all rows are equally
    likely. Under ``"MAR"`` rows are drawn with weights proportional to the
    rank of their ``driver`` value (ties share the average rank), so the row
    with the largest driver value is up to ``len(frame)`` times as likely to
    lose its cell as the one with the smallest. Drivers must be numeric,
    complete and not in ``spec`` themselves, so that the missingness depends
    on observed values only.

    Missing cells are NaN: integer columns become float64, text columns keep
    their dtype (pandas' ``str`` or ``object``) with NaN for the missing
    text. The applied spec is recorded in ``attrs["missing"]`` of the result.

    Parameters
    ----------
    frame : DataFrame
    spec : mapping
        Column name -> :class:`MissingColumn` or a ``(rate, mechanism,
        driver)`` tuple. Columns are processed in the mapping's order, so the
        same spec and seed always give the same frame.
    random_state : None, int or numpy Generator, default=None

    Returns
    -------
    DataFrame

    Examples
    --------
    >>> frame = pd.DataFrame({"x": range(10), "z": range(10)})
    >>> out = add_missing(frame, {"x": (0.3, "MAR", "z")}, random_state=0)
    >>> int(out["x"].isna().sum()), str(out["x"].dtype)
    (3, 'float64')
    """
    spec = _check_spec(frame, spec)
    rng = check_random_state_seed(random_state)
    out = frame.copy()
    for column, entry in spec.items():
        rows = _draw_rows(frame, entry, rng)
        mask = np.zeros(len(frame), dtype=bool)
        mask[rows] = True
        out[column] = out[column].mask(mask)
    out.attrs["missing"] = {**frame.attrs.get("missing", {}), **spec}
    return out


def _check_spec(frame: pd.DataFrame, spec: Mapping) -> dict[str, MissingColumn]:
    checked = {column: _check_entry(frame, column, e) for column, e in spec.items()}
    for column, entry in checked.items():
        if entry.driver in checked:
            raise ValueError(
                f"driver {entry.driver!r} of {column!r} must stay complete, "
                "so it cannot be in spec itself"
            )
    return checked


def _check_entry(frame: pd.DataFrame, column: str, entry) -> MissingColumn:
    entry = MissingColumn(*entry)
    if column not in frame.columns:
        raise ValueError(f"spec names column {column!r}, which frame does not have")
    if not 0 <= entry.rate < 1:
        raise ValueError(f"rate for {column!r} must be in [0, 1), got {entry.rate}")
    if entry.mechanism not in MECHANISMS:
        raise ValueError(
            f"mechanism for {column!r} must be one of {MECHANISMS}, "
            f"got {entry.mechanism!r}"
        )
    if entry.mechanism == "MCAR" and entry.driver is not None:
        raise ValueError(f"MCAR column {column!r} takes no driver")
    if entry.mechanism == "MAR":
        _check_driver(frame, column, entry.driver)
    return entry


def _check_driver(frame: pd.DataFrame, column: str, driver) -> None:
    if driver not in frame.columns or driver == column:
        raise ValueError(
            f"MAR column {column!r} needs a driver: another column of frame, "
            f"got {driver!r}"
        )
    if not pd.api.types.is_numeric_dtype(frame[driver]):
        raise ValueError(f"driver {driver!r} of {column!r} must be numeric")
    if frame[driver].isna().any():
        raise ValueError(f"driver {driver!r} of {column!r} must have no missing values")


def _draw_rows(frame: pd.DataFrame, entry: MissingColumn, rng) -> np.ndarray:
    n = len(frame)
    p = None
    if entry.mechanism == "MAR":
        # Ranks, not raw values, so skewed drivers (amounts) do not put all the
        # missingness on a handful of extreme rows.
        rank = frame[entry.driver].rank(method="average").to_numpy()
        p = rank / rank.sum()
    return rng.choice(n, size=round(entry.rate * n), replace=False, p=p)
