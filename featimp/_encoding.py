"""The encoding layer: the one place that turns a user's table into numbers.

Every method receives the table as the user has it (a NumPy array, or a
pandas or polars DataFrame whose columns may be numbers, booleans, text or
``category``, with missing values in any of them) and asks for it in one of
two encodings:

``"codes"`` (mutual information, mRMR, the tree models)
    One column per original column. Numbers and booleans stay numbers;
    categories become integer codes ``0 .. k-1`` (categories sorted as
    text); every missing value is NaN. Methods that read categories and
    missing values natively use this, together with
    :attr:`EncodedTable.categorical`.
``"onehot"`` (EC-FS, Inf-FS, LASSO, SVM-RFE, KAN, responsiveness)
    Only finite numbers. A categorical column becomes one 0/1 column per
    category, plus one for "missing" when it has missing values. A numeric
    column with missing values is imputed with its median and gets a 0/1
    missing indicator beside it, so that missingness itself can carry
    signal and no row is dropped.

Scores computed on the encoded columns come back to the original columns
through :meth:`EncodedTable.aggregate`, by a rule each method documents, so
every method returns one importance per original column, in column order.

Columns that cannot be used score 0, with one warning that names each of
them and says why, so that one bad column in a wide table does not stop
the run: a column that is entirely missing, one whose values cannot be
compared (unhashable objects such as lists or dicts), one that mixes
numbers with text that is not a number, and one that holds dates or
durations. Infinity is an error naming its column (it is a bad value, not a
bad column). A column with a single value is used as it is: it carries no
information, and every method scores it lowest.

Examples
--------
>>> import pandas as pd
>>> from featimp._encoding import encode_table
>>> X = pd.DataFrame({"age": [30.0, None, 50.0], "job": ["a", "b", None]})
>>> table = encode_table(X, "onehot")
>>> table.encoded_names
['age', 'age=<missing>', 'job=a', 'job=b', 'job=<missing>']
>>> table.values[:, :2].tolist()
[[30.0, 0.0], [40.0, 1.0], [50.0, 0.0]]
>>> table.aggregate([0.1, 0.2, 0.3, 0.4, 0.0], "max").tolist()
[0.2, 0.4]
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

#: Label of the category (and of the indicator) that stands for missing.
MISSING = "<missing>"
ENCODINGS = ("codes", "onehot")
AGGREGATIONS = ("sum", "max", "l2")
#: Column kinds: numbers and booleans are "numeric", the rest "categorical".
KINDS = ("numeric", "categorical")


@dataclass(frozen=True)
class Column:
    """What the encoding layer learned about one original column."""

    name: str
    kind: str
    #: Observed categories in code order (categorical columns only).
    categories: tuple = ()
    n_missing: int = 0
    #: Why the column cannot be used (it then scores 0), or None.
    unusable: str | None = None


def format_names(names, limit: int = 8) -> str:
    names = [str(n) for n in names]
    shown = ", ".join(repr(n) for n in names[:limit])
    if len(names) > limit:
        shown += f", ... ({len(names) - limit} more)"
    return shown


def is_frame(X) -> bool:
    """Whether ``X`` is a pandas or polars DataFrame."""
    return isinstance(X, pd.DataFrame) or _is_polars_frame(X)


def _is_polars_frame(X) -> bool:
    return type(X).__module__.split(".")[0] == "polars" and hasattr(X, "schema")


def to_pandas(X):
    """A pandas frame for a pandas or polars frame; anything else unchanged.

    polars columns are converted one by one through NumPy (no pyarrow
    needed): nulls become NaN in numeric columns and None in text ones.
    """
    if not _is_polars_frame(X):
        return X
    data = {}
    for name in X.columns:
        series = X.get_column(name)
        if series.dtype.is_numeric() and series.null_count():
            data[name] = series.cast(float).to_numpy()
        else:
            data[name] = series.to_numpy()
    return pd.DataFrame(data, columns=list(X.columns))


def _unhashable(values) -> object | None:
    for v in values:
        try:
            hash(v)
        except TypeError:
            return v
    return None


def _numeric_object(values: np.ndarray):
    """``(floats, None)`` for an object column of numbers, ``(None, None)``
    for a column of categories, ``(None, why)`` for numbers mixed with text
    that is not a number: neither a category nor a quantity."""
    is_text = np.array([isinstance(v, str) for v in values], dtype=bool)
    is_number = np.array(
        [isinstance(v, numbers.Number) and not isinstance(v, str) for v in values],
        dtype=bool,
    )
    if not is_number.any() or not (is_text | is_number).all():
        return None, None
    try:
        return values.astype(float), None
    except (TypeError, ValueError):
        text, number = values[is_text][0], values[is_number][0]
        return None, f"mixes numbers and text, e.g. {number!r} and {text!r}"


def _sort_order(unique: list) -> list[int]:
    """Positions of ``unique`` in category order: sorted, or by type name and
    text when the values do not compare."""
    positions = range(len(unique))
    try:
        return sorted(positions, key=unique.__getitem__)
    except TypeError:  # mixed hashable types: order them by their text
        return sorted(
            positions, key=lambda i: (type(unique[i]).__name__, str(unique[i]))
        )


def _factorized(factorized) -> tuple[tuple, np.ndarray]:
    """The categories in category order and each value's code in that order
    (a float, NaN where missing), from ``pd.factorize`` of the values.

    One hash pass finds both; only the few distinct values are sorted.
    """
    codes, unique = factorized
    unique = unique.tolist()
    order = _sort_order(unique)
    # Code -1 (missing) reads the trailing NaN.
    lookup = np.full(len(unique) + 1, np.nan)
    lookup[order] = np.arange(len(unique))
    return tuple(unique[i] for i in order), lookup[codes]


def _check_finite(name: str, values: np.ndarray) -> None:
    if np.isinf(values).any():
        raise ValueError(
            f"Input X contains infinity in column {name!r}; replace it by a "
            "finite value or by a missing value"
        )


def _unusable(name: str, n: int, why: str, n_missing: int = 0):
    return Column(name, "numeric", n_missing=n_missing, unusable=why), np.zeros(n)


def _inspect_floats(name: str, values: np.ndarray):
    """``(Column, values)`` for a column of NumPy numbers, as floats."""
    missing = np.isnan(values)
    n_missing = int(missing.sum())
    if n_missing == len(values):
        return _unusable(name, len(values), "is entirely missing", n_missing)
    _check_finite(name, values)
    return Column(name, "numeric", n_missing=n_missing), values


def _text_columns(names: list, ids: np.ndarray, words: list) -> list:
    """``(Column, codes)`` of text columns given as the rows of ``ids``:
    indices into the distinct strings ``words``, -1 where missing. The
    words a column does not use are not among its categories."""
    m, n = ids.shape
    width = len(words) + 1  # slot 0 of each row stands for missing
    # Indices as intp: NumPy indexes with them several times faster.
    slots = ids + (1 + width * np.arange(m, dtype=np.intp))[:, None]
    seen = np.zeros(m * width, dtype=bool)
    seen[slots.ravel()] = True
    seen = seen.reshape(m, width)
    missing = (
        np.count_nonzero(ids < 0, axis=1).tolist() if seen[:, 0].any() else [0] * m
    )
    # Each column's words in text order: sort all words once, then the
    # (column, word) pairs by column and by the word's place in that order.
    rank = np.empty(len(words), dtype=np.intp)
    rank[sorted(range(len(words)), key=words.__getitem__)] = np.arange(len(words))
    rows, used = np.nonzero(seen[:, 1:])
    used = used[np.argsort(rows * len(words) + rank[used], kind="stable")]
    bounds = np.searchsorted(rows, np.arange(m + 1))
    # NaN wherever a slot gets no code: the missing values.
    lookup = np.full(m * width, np.nan)
    lookup[rows * width + 1 + used] = np.arange(len(rows)) - bounds[rows]
    codes = lookup[slots]
    used, bounds = used.tolist(), bounds.tolist()
    out = []
    for j, (name, n_missing) in enumerate(zip(names, missing, strict=True)):
        if n_missing == n:
            out.append(_unusable(name, n, "is entirely missing", n_missing))
            continue
        categories = tuple([words[i] for i in used[bounds[j] : bounds[j + 1]]])
        column = Column(name, "categorical", categories=categories, n_missing=n_missing)
        out.append((column, codes[j]))
    return out


def _factorized_text(name: str, array) -> tuple:
    """``(Column, codes)`` of one pandas string array (text only: hashable,
    no numbers), factorized without a copy to Python objects."""
    ids, words = array.factorize()
    return _text_columns([name], ids[None, :], words.tolist())[0]


def _is_arrow_text(dtype) -> bool:
    return isinstance(dtype, pd.StringDtype) and dtype.storage == "pyarrow"


def _arrow_text_columns(names: list, arrays: list) -> list:
    """``(Column, codes)`` of pyarrow-backed text columns of one table, hashed
    together: one ``dictionary_encode`` over all of them costs much less than
    one ``factorize`` per column."""
    import pyarrow as pa  # these columns exist only when pyarrow does

    large = pa.large_string()
    chunks = []
    for array in arrays:
        arrow = pa.array(array)
        for chunk in getattr(arrow, "chunks", [arrow]):
            chunks.append(chunk if chunk.type == large else chunk.cast(large))
    encoded = pa.concat_arrays(chunks or [pa.array([], large)])
    encoded = encoded.dictionary_encode()
    n = len(arrays[0])
    if len(encoded.dictionary) > 2 * n:
        # Many distinct words: per-column work over all of them would cost
        # more than hashing each column again.
        return [_factorized_text(c, a) for c, a in zip(names, arrays, strict=True)]
    ids = encoded.indices
    ids = (ids.fill_null(-1) if ids.null_count else ids).to_numpy(zero_copy_only=False)
    words = encoded.dictionary.to_pylist()
    return _text_columns(names, ids.reshape(len(arrays), n), words)


def _inspect_series(name: str, series: pd.Series):
    """``(Column, values)``: floats for numeric columns; for categorical ones
    the category codes, as floats with NaN where missing."""
    dtype, n = series.dtype, len(series)
    if isinstance(dtype, np.dtype) and dtype.kind in "biuf":
        # Plain NumPy numbers: missing is NaN, so no separate isna pass.
        return _inspect_floats(name, series.to_numpy(dtype=float))
    if isinstance(dtype, pd.StringDtype):
        return _factorized_text(name, series.array)
    if pd.api.types.is_datetime64_any_dtype(dtype) or pd.api.types.is_timedelta64_dtype(
        dtype
    ):
        return _unusable(name, n, f"holds dates or durations ({dtype})")
    if pd.api.types.is_complex_dtype(dtype):
        return _unusable(name, n, "holds complex numbers")
    missing = series.isna().to_numpy()
    n_missing = int(missing.sum())
    if n_missing == n:
        return _unusable(name, n, "is entirely missing", n_missing)
    if pd.api.types.is_bool_dtype(dtype) or pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=float, na_value=np.nan)
        _check_finite(name, values)
        return Column(name, "numeric", n_missing=n_missing), values
    values = series.to_numpy(dtype=object)
    numeric = _inspect_objects(name, series, values, missing, n_missing)
    if numeric is not None:
        return numeric
    categories, codes = _factorized(pd.factorize(values))
    column = Column(name, "categorical", categories=categories, n_missing=n_missing)
    return column, codes


def _inspect_objects(name: str, series: pd.Series, values, missing, n_missing):
    """``(Column, values)`` for a column of objects that is not categorical
    (it cannot be used, or it holds numbers); None for a categorical one."""
    present = values[~missing]
    if pd.api.types.infer_dtype(present, skipna=False) == "string":
        return None  # all text: hashable, and no numbers
    n = len(values)
    odd = _unhashable(present)
    if odd is not None:
        return _unusable(name, n, f"holds {type(odd).__name__} values", n_missing)
    if isinstance(series.dtype, pd.CategoricalDtype):
        return None
    floats, why = _numeric_object(present)
    if why is not None:
        return _unusable(name, n, why, n_missing)
    if floats is None:
        return None
    full = np.full(n, np.nan)
    full[~missing] = floats
    _check_finite(name, full)
    return Column(name, "numeric", n_missing=n_missing), full


def _frame_of(X) -> pd.DataFrame:
    X = to_pandas(X)
    if isinstance(X, pd.DataFrame):
        return X
    array = np.asarray(X)
    if array.ndim != 2:
        raise ValueError(
            f"X must be 2-D (n_samples, n_features), got {array.ndim} dimension(s)"
            + (
                "; reshape a single feature with X.reshape(-1, 1)"
                if array.ndim == 1
                else ""
            )
        )
    return pd.DataFrame(array, columns=[f"x{j}" for j in range(array.shape[1])])


def _inspect_numeric_array(X: np.ndarray):
    values = X.astype(float, copy=False)
    missing = np.zeros(values.shape[1], dtype=np.intp)
    # A column's sum is finite unless it holds a NaN or an infinity (or its
    # finite values overflow): one read of the data, and only the columns
    # with a non-finite sum are searched.
    with np.errstate(over="ignore", invalid="ignore"):
        suspects = np.flatnonzero(~np.isfinite(np.add.reduce(values, axis=0)))
    if suspects.size:
        block = values[:, suspects]
        infinite = np.flatnonzero(np.isinf(block).any(axis=0))
        if infinite.size:
            j = suspects[infinite[0]]
            _check_finite(f"x{j}", values[:, j])
        missing[suspects] = np.isnan(block).sum(axis=0)
    n = len(values)
    # Python ints: 100,000 columns are built in a tenth of a second.
    columns = [
        Column(
            f"x{j}",
            "numeric",
            n_missing=count,
            unusable="is entirely missing" if count == n > 0 else None,
        )
        for j, count in enumerate(missing.tolist())
    ]
    return columns, _ColumnViews(values, columns)


class _ColumnViews(Sequence):
    """The columns of a numeric array as a sequence of views, made when
    asked for (zeros for an unusable column): a wide array that needs no
    column-by-column encoding never builds 100,000 of them."""

    def __init__(self, values: np.ndarray, columns):
        self._values, self._columns = values, columns

    def __len__(self) -> int:
        return len(self._columns)

    def __getitem__(self, j):
        if isinstance(j, slice):
            return [self[k] for k in range(*j.indices(len(self)))]
        if self._columns[j].unusable:
            return np.zeros(len(self._values))
        return self._values[:, j]


def _inspect(X):
    """``(frame, columns, values)``: as :func:`inspect_table`, but categorical
    columns come as their codes; ``frame`` is None for a numeric array."""
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "biuf":
        return None, *_inspect_numeric_array(X)
    frame = _frame_of(X)
    if not frame.columns.is_unique:
        dup = frame.columns[frame.columns.duplicated()].unique()
        raise ValueError(f"X has duplicated column name(s) {format_names(dup)}")
    columns, values, text = [], [], {}
    for position, (name, series) in enumerate(frame.items()):
        if _is_arrow_text(series.dtype):
            # Text cannot fail inspection: hash it all at the end.
            text[position] = str(name), series.array
            column, v = None, None
        else:
            column, v = _inspect_series(str(name), series)
        columns.append(column)
        values.append(v)
    if text:
        names, arrays = zip(*text.values(), strict=True)
        for position, (column, v) in zip(
            text, _arrow_text_columns(list(names), list(arrays)), strict=True
        ):
            columns[position], values[position] = column, v
    return frame, columns, values


def inspect_table(X) -> tuple[list[Column], list[np.ndarray]]:
    """Each column's kind and its values (floats, or objects for categories).

    Raises a ValueError naming the first column that cannot be used.
    """
    frame, columns, values = _inspect(X)
    objects = [
        frame.iloc[:, j].to_numpy(dtype=object) if c.kind == "categorical" else v
        for j, (c, v) in enumerate(zip(columns, values, strict=True))
    ]
    return columns, objects


def _category_codes(column: Column, values: np.ndarray) -> np.ndarray:
    """Codes ``0 .. k-1`` in the order of ``column.categories``; NaN if missing
    (or, for new data, a category that was not seen in fit)."""
    if len(values) == 0:
        return np.empty(0)
    codes, unique = pd.factorize(values)
    # Factorizing the categories followed by the distinct values gives each
    # value the code of its category (< k), or a new one if it has none.
    k = len(column.categories)
    both = np.empty(k + len(unique), dtype=object)
    both[:k] = _object_array(column.categories)
    both[k:] = unique
    position = pd.factorize(both)[0][k:].astype(float)
    position[position >= k] = np.nan
    # Code -1 (missing) reads the trailing NaN.
    return np.append(position, np.nan)[codes]


def _object_array(items) -> np.ndarray:
    """A 1-D object array of ``items``, even when they are tuples."""
    array = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        array[i] = item
    return array


@dataclass
class EncodedTable:
    """A table in one encoding, and how its columns map back.

    Attributes
    ----------
    values : ndarray of shape (n_samples, n_encoded)
        C-ordered float64.
    columns : list of Column
        The original columns, in order.
    groups : ndarray of shape (n_encoded,)
        Index of the original column each encoded column comes from.
    encoded_names : list of str
    categorical : ndarray of shape (n_encoded,)
        True for columns of category codes (``"codes"`` encoding only).
    """

    values: np.ndarray
    columns: list
    groups: np.ndarray
    encoded_names: list
    categorical: np.ndarray

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def n_features(self) -> int:
        return len(self.columns)

    @property
    def expanded(self) -> bool:
        """Whether any original column became several encoded columns."""
        return self.values.shape[1] != self.n_features

    @property
    def has_categories(self) -> bool:
        return any(c.kind == "categorical" for c in self.columns)

    def aggregate(self, scores, rule: str) -> np.ndarray:
        """Per-original-column scores from per-encoded-column ``scores``.

        ``"sum"`` adds a column's scores, ``"max"`` keeps its best one and
        ``"l2"`` takes their Euclidean norm. Columns that cannot be used
        score 0 whatever the rule.
        """
        scores = np.asarray(scores, dtype=float)
        if rule not in AGGREGATIONS:
            raise ValueError(f"rule must be one of {AGGREGATIONS}, got {rule!r}")
        d = self.n_features
        if not self.expanded:
            out = scores.copy()
        elif rule == "max":
            out = np.full(d, -np.inf)
            np.maximum.at(out, self.groups, scores)
        elif rule == "l2":
            out = np.sqrt(np.bincount(self.groups, weights=scores**2, minlength=d))
        else:
            out = np.bincount(self.groups, weights=scores, minlength=d)
        out[[c.unusable is not None for c in self.columns]] = 0.0
        return out


def _warn_unusable(columns) -> None:
    bad = [f"{c.name!r} {c.unusable}" for c in columns if c.unusable]
    if bad:
        shown = "; ".join(bad[:8]) + (
            f"; ... ({len(bad) - 8} more)" if len(bad) > 8 else ""
        )
        warnings.warn(
            f"column(s) that cannot be used score 0: {shown}",
            UserWarning,
            stacklevel=4,
        )


# The builders take a column as inspected: categorical columns as their codes.
def _codes_columns(column: Column, values: np.ndarray):
    return [values], [column.name], [column.kind == "categorical"]


def _onehot_encoded(column: Column, values: np.ndarray):
    if column.kind == "categorical":
        return _onehot_codes(column, values)
    return _onehot_numbers(column.name, values)


def _onehot_columns(column: Column, values: np.ndarray):
    """One-hot columns, names and flags of ``column`` from its raw values
    (objects for a categorical column, e.g. new rows)."""
    if column.kind == "categorical":
        return _onehot_codes(column, _category_codes(column, values))
    return _onehot_numbers(column.name, values)


def _onehot_codes(column: Column, codes: np.ndarray):
    labels = [*column.categories, *([MISSING] if column.n_missing else [])]
    codes = np.where(np.isnan(codes), len(column.categories), codes)
    parts = [(codes == k).astype(float) for k in range(len(labels))]
    return parts, [f"{column.name}={label}" for label in labels], [False] * len(parts)


def _onehot_numbers(name: str, values: np.ndarray):
    missing = np.isnan(values)
    if not missing.any():
        return [values], [name], [False]
    fill = np.median(values[~missing]) if not missing.all() else 0.0
    parts = [np.where(missing, fill, values), missing.astype(float)]
    return parts, [name, f"{name}={MISSING}"], [False, False]


def encode_table(X, encoding: str, copy: bool = True) -> EncodedTable:
    """Inspect ``X`` and encode it; see the module docstring.

    Parameters
    ----------
    X : array-like, pandas or polars DataFrame of shape (n_samples, n_features)
    encoding : {"codes", "onehot"}
    copy : bool, default=True
        False: a C-ordered float64 array without missing values is not
        copied; ``values`` is then a read-only view of it, so that nothing
        downstream can change the caller's data.

    Returns
    -------
    EncodedTable
    """
    if encoding not in ENCODINGS:
        raise ValueError(f"encoding must be one of {ENCODINGS}, got {encoding!r}")
    frame, columns, values = _inspect(X)
    if frame is None and not any(c.n_missing for c in columns):
        # A numeric array without missing values is its own encoding: one
        # contiguous copy, not a gather column by column (0.22 s of a 0.72 s
        # MI call at 200,000 x 100).
        if copy or not (X.dtype == float and X.flags.c_contiguous):
            values = np.array(X, dtype=float, order="C")
        else:
            # Copying 160 MB costs more than the MI that reads it (fresh pages).
            values = X.view()
            values.flags.writeable = False
        return EncodedTable(
            values=values,
            columns=columns,
            groups=np.arange(len(columns), dtype=np.intp),
            encoded_names=[c.name for c in columns],
            categorical=np.zeros(len(columns), dtype=bool),
        )
    _warn_unusable(columns)
    build = _codes_columns if encoding == "codes" else _onehot_encoded
    parts, names, categorical, groups = [], [], [], []
    for j, (column, v) in enumerate(zip(columns, values, strict=True)):
        p, n, c = build(column, v)
        parts += p
        names += n
        categorical += c
        groups += [j] * len(p)
    n_rows = len(values[0]) if values else 0
    matrix = np.column_stack(parts) if parts else np.empty((n_rows, 0))
    return EncodedTable(
        values=np.ascontiguousarray(matrix, dtype=float),
        columns=columns,
        groups=np.asarray(groups, dtype=np.intp),
        encoded_names=names,
        categorical=np.asarray(categorical, dtype=bool),
    )


def constant_columns(values: np.ndarray) -> np.ndarray:
    """Columns of ``values`` holding a single value; NaN counts as a value.

    A column that is constant where observed but has missing cells is not
    constant: whether a value is missing can carry information.
    """
    nan = np.isnan(values)
    low = np.where(nan, np.inf, values).min(axis=0)
    high = np.where(nan, -np.inf, values).max(axis=0)
    some, every = nan.any(axis=0), nan.all(axis=0)
    return every | (~some & (low == high))


def unusable_columns(X) -> np.ndarray:
    """Boolean mask of the columns of ``X`` that cannot be used (see above)."""
    if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
        return np.isnan(X).all(axis=0) if X.size else np.zeros(X.shape[1], bool)
    _, columns, _ = _inspect(X)
    return np.array([c.unusable is not None for c in columns], dtype=bool)
