"""How an action set's columns come from the user's own columns.

:meth:`ActionSet.from_data <featimp.recourse.ActionSet.from_data>` encodes a
mixed table with :func:`featimp._encoding.encode_table` (``"onehot"``) and
keeps what it learned here, so that new rows in the user's columns are
encoded the same way (same dummies, same category order, same imputed
value) and candidate points can be decoded back to the user's columns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from featimp._encoding import (
    MISSING,
    Column,
    EncodedTable,
    _onehot_columns,
    format_names,
    to_pandas,
)


@dataclass(frozen=True)
class RawEncoding:
    """The raw columns of an action set and how each one is encoded.

    Attributes
    ----------
    columns : tuple of Column
        The user's columns, in order (see :class:`featimp._encoding.Column`).
    fill_values : tuple of float or None
        The value imputed for a missing number (the median seen by
        ``from_data``), per column; None where nothing is imputed.
    """

    columns: tuple
    fill_values: tuple

    @classmethod
    def from_table(cls, table: EncodedTable) -> RawEncoding:
        """The encoding of ``table`` (a ``"onehot"`` :class:`EncodedTable`)."""
        fills = []
        for j, column in enumerate(table.columns):
            fill = None
            if column.kind == "numeric" and column.n_missing and not column.unusable:
                value, indicator = np.flatnonzero(table.groups == j)
                # Every missing row holds the imputed value.
                fill = float(table.values[table.values[:, indicator] == 1, value][0])
            fills.append(fill)
        raw = cls(tuple(table.columns), tuple(fills))
        if raw.encoded_names != list(table.encoded_names):  # pragma: no cover
            raise RuntimeError("the recourse encoding disagrees with encode_table")
        return raw

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def names_of(self, j: int) -> list[str]:
        """Encoded names of raw column ``j``."""
        column = self.columns[j]
        if column.kind == "categorical":
            return _onehot_columns(column, np.empty(0, dtype=object))[1]
        if column.n_missing and not column.unusable:
            return [column.name, f"{column.name}={MISSING}"]
        return [column.name]

    @property
    def encoded_names(self) -> list[str]:
        return [n for j in range(len(self.columns)) for n in self.names_of(j)]

    @property
    def groups(self) -> np.ndarray:
        """Index of the raw column each encoded column comes from."""
        sizes = [len(self.names_of(j)) for j in range(len(self.columns))]
        return np.repeat(np.arange(len(sizes)), sizes)

    def encode(self, X) -> pd.DataFrame:
        """Rows in the raw columns as encoded columns (index kept)."""
        X = to_pandas(X)
        if not isinstance(X, pd.DataFrame):
            raise TypeError(
                f"rows in the raw columns must be a DataFrame, got {type(X).__name__}"
            )
        X = X.rename(columns=str)
        missing = [n for n in self.names if n not in X.columns]
        extra = [c for c in X.columns if c not in set(self.names)]
        if missing or extra:
            raise ValueError(
                f"columns of X do not match the action set's raw columns: missing "
                f"{missing}, unknown {extra}"
            )
        parts = []
        for column, fill in zip(self.columns, self.fill_values, strict=True):
            parts += _encode_column(column, fill, X[column.name])
        values = np.column_stack(parts) if parts else np.empty((len(X), 0))
        return pd.DataFrame(values, index=X.index, columns=self.encoded_names)

    def decode(self, values, index=None) -> pd.DataFrame:
        """Encoded rows (an array in encoded column order) as raw columns."""
        values = np.asarray(values, dtype=float)
        groups, data = self.groups, {}
        for j, column in enumerate(self.columns):
            block = values[:, groups == j]
            data[column.name] = _decode_column(column, block)
        return pd.DataFrame(data, index=index, columns=self.names)

    def aggregate_rows(self, scores: np.ndarray, rule: str = "max") -> np.ndarray:
        """Per-raw-column scores of each row, by :meth:`EncodedTable.aggregate`."""
        table = EncodedTable(
            values=np.empty((0, len(self.groups))),
            columns=list(self.columns),
            groups=self.groups,
            encoded_names=self.encoded_names,
            categorical=np.zeros(len(self.groups), dtype=bool),
        )
        return np.array([table.aggregate(row, rule) for row in scores]).reshape(
            len(scores), len(self.columns)
        )

    def to_list(self) -> list[dict]:
        """JSON-safe description of the columns (categories as plain values)."""
        return [
            {
                "name": c.name,
                "kind": c.kind,
                "categories": [_plain(v) for v in c.categories],
                "n_missing": int(c.n_missing),
                "unusable": c.unusable,
                "fill_value": fill,
            }
            for c, fill in zip(self.columns, self.fill_values, strict=True)
        ]

    @classmethod
    def from_list(cls, items) -> RawEncoding:
        """Inverse of :meth:`to_list`."""
        columns, fills = [], []
        for item in items:
            item = dict(item)
            fill = item.pop("fill_value", None)
            item["categories"] = tuple(item.get("categories") or ())
            columns.append(Column(**item))
            fills.append(None if fill is None else float(fill))
        return cls(tuple(columns), tuple(fills))


def _plain(value):
    return value.item() if isinstance(value, np.generic) else value


def _rows(mask) -> str:
    rows = np.flatnonzero(mask)
    shown = ", ".join(str(i) for i in rows[:5])
    return f"row(s) {shown}{', ...' if len(rows) > 5 else ''}"


def _encode_column(column: Column, fill, series: pd.Series) -> list[np.ndarray]:
    missing = series.isna().to_numpy()
    if column.unusable:
        return [np.zeros(len(series))]
    if missing.any() and not column.n_missing:
        raise ValueError(
            f"column {column.name!r} has missing values ({_rows(missing)}) but "
            "had none when the action set was built; fill them or rebuild the "
            "action set from data with missing values in this column"
        )
    if column.kind == "categorical":
        values = series.to_numpy(dtype=object)
        # Checked first: pandas deprecates codes for unknown categories.
        unseen = ~pd.Series(values).isin(column.categories).to_numpy() & ~missing
        if unseen.any():
            raise ValueError(
                f"column {column.name!r} has categories the action set does not "
                f"know ({_rows(unseen)}: {format_names(pd.unique(values[unseen]))}); "
                f"known: {format_names(column.categories)}"
            )
        return _onehot_columns(column, values)[0]
    numbers = pd.to_numeric(series, errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    text = np.isnan(numbers) & ~missing
    if text.any():
        raise ValueError(
            f"column {column.name!r} is numeric in the action set but has "
            f"values that are not numbers ({_rows(text)})"
        )
    if not column.n_missing:
        return [numbers]
    return [np.where(missing, fill, numbers), missing.astype(float)]


def _decode_column(column: Column, block: np.ndarray) -> np.ndarray:
    if column.unusable:
        return np.full(len(block), np.nan)
    if column.kind == "categorical":
        labels = np.array(
            [*column.categories, *([np.nan] if column.n_missing else [])], dtype=object
        )
        return labels[np.argmax(block, axis=1)]
    values = block[:, 0].copy()
    if column.n_missing:
        values[block[:, 1] > 0.5] = np.nan
    return values


def is_raw_frame(X, raw: RawEncoding | None) -> bool:
    """Whether ``X`` is a frame whose columns are the raw columns of ``raw``."""
    if raw is None or not hasattr(X, "columns"):
        return False
    return {str(c) for c in X.columns} == set(raw.names)
