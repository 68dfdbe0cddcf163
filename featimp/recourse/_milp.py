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
from featimp.recourse._constraints import DirectionalLinkage, ThermometerEncoding


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
    constraints = []
    if rows:
        constraints.append(LinearConstraint(np.array(rows), row_lb, row_ub))
    objective = -sign * (M @ w)
    result = milp(
        objective, integrality=integral, bounds=Bounds(lo, hi),
        constraints=constraints,
    )
    if result.status != 0 or result.x is None:
        raise RuntimeError(f"the certification MILP failed: {result.message}")
    action = np.where(integral > 0, np.round(result.x), result.x)
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
        for coefs, lb, ub, on_old in c.linear_rows():
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
