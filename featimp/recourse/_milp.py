"""Exact fixedness certificates for linear models with ``scipy.optimize.milp``.

For a linear score ``w @ x + b`` the question "can any action reach the
target?" is one mixed-integer program: maximise ``s * w @ (x + c)`` over the
actions ``a`` allowed by the action set, where ``c = a (I - L)^-1`` adds the
linkage effects and ``s`` is +1 when the target is the positive label. Integer
and boolean features get integer actions; continuous ones stay continuous, so
large or continuous action sets get a certified answer too.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp

from featimp.recourse._action_set import ActionSet
from featimp.recourse._constraints import (
    DirectionalLinkage,
    IfThen,
    ThermometerEncoding,
)


def best_linear_action(w, b, x, action_set: ActionSet, *, sign=1.0):
    """The action maximising ``sign * (w @ (x + c) + b)``, by MILP (HiGHS).

    Parameters
    ----------
    w : ndarray of shape (n_features,)
    b : float
    x : ndarray of shape (n_features,)
    action_set : ActionSet
    sign : {1.0, -1.0}

    Returns
    -------
    margin : float
        ``w @ (x + c) + b`` at the optimum.
    change : ndarray of shape (n_features,)
        The total change ``c`` (own actions plus linkage effects).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from featimp.recourse import ActionSet
    >>> A = ActionSet.from_data(pd.DataFrame({"income": [1.0, 3.5], "age": [20, 60]}))
    >>> A["age"].actionable = False
    >>> margin, change = best_linear_action(np.array([1.0, 0.1]), -6.0,
    ...                                     np.array([1.0, 20.0]), A)
    >>> round(margin, 6), change.round(6).tolist()
    (-0.5, [2.5, 0.0])
    """
    x = np.asarray(x, dtype=float)
    w = np.asarray(w, dtype=float)
    d = len(action_set)
    M = np.linalg.inv(np.eye(d) - action_set.linkage_matrix())
    lo, hi, integral = _action_bounds(action_set, x)
    rows, row_lb, row_ub = _constraint_rows(action_set, x, M)
    extra, extra_lb, extra_ub, n_aux = _if_then_rows(action_set, x, M, lo, hi, integral)
    rows = [np.r_[r, np.zeros(n_aux)] for r in rows] + extra
    constraints = []
    if rows:
        constraints.append(
            LinearConstraint(np.array(rows), row_lb + extra_lb, row_ub + extra_ub)
        )
    objective = np.r_[-sign * (M @ w), np.zeros(n_aux)]
    result = milp(
        objective,
        integrality=np.r_[integral, np.ones(n_aux)],
        bounds=Bounds(np.r_[lo, np.zeros(n_aux)], np.r_[hi, np.ones(n_aux)]),
        constraints=constraints,
    )
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"the certification MILP failed: {result.message}")
    action = result.x[:d]
    action = np.where(integral > 0, np.round(action), action)
    change = action @ M
    return float(w @ (x + change) + b), change


def _action_bounds(action_set, x):
    d = len(action_set)
    lo, hi, integral = np.zeros(d), np.zeros(d), np.zeros(d)
    for j, e in enumerate(action_set):
        if not e.actionable:
            continue
        a, z = e.interval(x[j])
        lo[j], hi[j] = a - x[j], z - x[j]
        if not (np.isfinite(lo[j]) and np.isfinite(hi[j])):
            raise ValueError(
                f"feature {e.name!r} has an unbounded action range: set its lb "
                "and ub (or step_lb and step_ub) to certify"
            )
        integral[j] = 1.0 if e.discrete else 0.0
    return lo, hi, integral


def _value_range(j, x, M, lo, hi):
    """Bounds of feature ``j``'s new value ``x[j] + a @ M[:, j]``."""
    col = M[:, j]
    return (
        x[j] + np.minimum(col * lo, col * hi).sum(),
        x[j] + np.maximum(col * lo, col * hi).sum(),
    )


def _integer_valued(j, x, M, integral) -> bool:
    """Whether feature ``j`` only takes integers: integral own and linked
    actions with integer linkage scales from an integer start."""
    col = M[:, j]
    moved = col != 0
    return bool(
        float(x[j]).is_integer()
        and np.all(integral[moved] > 0)
        and np.all(col[moved] == np.round(col[moved]))
    )


def _if_then_rows(action_set, x, M, lo, hi, integral):
    """Rows for the IfThen constraints, over the actions and 3 binaries each.

    "if A = v then B = u" holds when A <= v - 1 (binary p), A >= v + 1 (q)
    or B = u (r), with p + q + r >= 1 and each binary tied to its condition
    by a big-M row from the features' value ranges. This is exact when A
    takes only integers; for a continuous A, "A != v" is an open set that a
    MILP cannot express, so the certificate is refused (NotImplementedError).
    Two 0/1 features use the single row of :meth:`IfThen.linear_rows`.
    """
    d = len(action_set)
    if_thens = [c for c in action_set.constraints if isinstance(c, IfThen)]
    n_aux = 3 * len(if_thens)
    rows, lbs, ubs = [], [], []

    def add(row, lb, ub):
        rows.append(row)
        lbs.append(lb)
        ubs.append(ub)

    for k, c in enumerate(if_thens):
        ja, jb = action_set.index(c.names)
        (la, ua), (lb, ub) = (_value_range(j, x, M, lo, hi) for j in (ja, jb))
        binary = all(
            _integer_valued(j, x, M, integral) and low >= 0 and high <= 1
            for j, low, high in ((ja, la, ua), (jb, lb, ub))
        )
        if binary and (c.if_value, c.then_value) in _BINARY_IF_THEN:
            ((coefs, low, high, _),) = c.linear_rows()
            row = np.zeros(d + n_aux)
            row[:d] = M @ np.bincount([ja, jb], weights=coefs, minlength=d)
            offset = coefs @ x[[ja, jb]]
            add(row, low - offset, high - offset)
            continue
        if not _integer_valued(ja, x, M, integral):
            raise NotImplementedError(
                f"IfThen on {c.names[0]!r}, which is not integer-valued"
            )
        v, u = c.if_value, c.then_value
        p, q, r = d + 3 * k, d + 3 * k + 1, d + 3 * k + 2
        big = {
            p: max(ua - (v - 1), 0.0),  # A - (v - 1) <= big (1 - p)
            q: max((v + 1) - la, 0.0),  # (v + 1) - A <= big (1 - q)
            "r+": max(ub - u, 0.0),  # B - u <= big (1 - r)
            "r-": max(u - lb, 0.0),  # u - B <= big (1 - r)
        }
        for j, sign, aux, key, bound in (
            (ja, 1.0, p, p, (v - 1) - x[ja]),
            (ja, -1.0, q, q, x[ja] - (v + 1)),
            (jb, 1.0, r, "r+", u - x[jb]),
            (jb, -1.0, r, "r-", x[jb] - u),
        ):
            row = np.zeros(d + n_aux)
            row[:d] = sign * M[:, j]
            row[aux] = big[key]
            add(row, -np.inf, big[key] + bound)
        row = np.zeros(d + n_aux)
        row[[p, q, r]] = 1.0
        add(row, 1.0, np.inf)
    return rows, lbs, ubs, n_aux


_BINARY_IF_THEN = {(1.0, 1.0), (1.0, 0.0), (0.0, 1.0), (0.0, 0.0)}


def _constraint_rows(action_set, x, M):
    """Rows over the own actions ``a``; new values are ``x + a @ M``."""
    rows, lbs, ubs = [], [], []

    def add(coef_on_change, lb, ub):
        rows.append(M @ coef_on_change)
        lbs.append(lb)
        ubs.append(ub)

    d = len(action_set)
    for c in action_set.constraints:
        cols = action_set.index(c.names)
        linear_rows = [] if isinstance(c, IfThen) else c.linear_rows()
        for coefs, lb, ub, on_old in linear_rows:
            full = np.zeros(d)
            full[cols] = coefs
            offset = float(coefs @ x[cols])
            lb = on_old(x[cols]) if on_old is not None else lb
            add(full, lb - offset, ub - offset)
        for j, direction in _move_directions(c, action_set):
            unit = np.zeros(d)
            unit[j] = direction
            add(unit, 0.0, np.inf)
        if isinstance(c, DirectionalLinkage) and c.keep_bounds:
            for j in action_set.index(c.targets):
                e = action_set[j]
                unit = np.zeros(d)
                unit[j] = 1.0
                add(unit, e.lb - x[j], e.ub - x[j])
    for j in np.flatnonzero(np.any(action_set.linkage_matrix() != 0, axis=0)):
        direction = action_set[j].step_direction
        if direction:
            unit = np.zeros(d)
            unit[j] = direction
            add(unit, 0.0, np.inf)
    return rows, lbs, ubs


def _move_directions(c, action_set):
    # Thermometer dummies move one way; an ordinal's direction is a linear row.
    if isinstance(c, ThermometerEncoding) and c.step_direction:
        return [(j, c.step_direction) for j in action_set.index(c.names)]
    return []
