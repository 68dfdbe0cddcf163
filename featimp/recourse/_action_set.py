"""ActionSet: what each feature may become, and how features move together."""

from __future__ import annotations

import json
import math
import re
import warnings
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from featimp._encoding import MISSING, encode_table, to_pandas
from featimp.recourse._constraints import (
    Constraint,
    DirectionalLinkage,
    OneHotEncoding,
    constraint_from_dict,
)
from featimp.recourse._raw import RawEncoding, is_raw_frame

KINDS = ("bool", "int", "float")


@dataclass
class FeatureAction:
    """The actions allowed on one feature.

    ``step_direction`` is +1 (increase only), -1 (decrease only) or 0;
    ``step_lb``/``step_ub`` bound one change (``step_ub=2``: at most +2).
    ``grid`` optionally lists the values a float feature may take.
    """

    name: str
    kind: str = "float"
    lb: float = -math.inf
    ub: float = math.inf
    actionable: bool = True
    step_direction: int = 0
    step_lb: float = -math.inf
    step_ub: float = math.inf
    grid: list | None = field(default=None)

    def __setattr__(self, key, value):
        value = _check_attribute(self, key, value)
        super().__setattr__(key, value)

    @property
    def discrete(self) -> bool:
        return self.kind in ("bool", "int")

    def interval(self, x: float) -> tuple[float, float]:
        """The values reachable from ``x`` by one action: ``[lo, hi]``."""
        if not self.actionable:
            return x, x
        lo = max(self.lb, x + self.step_lb)
        hi = min(self.ub, x + self.step_ub)
        if self.step_direction > 0:
            lo = max(lo, x)
        elif self.step_direction < 0:
            hi = min(hi, x)
        return min(lo, x), max(hi, x)

    def intervals(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`interval` for an array of current values."""
        x = np.asarray(x, dtype=float)
        if not self.actionable:
            return x.copy(), x.copy()
        lo = np.maximum(self.lb, x + self.step_lb)
        hi = np.minimum(self.ub, x + self.step_ub)
        if self.step_direction > 0:
            lo = np.maximum(lo, x)
        elif self.step_direction < 0:
            hi = np.minimum(hi, x)
        return np.minimum(lo, x), np.maximum(hi, x)

    def values(self, x: float) -> np.ndarray:
        """Every value reachable from ``x`` (``x`` included), for discrete
        features or floats with a ``grid``; raises for plain floats."""
        lo, hi = self.interval(x)
        if self.discrete:
            self._check_finite(lo, hi, x)
            grid = np.arange(math.ceil(lo - x), math.floor(hi - x) + 1) + x
        elif self.grid is not None:
            grid = np.asarray(self.grid, dtype=float)
            grid = np.union1d(grid[(grid >= lo) & (grid <= hi)], [x])
        else:
            raise ValueError(
                f"feature {self.name!r} is continuous: give it a grid or use "
                "method='sample'"
            )
        return grid.astype(float)

    def _check_finite(self, lo: float, hi: float, x: float) -> None:
        """A discrete feature's reachable values must be countable."""
        if not (math.isfinite(lo) and math.isfinite(hi)):
            raise ValueError(
                f"{self.kind} feature {self.name!r} can reach an unbounded range "
                f"from {x:g} ([{lo:g}, {hi:g}]): give it finite lb/ub or "
                "step_lb/step_ub"
            )

    def n_values(self, x: float) -> float:
        """How many values ``values(x)`` has (inf for plain floats)."""
        if not self.actionable:
            return 1
        if self.discrete:
            lo, hi = self.interval(x)
            self._check_finite(lo, hi, x)
            return math.floor(hi - x) - math.ceil(lo - x) + 1
        if self.grid is not None:
            return self.values(x).size
        return math.inf


def _check_attribute(element, key, value):
    if key == "kind" and value not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {value!r}")
    if key in ("lb", "ub", "step_lb", "step_ub"):
        value = float(value)
        if math.isnan(value):
            raise ValueError(f"{key} of feature {element.name!r} is NaN")
    if key == "step_direction" and value not in (-1, 0, 1):
        raise ValueError(
            f"step_direction of feature {element.name!r} must be -1, 0 or 1, "
            f"got {value!r}"
        )
    if key == "actionable":
        value = bool(value)
    if key in ("step_direction",):
        value = int(value)
    return value


class _Selection:
    """Several features at once: reading gives a list, assigning broadcasts."""

    def __init__(self, elements):
        object.__setattr__(self, "_elements", list(elements))

    def __getattr__(self, key):
        return [getattr(e, key) for e in self._elements]

    def __setattr__(self, key, value):
        values = value if isinstance(value, list | tuple | np.ndarray) else None
        if values is not None and len(values) != len(self._elements):
            raise ValueError(
                f"got {len(values)} values of {key!r} for "
                f"{len(self._elements)} features"
            )
        for k, e in enumerate(self._elements):
            setattr(e, key, value if values is None else values[k])

    def __len__(self):
        return len(self._elements)

    def __iter__(self):
        return iter(self._elements)


class ActionSet:
    """Per-feature actions plus the constraints that tie features together.

    The features are numbers. :meth:`from_data` builds them from the user's
    own table (text, categories, missing values), one-hot encoded, and then
    remembers the table's columns (:attr:`raw_columns`): :meth:`encode` and
    :meth:`decode` translate rows, and :meth:`columns_of` names the features
    of one of the user's columns.

    Parameters
    ----------
    elements : list of FeatureAction
        One per column of the data, in column order.
    constraints : list of Constraint, optional

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"Age": [25, 40], "Male": [0, 1], "Savings": [0.5, 2.0]})
    >>> A = ActionSet.from_data(X)
    >>> A["Age"].kind, A["Male"].kind, A["Savings"].kind
    ('int', 'bool', 'float')
    >>> A[["Age", "Male"]].actionable = False
    >>> A.actionable_names
    ['Savings']

    A text column becomes one-hot features; ``columns_of`` selects them:

    >>> X = X.assign(Job=["clerk", "cook"])
    >>> A = ActionSet.from_data(X)
    >>> A.columns_of("Job")
    ['Job=clerk', 'Job=cook']
    >>> A[A.columns_of("Job")].actionable = False
    >>> A.actionable_names
    ['Age', 'Male', 'Savings']
    """

    def __init__(self, elements, constraints=()):
        self._elements = list(elements)
        names = [e.name for e in self._elements]
        if len(set(names)) != len(names):
            raise ValueError("feature names of an ActionSet must be unique")
        self._index = {n: j for j, n in enumerate(names)}
        self._raw: RawEncoding | None = None
        self.constraints: list[Constraint] = []
        for c in constraints:
            self.add_constraint(c)

    @classmethod
    def from_data(cls, X, *, guess_immutable: bool = False) -> ActionSet:
        """Infer each feature's kind and bounds from the data (all actionable).

        A table of numbers only, none missing, gives one feature per column:
        ``"bool"`` for 0/1 columns (bounds 0 and 1), ``"int"`` for whole
        numbers and ``"float"`` otherwise, bounded by the observed range.

        Any other table is one-hot encoded by :mod:`featimp._encoding`, with
        the same names and category order as every featimp method:

        - a text, ``category`` or other categorical column ``c`` becomes the
          boolean features ``c=<category>`` (plus ``c=<missing>`` when it has
          missing values) under a :class:`OneHotEncoding` constraint: a
          person can switch to any observed category. A column with a single
          category is not actionable;
        - a numeric column with missing values keeps its column, the missing
          cells imputed with the median, and gains a ``c=<missing>``
          indicator;
        - missing indicators are not actionable: nobody can choose to have a
          missing value (set them actionable to model "report a value");
        - a column that cannot be used (see :mod:`featimp._encoding`) is one
          non-actionable feature, with a warning.

        The action set then remembers the raw columns (:attr:`raw_columns`),
        so that :meth:`encode` and :meth:`decode` translate rows between the
        user's columns and the features, and the explainer and scores accept
        rows in the user's columns.

        With ``guess_immutable=True``, the columns whose names look like a
        protected or unchangeable attribute (age or birth, sex or gender,
        marital or personal status, foreign worker, race or ethnicity,
        nationality or citizenship) are not actionable, with one UserWarning
        listing them: the guess reads only names, so check it.

        Parameters
        ----------
        X : array-like, pandas or polars DataFrame of shape (n_samples, n_columns)
        guess_immutable : bool, default=False
            Make the columns named like the attributes above not actionable.

        Returns
        -------
        ActionSet

        Examples
        --------
        >>> import pandas as pd
        >>> X = pd.DataFrame({"purpose": ["car", "tv", None], "age": [30, 40, 50]})
        >>> A = ActionSet.from_data(X)
        >>> A.names
        ['purpose=car', 'purpose=tv', 'purpose=<missing>', 'age']
        >>> A.constraints[0].describe()
        'exactly one of purpose=car, purpose=tv, purpose=<missing> is 1'
        >>> A["purpose=<missing>"].actionable
        False

        >>> import warnings
        >>> X = pd.DataFrame({"AgeYears": [30, 40], "savings": [1.5, 2.0]})
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     A = ActionSet.from_data(X, guess_immutable=True)
        >>> A.actionable_names, len(caught)
        (['savings'], 1)
        """
        X = to_pandas(X)
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X))
        if X.shape[0] == 0:
            raise ValueError("cannot infer an ActionSet from empty X")
        A = cls._from_table(encode_table(X, "onehot"))
        if guess_immutable:
            A._fix_immutable_columns()
        return A

    def _fix_immutable_columns(self) -> None:
        """Make the columns named like protected attributes not actionable."""
        columns = self.names if self._raw is None else self._raw.names
        guessed = {c: guess_immutable(c) for c in map(str, columns)}
        guessed = {c: why for c, why in guessed.items() if why}
        if not guessed:
            return
        for column in guessed:
            self[self.columns_of(column)].actionable = False
        listed = ", ".join(f"{c} ({', '.join(w)})" for c, w in guessed.items())
        warnings.warn(
            f"not actionable, guessed from their names: {listed}; check the "
            "guess and set actionable where it is wrong",
            UserWarning,
            stacklevel=3,
        )

    @classmethod
    def _from_table(cls, table) -> ActionSet:
        """The action set of a ``"onehot"`` :class:`EncodedTable`."""
        elements = [
            _inferred_action(name, table.values[:, k])
            for k, name in enumerate(table.encoded_names)
        ]
        A = cls(elements)
        plain = not table.has_categories and not any(
            c.n_missing or c.unusable for c in table.columns
        )
        if not plain:
            A._set_raw(RawEncoding.from_table(table))
            A._constrain_raw_columns()
        return A

    def _set_raw(self, raw: RawEncoding) -> None:
        if raw.encoded_names != self.names:
            raise ValueError(
                f"the raw columns encode to {raw.encoded_names[:5]}..., but the "
                f"features are {self.names[:5]}..."
            )
        self._raw = raw

    def _constrain_raw_columns(self) -> None:
        for j, column in enumerate(self._raw.columns):
            names = self._raw.names_of(j)
            fixed = [n for n in names if n.endswith(f"={MISSING}")]
            if column.unusable or (column.kind == "categorical" and len(names) < 2):
                fixed = names
            elif column.kind == "categorical":
                self.add_constraint(OneHotEncoding(names))
            self[fixed].actionable = False

    @property
    def raw_columns(self) -> list | None:
        """The user's columns this action set encodes, or None.

        A list of :class:`featimp._encoding.Column` (name, kind, categories,
        number of missing values) when :meth:`from_data` had to encode the
        table (categories, missing values or unusable columns); None for a
        table of complete numbers, whose columns are the features.

        Examples
        --------
        >>> import pandas as pd
        >>> A = ActionSet.from_data(pd.DataFrame({"job": ["a", "b"], "age": [1, 2]}))
        >>> [(c.name, c.kind, c.categories) for c in A.raw_columns]
        [('job', 'categorical', ('a', 'b')), ('age', 'numeric', ())]
        >>> ActionSet.from_data(pd.DataFrame({"age": [1, 2]})).raw_columns is None
        True
        """
        return None if self._raw is None else list(self._raw.columns)

    @property
    def input_names(self) -> list[str]:
        """The columns rows to explain come in: the names of
        :attr:`raw_columns`, or the features when there are none.

        Examples
        --------
        >>> import pandas as pd
        >>> ActionSet.from_data(pd.DataFrame({"job": ["a", "b"]})).input_names
        ['job']
        """
        return self.names if self._raw is None else list(self._raw.names)

    def columns_of(self, column: str) -> list[str]:
        """The features that encode the user's column ``column``.

        The dummies of a categorical column, a numeric column and its missing
        indicator, or just ``[column]``. Use it to set a whole raw column at
        once: ``A[A.columns_of("purpose")].actionable = False``.

        Examples
        --------
        >>> import pandas as pd
        >>> A = ActionSet.from_data(pd.DataFrame({"job": ["a", "b"], "age": [1, 2]}))
        >>> A.columns_of("job"), A.columns_of("age")
        (['job=a', 'job=b'], ['age'])
        """
        if self._raw is not None and column in self._raw.names:
            return self._raw.names_of(self._raw.names.index(column))
        if column in self._index:
            return [column]
        raise ValueError(f"unknown column {column!r}: not in the action set")

    def encode(self, X) -> pd.DataFrame:
        """Rows in the user's own columns as the action set's features.

        Categories, missing values and the imputed value are encoded exactly
        as :meth:`from_data` encoded its table. A category or a missing
        value that table did not have is an error naming the column and the
        rows. Without :attr:`raw_columns` the features are the columns: the
        rows come back as floats in feature order.

        Parameters
        ----------
        X : pandas or polars DataFrame with the columns of :attr:`raw_columns`

        Returns
        -------
        DataFrame of shape (n_rows, n_features), with the index of ``X``

        Examples
        --------
        >>> import pandas as pd
        >>> X = pd.DataFrame({"job": ["a", "b", None], "age": [30.0, None, 50.0]})
        >>> A = ActionSet.from_data(X)
        >>> A.encode(X.tail(2)).to_dict("records")  # doctest: +NORMALIZE_WHITESPACE
        [{'job=a': 0.0, 'job=b': 1.0, 'job=<missing>': 0.0, 'age': 40.0,
          'age=<missing>': 1.0},
         {'job=a': 0.0, 'job=b': 0.0, 'job=<missing>': 1.0, 'age': 50.0,
          'age=<missing>': 0.0}]
        >>> A.decode(A.encode(X)).equals(X)
        True
        """
        if self._raw is None:
            index = X.index if isinstance(X, pd.DataFrame) else None
            return pd.DataFrame(
                self._values(to_pandas(X)), index=index, columns=self.names
            )
        return self._raw.encode(X)

    def decode(self, X) -> pd.DataFrame:
        """The action set's features back as the user's own columns.

        The inverse of :meth:`encode` for valid rows: a one-hot group becomes
        the category of its largest dummy (missing, NaN, for the
        ``<missing>`` dummy); a number whose missing indicator is on becomes
        NaN. Numbers come back as floats, categories as objects; a column
        that could not be used comes back missing. Without
        :attr:`raw_columns` the rows come back as they are, as floats.

        Parameters
        ----------
        X : DataFrame or array of shape (n_rows, n_features)

        Returns
        -------
        DataFrame with the columns of :attr:`raw_columns`

        Examples
        --------
        >>> import pandas as pd
        >>> A = ActionSet.from_data(pd.DataFrame({"job": ["a", "b"], "age": [1, 2]}))
        >>> A.decode([[0, 1, 5], [1, 0, 7]])
          job  age
        0   b  5.0
        1   a  7.0
        """
        index = X.index if isinstance(X, pd.DataFrame) else None
        values = self._values(X)
        if self._raw is None:
            return pd.DataFrame(values, index=index, columns=self.names)
        return self._raw.decode(values, index=index)

    def _encoded(self, X):
        """``X`` itself, or its encoding when it is in the raw columns."""
        X = to_pandas(X)
        return self._raw.encode(X) if is_raw_frame(X, self._raw) else X

    @property
    def names(self) -> list[str]:
        return [e.name for e in self._elements]

    @property
    def actionable_names(self) -> list[str]:
        return [e.name for e in self._elements if e.actionable]

    def __len__(self):
        return len(self._elements)

    def __iter__(self):
        return iter(self._elements)

    def __contains__(self, name):
        return name in self._index

    def index(self, names) -> list[int]:
        """Column positions of ``names``; unknown names raise a ValueError."""
        unknown = [n for n in names if n not in self._index]
        if unknown:
            raise ValueError(f"unknown feature name(s) {unknown} in the action set")
        return [self._index[n] for n in names]

    def __getitem__(self, key):
        if isinstance(key, str):
            return self._elements[self.index([key])[0]]
        if isinstance(key, int | np.integer):
            return self._elements[key]
        keys = list(key)
        if all(isinstance(k, int | np.integer) for k in keys):
            return _Selection(self._elements[k] for k in keys)
        return _Selection(self._elements[j] for j in self.index(keys))

    def add_constraint(self, constraint: Constraint) -> ActionSet:
        """Add a constraint after checking its names (and linkage cycles)."""
        if not isinstance(constraint, Constraint):
            raise TypeError(f"expected a Constraint, got {type(constraint).__name__}")
        self.index(constraint.names)
        if isinstance(constraint, DirectionalLinkage):
            _check_no_cycle([*self.constraints, constraint])
        self.constraints.append(constraint)
        return self

    def linkage_matrix(self) -> np.ndarray:
        """``L[s, t]`` = scale by which a change of s moves t."""
        d = len(self)
        L = np.zeros((d, d))
        for c in self.constraints:
            if isinstance(c, DirectionalLinkage):
                s = self._index[c.source]
                for t, scale in zip(c.targets, c.scales, strict=True):
                    L[s, self._index[t]] += scale
        return L

    def partition(self) -> list[list[int]]:
        """Groups of feature positions tied together by constraints."""
        parent = list(range(len(self)))

        def find(j):
            while parent[j] != j:
                parent[j] = parent[parent[j]]
                j = parent[j]
            return j

        for c in self.constraints:
            idx = self.index(c.names)
            for j in idx[1:]:
                parent[find(j)] = find(idx[0])
        groups: dict[int, list[int]] = {}
        for j in range(len(self)):
            groups.setdefault(find(j), []).append(j)
        return list(groups.values())

    def validate(self, X) -> pd.DataFrame:
        """One row per violation: ``row``, ``check`` and ``detail``.

        Empty when every row of ``X`` is within bounds and constraints.
        """
        values = self._values(X)
        rows = []
        for j, e in enumerate(self._elements):
            v = values[:, j]
            bad = (v < e.lb) | (v > e.ub)
            if e.discrete:
                bad |= v != np.round(v)
            if e.kind == "bool":
                bad |= ~np.isin(v, (0, 1))
            for i in np.flatnonzero(bad):
                rows.append((int(i), f"bounds of {e.name}", f"{e.name}={v[i]:g}"))
        for c in self.constraints:
            sub = values[:, self.index(c.names)]
            for i in np.flatnonzero(~c.check(sub)):
                detail = dict(zip(c.names, sub[i].tolist(), strict=True))
                rows.append((int(i), c.describe(), str(detail)))
        return pd.DataFrame(rows, columns=["row", "check", "detail"])

    def check_data(self, X) -> np.ndarray:
        """Values of ``X`` as floats; a ValueError lists violating rows."""
        values = self._values(X)
        violations = self.validate(values)
        if len(violations):
            head = violations.head(5)
            listed = "; ".join(
                f"row {r}: {c} ({d})" for r, c, d in head.itertuples(index=False)
            )
            more = len(violations) - len(head)
            raise ValueError(
                f"X violates the action set in {len(violations)} place(s): "
                f"{listed}{f'; ... {more} more' if more else ''}"
            )
        return values

    def _values(self, X) -> np.ndarray:
        if isinstance(X, pd.DataFrame):
            missing = [n for n in self.names if n not in X.columns]
            extra = [str(c) for c in X.columns if str(c) not in self._index]
            if missing or extra:
                raise ValueError(
                    f"columns of X do not match the action set: missing {missing}, "
                    f"unknown {extra}"
                )
            X = X[self.names]
        values = np.asarray(X, dtype=float)
        if values.ndim != 2 or values.shape[1] != len(self):
            raise ValueError(
                f"X must have shape (n, {len(self)}) to match the action set, "
                f"got {values.shape}"
            )
        return values

    def to_frame(self) -> pd.DataFrame:
        """One row per feature: kind, bounds, actionability and steps."""
        keys = [f.name for f in fields(FeatureAction) if f.name not in ("grid",)]
        table = [[getattr(e, k) for k in keys] for e in self]
        frame = pd.DataFrame(table, columns=keys)
        return frame.set_index("name")

    def to_dict(self) -> dict:
        """JSON-safe: infinite bounds become None.

        An action set built from a mixed table also stores its
        ``"raw_columns"`` (with the imputed values), so that
        :meth:`from_dict` can still encode and decode rows.
        """
        data = {
            "features": [
                {
                    k: (None if isinstance(v, float) and math.isinf(v) else v)
                    for k, v in asdict(e).items()
                }
                for e in self._elements
            ],
            "constraints": [c.to_dict() for c in self.constraints],
        }
        if self._raw is not None:
            data["raw_columns"] = self._raw.to_list()
        return data

    @classmethod
    def from_dict(cls, data: dict) -> ActionSet:
        """Inverse of :meth:`to_dict`."""
        defaults = {
            "lb": -math.inf,
            "ub": math.inf,
            "step_lb": -math.inf,
            "step_ub": math.inf,
        }
        elements = []
        for item in data["features"]:
            item = {
                k: (defaults[k] if v is None and k in defaults else v)
                for k, v in item.items()
            }
            elements.append(FeatureAction(**item))
        constraints = [constraint_from_dict(c) for c in data.get("constraints", [])]
        A = cls(elements, constraints)
        if data.get("raw_columns") is not None:
            A._set_raw(RawEncoding.from_list(data["raw_columns"]))
        return A

    def to_json(self, *, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text: what the service takes as ``action_set``.

        Examples
        --------
        >>> import pandas as pd
        >>> A = ActionSet.from_data(pd.DataFrame({"job": ["a", "b"], "age": [1, 2]}))
        >>> ActionSet.from_json(A.to_json()).to_dict() == A.to_dict()
        True
        """
        return json.dumps(self.to_dict(), indent=indent, allow_nan=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> ActionSet:
        """Inverse of :meth:`to_json`: :meth:`from_dict` of the parsed text.

        Read a file with ``ActionSet.from_json(Path("actions.json").read_text())``.
        """
        return cls.from_dict(json.loads(text))

    def __repr__(self):
        return (
            f"ActionSet({len(self)} features, {len(self.actionable_names)} "
            f"actionable, {len(self.constraints)} constraints)"
        )


#: What each name pattern means; a name matches on whole words, so that
#: ``percentage`` is not an age and ``management`` not a sex.
_IMMUTABLE_WORDS = {
    "age": ("age", "ages", "aged", "birth", "birthday", "dob", "born"),
    "sex": ("sex", "gender", "male", "female"),
    "marital status": (
        "marital",
        "married",
        "marriage",
        "single",
        "divorced",
        "widowed",
        "personal_status",
    ),
    "foreign worker": ("foreign", "foreigner"),
    "race": ("race", "racial", "ethnic", "ethnicity"),
    "nationality": ("nationality", "citizen", "citizenship", "native_country"),
}
_IMMUTABLE_PATTERNS = {
    meaning: re.compile(rf"(?:^|_)(?:{'|'.join(words)})(?:_|$)")
    for meaning, words in _IMMUTABLE_WORDS.items()
}


def guess_immutable(name: str) -> list[str]:
    """What a column's name says it is among the immutable attributes, if any.

    Examples
    --------
    >>> guess_immutable("personal_status_and_sex")
    ['sex', 'marital status']
    >>> guess_immutable("ForeignWorker"), guess_immutable("Age_lt_25")
    (['foreign worker'], ['age'])
    >>> guess_immutable("installment_rate_in_percentage_of_disposable_income")
    []
    """
    words = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    words = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", words)
    words = re.sub(r"[^a-z0-9]+", "_", words.lower()).strip("_")
    return [m for m, pattern in _IMMUTABLE_PATTERNS.items() if pattern.search(words)]


def _inferred_action(name: str, values: np.ndarray) -> FeatureAction:
    kind = _infer_kind(values)
    # Booleans may always take both values, as in reachml.
    lb, ub = (0.0, 1.0) if kind == "bool" else (values.min(), values.max())
    return FeatureAction(name=name, kind=kind, lb=lb, ub=ub)


def _infer_kind(values: np.ndarray) -> str:
    if np.isin(values, (0, 1)).all():
        return "bool"
    if np.all(values == np.round(values)):
        return "int"
    return "float"


def _check_no_cycle(constraints) -> None:
    edges: dict[str, set[str]] = {}
    for c in constraints:
        if isinstance(c, DirectionalLinkage):
            edges.setdefault(c.source, set()).update(c.targets)
    state: dict[str, int] = {}

    def visit(node, path):
        if state.get(node) == 1:
            raise ValueError(f"DirectionalLinkage cycle: {' -> '.join(path)}")
        if state.get(node) == 2:
            return
        state[node] = 1
        for nxt in edges.get(node, ()):
            visit(nxt, [*path, nxt])
        state[node] = 2

    for node in list(edges):
        visit(node, [node])
