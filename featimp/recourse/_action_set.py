"""ActionSet: what each feature may become, and how features move together."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields

import numpy as np
import pandas as pd

from featimp.recourse._constraints import (
    Constraint,
    DirectionalLinkage,
    constraint_from_dict,
)

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

    def n_values(self, x: float) -> float:
        """How many values ``values(x)`` has (inf for plain floats)."""
        if not self.actionable:
            return 1
        if self.discrete:
            lo, hi = self.interval(x)
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
    """

    def __init__(self, elements, constraints=()):
        self._elements = list(elements)
        names = [e.name for e in self._elements]
        if len(set(names)) != len(names):
            raise ValueError("feature names of an ActionSet must be unique")
        self._index = {n: j for j, n in enumerate(names)}
        self.constraints: list[Constraint] = []
        for c in constraints:
            self.add_constraint(c)

    @classmethod
    def from_data(cls, X) -> ActionSet:
        """Infer each feature's kind and bounds from the data (all actionable)."""
        if not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(np.asarray(X))
        if X.shape[0] == 0:
            raise ValueError("cannot infer an ActionSet from empty X")
        elements = []
        for name in X.columns:
            column = X[name]
            if not (
                pd.api.types.is_numeric_dtype(column)
                or pd.api.types.is_bool_dtype(column)
            ):
                raise TypeError(f"column {name!r} is not numeric")
            values = column.to_numpy(dtype=float)
            if not np.isfinite(values).all():
                raise ValueError(f"column {name!r} contains NaN or infinity")
            kind = _infer_kind(values)
            # Booleans may always take both values, as in reachml.
            lb, ub = (0.0, 1.0) if kind == "bool" else (values.min(), values.max())
            elements.append(FeatureAction(name=str(name), kind=kind, lb=lb, ub=ub))
        return cls(elements)

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
        """JSON-safe: infinite bounds become None."""
        return {
            "features": [
                {k: (None if isinstance(v, float) and math.isinf(v) else v)
                 for k, v in asdict(e).items()}
                for e in self._elements
            ],
            "constraints": [c.to_dict() for c in self.constraints],
        }

    @classmethod
    def from_dict(cls, data: dict) -> ActionSet:
        """Inverse of :meth:`to_dict`."""
        defaults = {"lb": -math.inf, "ub": math.inf, "step_lb": -math.inf,
                    "step_ub": math.inf}
        elements = []
        for item in data["features"]:
            item = {k: (defaults[k] if v is None and k in defaults else v)
                    for k, v in item.items()}
            elements.append(FeatureAction(**item))
        constraints = [constraint_from_dict(c) for c in data.get("constraints", [])]
        return cls(elements, constraints)

    def __repr__(self):
        return (
            f"ActionSet({len(self)} features, {len(self.actionable_names)} "
            f"actionable, {len(self.constraints)} constraints)"
        )


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
