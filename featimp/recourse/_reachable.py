"""Reachable sets by direct enumeration, without a MIP solver.

Features tied by constraints form a *group*; a person's joint reachable set
is the product of one reachable set per group. For a group we enumerate the
product of its actionable features' value grids, push each action through the
linkages (``c = a (I - L)^-1``, so chains propagate), and keep the points that
satisfy the group's constraints. Results are cached per distinct state of the
group's features, so identical people cost nothing.

The 1-D set ``R_j`` of feature ``j`` is cut from the group's joint set by one
of two rules (``RULES``); both keep only changes with ``c_j != 0`` that leave
the other groups alone, and both give a feature without constraints every
value it can reach:

``"per_value"`` (featimp's rule, the default)
    For every change ``v != 0`` that ``j``'s own action allows (its bounds,
    steps and direction), the completions with ``c_j = v`` that change the
    fewest features; any feature of the group may complete a move.
``"reference"`` (the authors' code)
    reachml's marginal filter, ``EnumeratingScorer._filter_1D`` in reachml
    0.2.0a1: the path of the authors' experiment scripts, which build the
    scorer on a reachable-set database. If some change moves ``j`` alone,
    ``R_j`` is every such change. Otherwise it is the changes touching only
    ``j``'s direct neighbours (features sharing a constraint with ``j``)
    that change the fewest features, fewest over all values of ``j``.
    ``c_j`` may be any value, also one only another feature's linkage makes.

They differ in exactly three ways (tests/test_recourse_rule.py has a case
for each, checked against reachml):

1. Fewest changes per value against fewest overall. Accounts -> CreditLines,
   one line closable: +1 account can come alone (close a line), +2 cannot,
   so ``"reference"`` keeps only +1.
2. The whole group against direct neighbours. A renter switching to "own"
   must leave "rent", which moves HousingCost through a linkage; HousingCost
   shares no constraint with "own", so ``"reference"`` has no point for
   "own" at all and scores it 0.
3. Values only a linkage reaches. CityYears at its upper bound moves only
   with JobYears (linked one for one): ``"reference"`` puts those moves in
   CityYears' set, ``"per_value"`` leaves them to JobYears'.

``"reference"`` reproduces reachml's scores wherever the two libraries reach
the same joint set. They do not for linkage chains (reachml moves only a
source's direct targets), ``keep_bounds=True`` (reachml pins the target to
its own action bounds, so an immutable target stops the source),
increase-only linkage targets (reachml lets them fall with their source)
and IfThen (reachml's acts on changes, not values).
"""

from __future__ import annotations

import itertools

import numpy as np

from featimp.recourse._action_set import ActionSet
from featimp.recourse._constraints import DirectionalLinkage, OneHotEncoding

RULES = ("per_value", "reference")


class GroupReach:
    """Reachable points of one group of features, cached per state.

    Parameters
    ----------
    action_set : ActionSet
    group : list of int
        Column positions of the group's features.
    sample_values : callable or None
        ``sample_values(element, x)`` returns the values of a feature that
        cannot be enumerated (sample mode); None means enumerate everything.
    rule : {"per_value", "reference"}
        How :meth:`one_dim` cuts ``R_j`` from the joint set (module docstring).
    """

    def __init__(
        self, action_set: ActionSet, group, sample_values=None, rule="per_value"
    ):
        self.action_set = action_set
        self.rule = check_rule(rule)
        self.group = list(group)
        self.elements = [action_set[j] for j in self.group]
        self.free = [k for k, e in enumerate(self.elements) if e.actionable]
        self.sample_values = sample_values
        self._propagate = self._linkage_operator()
        local = {j: k for k, j in enumerate(self.group)}
        names = set(action_set.names[j] for j in self.group)
        self.constraints = [
            (c, [local[j] for j in action_set.index(c.names)])
            for c in action_set.constraints
            if set(c.names) <= names
        ]
        self.neighbours = self._neighbours()
        self._cache: dict[tuple, tuple] = {}

    def _neighbours(self) -> list[np.ndarray]:
        """Per feature, the group's features sharing a constraint with it
        (itself included)."""
        near = [{k} for k in range(len(self.group))]
        for _, cols in self.constraints:
            for k in cols:
                near[k].update(cols)
        return [np.array(sorted(n)) for n in near]

    def _linkage_operator(self) -> np.ndarray:
        L = self.action_set.linkage_matrix()[np.ix_(self.group, self.group)]
        self.targets = np.flatnonzero(np.any(L != 0, axis=0))
        self.bounded_targets = self._bounded_targets()
        return np.linalg.inv(np.eye(len(self.group)) - L)

    def _bounded_targets(self) -> list[int]:
        local = {self.action_set.names[j]: k for k, j in enumerate(self.group)}
        keep = set()
        for c in self.action_set.constraints:
            if isinstance(c, DirectionalLinkage) and c.keep_bounds:
                keep.update(local[t] for t in c.targets if t in local)
        return sorted(keep)

    def _values(self, k: int, x: float) -> np.ndarray:
        element = self.elements[k]
        if self.sample_values is not None and (
            not element.discrete and element.grid is None
        ):
            return self.sample_values(element, x)
        return element.values(x)

    def size(self, xg) -> float:
        """Upper bound on the number of joint points: the product of the free
        features' value counts, a one-hot group counting as its k + 1 points
        (one per dummy, or none) rather than 2^k."""
        sizes, seen = [], set()
        for c, cols in self.constraints:
            if isinstance(c, OneHotEncoding) and not seen & set(cols):
                free = [k for k in cols if k in self.free]
                block = np.prod([self.elements[k].n_values(xg[k]) for k in free])
                sizes.append(min(block, len(cols) + 1))
                seen.update(cols)
        sizes += [self.elements[k].n_values(xg[k]) for k in self.free if k not in seen]
        return float(np.prod(sizes))

    def joint(self, xg: np.ndarray) -> np.ndarray:
        """Feasible changes ``c`` (m, len(group)) from ``xg``; row 0 is no change."""
        return self._get(xg)[0]

    def one_dim(self, xg: np.ndarray, k: int) -> np.ndarray:
        """Changes in ``R_j`` for the group's ``k``-th feature, by ``rule``."""
        return self._get(xg)[1][k]

    def clear(self) -> None:
        """Forget cached states (they can be large for long grids)."""
        self._cache.clear()

    def _get(self, xg):
        key = tuple(xg)
        if key not in self._cache:
            xg = np.asarray(xg, dtype=float)
            # Draw each feature's values once: sampled grids must be shared.
            grids = {k: self._values(k, xg[k]) - xg[k] for k in self.free}
            joint = self._enumerate(xg, grids)
            self._cache[key] = (joint, self._one_dim_sets(joint, grids))
        return self._cache[key]

    def _enumerate(self, xg: np.ndarray, grids: dict) -> np.ndarray:
        size = len(self.group)
        own = np.zeros((1, size))
        if grids:
            combos = self._combinations(xg, grids)
            own = np.zeros((combos.shape[0], size))
            own[:, self.free] = combos
        change = own @ self._propagate if self.targets.size else own
        keep = self._feasible(xg, own, change)
        # Put "no change" first: it is always feasible for a valid person.
        change = change[keep]
        order = np.argsort(np.count_nonzero(change, axis=1), kind="stable")
        return change[order]

    def _combinations(self, xg: np.ndarray, grids: dict) -> np.ndarray:
        """Every combination of the free features' changes, in
        ``itertools.product`` order, without the ones that break a one-hot
        encoding (a k-category column has k valid points, not 2^k)."""
        onehot = [
            (c, cols) for c, cols in self.constraints if isinstance(c, OneHotEncoding)
        ]
        if not onehot:
            return np.array(list(itertools.product(*grids.values())), dtype=float)
        combos = np.zeros((1, 0))
        # New values so far; undecided features count as 0, the least a
        # dummy can add.
        new = np.tile(xg, (1, 1))
        new[:, self.free] = 0.0
        for position, k in enumerate(self.free):
            grid = grids[k]
            combos = np.column_stack(
                [np.repeat(combos, len(grid), axis=0), np.tile(grid, len(combos))]
            )
            new = np.repeat(new, len(grid), axis=0)
            new[:, k] = xg[k] + combos[:, position]
            keep = np.ones(len(combos), dtype=bool)
            for _, cols in onehot:
                part = new[:, cols]
                keep &= np.isin(part, (0, 1)).all(axis=1) & (part.sum(axis=1) <= 1)
            combos, new = combos[keep], new[keep]
        return combos

    def _feasible(self, xg, own, change) -> np.ndarray:
        new = xg + change
        keep = np.ones(change.shape[0], dtype=bool)
        for k in self.targets:
            direction = self.elements[k].step_direction
            if direction:
                keep &= change[:, k] * direction >= 0
        for k in self.bounded_targets:
            e = self.elements[k]
            keep &= (new[:, k] >= e.lb) & (new[:, k] <= e.ub)
        for c, cols in self.constraints:
            keep &= c.check(new[:, cols])
            keep &= c.check_move(
                np.broadcast_to(xg[cols], new[:, cols].shape), new[:, cols]
            )
        return keep

    def _one_dim_sets(self, joint, grids) -> dict[int, np.ndarray]:
        support = np.count_nonzero(joint, axis=1)
        if self.rule == "per_value":
            return {k: _per_value(joint, support, k, grids[k]) for k in self.free}
        return {k: self._reference(joint, support, k) for k in self.free}

    def _reference(self, joint, support, k) -> np.ndarray:
        """reachml's marginal filter: moves of j alone if there are any,
        else the smallest moves through j's direct neighbours."""
        moves = joint[:, k] != 0
        rows, n_changed = joint[moves], support[moves]
        alone = n_changed == 1
        if alone.any():
            return rows[alone]
        others = np.ones(joint.shape[1], dtype=bool)
        others[self.neighbours[k]] = False
        near = ~np.any(rows[:, others] != 0, axis=1)
        rows, n_changed = rows[near], n_changed[near]
        if rows.shape[0] == 0:
            return rows
        return rows[n_changed == n_changed.min()]


def _per_value(joint, support, k, grid) -> np.ndarray:
    """Per new value of j in its own grid, the completions with the fewest
    changes."""
    moves = (joint[:, k] != 0) & np.isin(joint[:, k], grid)
    rows, change_k, n_changed = joint[moves], joint[moves, k], support[moves]
    if rows.shape[0] == 0:
        return rows
    fewest = {}
    for value, n in zip(change_k, n_changed, strict=True):
        fewest[value] = min(fewest.get(value, n), n)
    best = np.array([fewest[v] for v in change_k])
    return rows[n_changed == best]


def check_rule(rule) -> str:
    if not isinstance(rule, str) or rule not in RULES:
        raise ValueError(f"rule must be one of {RULES}, got {rule!r}")
    return rule


def build_groups(
    action_set: ActionSet, sample_values=None, rule="per_value"
) -> list[GroupReach]:
    """One :class:`GroupReach` per group holding an actionable feature."""
    groups = []
    for group in action_set.partition():
        if any(action_set[j].actionable for j in group):
            groups.append(GroupReach(action_set, group, sample_values, rule))
    return groups


def reachable_set(action_set: ActionSet, x, *, max_points: int = 1_000_000):
    """Every point reachable from ``x`` (``x`` first), by enumeration.

    Parameters
    ----------
    action_set : ActionSet
    x : array-like of shape (n_features,)
    max_points : int
        Refuse (ValueError) when the joint set would be larger.

    Returns
    -------
    ndarray of shape (n_points, n_features)

    Examples
    --------
    >>> import pandas as pd
    >>> from featimp.recourse import ActionSet, ThermometerEncoding
    >>> X = pd.DataFrame({"geq_0": [0, 1], "geq_100": [0, 1]})
    >>> A = ActionSet.from_data(X)
    >>> A[["geq_0", "geq_100"]].step_direction = 1
    >>> _ = A.add_constraint(ThermometerEncoding(["geq_0", "geq_100"]))
    >>> reachable_set(A, [0, 0]).tolist()
    [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0]]
    """
    x = np.asarray(x, dtype=float)
    action_set.check_data(x[None, :])
    groups = build_groups(action_set)
    total = np.prod([g.size(x[g.group]) for g in groups]) if groups else 1
    if total > max_points:
        raise ValueError(
            f"the reachable set has up to {total:.3g} points, more than "
            f"max_points={max_points}"
        )
    points = x[None, :]
    for g in groups:
        joint = g.joint(x[g.group])
        expanded = np.repeat(points, joint.shape[0], axis=0)
        expanded[:, g.group] += np.tile(joint, (points.shape[0], 1))
        points = expanded
    return points
