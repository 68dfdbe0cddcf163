"""Cross-feature constraints of an action set.

Each constraint names the features it ties together and answers two vectorised
questions about candidate points: is a point a valid value of the encoding
(``check``), and may a person move from ``old`` to ``new`` (``check_move``).
``DirectionalLinkage`` is the one constraint that *moves* features: a change
of its source forces a change of each target.

Every constraint also states itself as linear rows over the new values
(``linear_rows``) so that :mod:`featimp.recourse._milp` can certify linear
models without enumerating.
"""

from __future__ import annotations

import numpy as np


class Constraint:
    """Base class: a constraint over the features ``names`` (in order)."""

    kind = "constraint"

    def __init__(self, names):
        names = [str(n) for n in names]
        if len(names) < 2:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 features, got {names}"
            )
        if len(set(names)) != len(names):
            raise ValueError(f"{type(self).__name__} repeats a feature: {names}")
        self.names = tuple(names)

    def check(self, values: np.ndarray) -> np.ndarray:
        """Which rows of ``values`` (shape (m, len(names))) are valid points."""
        return np.ones(values.shape[0], dtype=bool)

    def check_move(self, old: np.ndarray, new: np.ndarray) -> np.ndarray:
        """Which moves from ``old`` to ``new`` rows are allowed."""
        return np.ones(new.shape[0], dtype=bool)

    def linear_rows(self):
        """Rows ``(coefs, lb, ub, on_old)`` with ``lb <= coefs @ x_new <= ub``.

        ``coefs`` is indexed like ``names``. ``on_old`` is None, or a callable
        taking the old values and returning extra bounds (for directions).
        Raises NotImplementedError when the constraint is not linear.
        """
        raise NotImplementedError

    def _params(self) -> dict:
        return {}

    def to_dict(self) -> dict:
        """JSON-safe description; :func:`constraint_from_dict` inverts it."""
        return {"kind": self.kind, "names": list(self.names), **self._params()}

    def describe(self) -> str:
        return f"{type(self).__name__}({', '.join(self.names)})"

    def __repr__(self):
        params = ", ".join(f"{k}={v!r}" for k, v in self._params().items())
        sep = ", " if params else ""
        return f"{type(self).__name__}(names={list(self.names)!r}{sep}{params})"

    def __eq__(self, other):
        return type(self) is type(other) and self.to_dict() == other.to_dict()

    __hash__ = None


class OneHotEncoding(Constraint):
    """Boolean dummies of one categorical attribute.

    ``limit_type="equal"``: exactly one dummy is on; ``"max"``: at most one.

    Examples
    --------
    >>> import numpy as np
    >>> c = OneHotEncoding(["a", "b", "c"])
    >>> c.check(np.array([[0, 1, 0], [1, 1, 0], [0, 0, 0]])).tolist()
    [True, False, False]
    """

    kind = "onehot"

    def __init__(self, names, *, limit_type="equal"):
        super().__init__(names)
        if limit_type not in ("equal", "max"):
            raise ValueError(f"limit_type must be 'equal' or 'max', got {limit_type!r}")
        self.limit_type = limit_type

    def _params(self):
        return {"limit_type": self.limit_type}

    def check(self, values):
        binary = np.isin(values, (0, 1)).all(axis=1)
        total = values.sum(axis=1)
        ok = total == 1 if self.limit_type == "equal" else total <= 1
        return binary & ok

    def linear_rows(self):
        lb = 1.0 if self.limit_type == "equal" else 0.0
        return [(np.ones(len(self.names)), lb, 1.0, None)]

    def describe(self):
        word = "exactly" if self.limit_type == "equal" else "at most"
        return f"{word} one of {', '.join(self.names)} is 1"


class OrdinalEncoding(OneHotEncoding):
    """One-hot dummies of an ordered attribute, with a direction of change.

    ``step_direction=+1`` means a person can only move to a later level
    (``names`` are ordered from the lowest level), ``-1`` only to an earlier
    one, ``0`` anywhere.

    Examples
    --------
    >>> import numpy as np
    >>> c = OrdinalEncoding(["low", "mid", "high"], step_direction=1)
    >>> old = np.array([[0, 1, 0], [0, 1, 0]])
    >>> c.check_move(old, np.array([[0, 0, 1], [1, 0, 0]])).tolist()
    [True, False]
    """

    kind = "ordinal"

    def __init__(self, names, *, step_direction=0, limit_type="equal"):
        super().__init__(names, limit_type=limit_type)
        self.step_direction = _check_direction(step_direction)

    def _params(self):
        return {"limit_type": self.limit_type, "step_direction": self.step_direction}

    def check_move(self, old, new):
        if self.step_direction == 0:
            return np.ones(new.shape[0], dtype=bool)
        levels = np.arange(1, len(self.names) + 1)
        change = new @ levels - old @ levels
        return change * self.step_direction >= 0

    def linear_rows(self):
        rows = super().linear_rows()
        if self.step_direction:
            levels = np.arange(1.0, len(self.names) + 1)
            coefs = self.step_direction * levels
            rows.append((coefs, None, np.inf, lambda old: float(coefs @ old)))
        return rows


class ThermometerEncoding(Constraint):
    """Nested dummies ``x_k = 1[Z >= z_k]``: ``x_k = 1`` implies ``x_(k-1) = 1``.

    ``names`` go from the lowest threshold up. ``step_direction=+1`` means Z
    can only increase (dummies only turn on), ``-1`` only decrease.

    Examples
    --------
    >>> import numpy as np
    >>> c = ThermometerEncoding(["geq_0", "geq_100"], step_direction=1)
    >>> c.check(np.array([[1, 0], [0, 1]])).tolist()
    [True, False]
    >>> c.check_move(np.array([[1, 1]]), np.array([[1, 0]])).tolist()
    [False]
    """

    kind = "thermometer"

    def __init__(self, names, *, step_direction=0):
        super().__init__(names)
        self.step_direction = _check_direction(step_direction)

    def _params(self):
        return {"step_direction": self.step_direction}

    def check(self, values):
        binary = np.isin(values, (0, 1)).all(axis=1)
        nested = (np.diff(values, axis=1) <= 0).all(axis=1)
        return binary & nested

    def check_move(self, old, new):
        if self.step_direction == 0:
            return np.ones(new.shape[0], dtype=bool)
        return ((new - old) * self.step_direction >= 0).all(axis=1)

    def linear_rows(self):
        rows = []
        for k in range(1, len(self.names)):
            coefs = np.zeros(len(self.names))
            coefs[k - 1], coefs[k] = 1.0, -1.0
            rows.append((coefs, 0.0, np.inf, None))
        return rows

    def describe(self):
        way = {1: ", increasing only", -1: ", decreasing only", 0: ""}
        return f"thermometer {' <= '.join(self.names)}{way[self.step_direction]}"


class DirectionalLinkage(Constraint):
    """A change of the source changes each target by ``scale * change``.

    ``names[0]`` is the source, the rest are targets; ``scales`` gives one
    factor per target (e.g. YearsAtResidence +1 => Age +1). Targets move even
    when they are not actionable. With ``keep_bounds=False`` (the default, as
    in reachml) a target may leave its own ``[lb, ub]`` through the linkage.

    Examples
    --------
    >>> c = DirectionalLinkage(["YearsAtResidence", "Age"], scales=[1])
    >>> c.source, c.targets, c.scales.tolist()
    ('YearsAtResidence', ('Age',), [1.0])
    """

    kind = "linkage"

    def __init__(self, names, *, scales=None, keep_bounds=False):
        super().__init__(names)
        n_targets = len(self.names) - 1
        scales = np.ones(n_targets) if scales is None else np.asarray(scales, float)
        if scales.shape != (n_targets,) or not np.all(np.isfinite(scales)):
            raise ValueError(
                f"DirectionalLinkage from {self.names[0]!r} needs one finite "
                f"scale per target ({n_targets}), got {scales.tolist()}"
            )
        if np.any(scales == 0):
            raise ValueError("DirectionalLinkage scales must be non-zero")
        self.scales = scales
        self.keep_bounds = bool(keep_bounds)

    @property
    def source(self) -> str:
        return self.names[0]

    @property
    def targets(self) -> tuple[str, ...]:
        return self.names[1:]

    def _params(self):
        return {"scales": self.scales.tolist(), "keep_bounds": self.keep_bounds}

    def linear_rows(self):
        # The linkage is built into the MILP's change variables, not a row.
        return []

    def describe(self):
        pairs = zip(self.targets, self.scales, strict=True)
        parts = ", ".join(f"{t} by {s:g} x change" for t, s in pairs)
        return f"a change of {self.source} changes {parts}"


class IfThen(Constraint):
    """If ``names[0]`` takes ``if_value``, then ``names[1]`` takes ``then_value``.

    Both conditions are read on the point after the action.

    Examples
    --------
    >>> import numpy as np
    >>> c = IfThen(["HasJob", "HasIncome"], if_value=1, then_value=1)
    >>> c.check(np.array([[1, 1], [1, 0], [0, 0]])).tolist()
    [True, False, True]
    """

    kind = "ifthen"

    def __init__(self, names, *, if_value=1, then_value=1):
        super().__init__(names)
        if len(self.names) != 2:
            raise ValueError(f"IfThen takes exactly 2 features, got {self.names}")
        self.if_value = float(if_value)
        self.then_value = float(then_value)

    def _params(self):
        return {"if_value": self.if_value, "then_value": self.then_value}

    def check(self, values):
        return (values[:, 0] != self.if_value) | (values[:, 1] == self.then_value)

    def linear_rows(self):
        # Linear only on 0/1 features; one row per (if, then) case.
        rows = {
            (1.0, 1.0): (np.array([-1.0, 1.0]), 0.0, np.inf),
            (1.0, 0.0): (np.array([1.0, 1.0]), -np.inf, 1.0),
            (0.0, 1.0): (np.array([1.0, 1.0]), 1.0, np.inf),
            (0.0, 0.0): (np.array([1.0, -1.0]), 0.0, np.inf),
        }
        key = (self.if_value, self.then_value)
        if key not in rows:
            raise NotImplementedError
        return [(*rows[key], None)]

    def describe(self):
        return (
            f"if {self.names[0]} = {self.if_value:g} then "
            f"{self.names[1]} = {self.then_value:g}"
        )


_KINDS = {
    cls.kind: cls
    for cls in (
        OneHotEncoding,
        OrdinalEncoding,
        ThermometerEncoding,
        DirectionalLinkage,
        IfThen,
    )
}


def constraint_from_dict(data: dict) -> Constraint:
    """Rebuild a constraint from :meth:`Constraint.to_dict` output."""
    data = dict(data)
    kind = data.pop("kind", None)
    if kind not in _KINDS:
        raise ValueError(
            f"unknown constraint kind {kind!r}; expected one of {sorted(_KINDS)}"
        )
    names = data.pop("names")
    return _KINDS[kind](names, **data)


def _check_direction(step_direction) -> int:
    if step_direction not in (-1, 0, 1):
        raise ValueError(f"step_direction must be -1, 0 or 1, got {step_direction!r}")
    return int(step_direction)
