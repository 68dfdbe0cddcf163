"""Bounds of a binary tree ensemble's decision over boxes of inputs.

A tree ensemble's margin (log-odds, or the difference of the averaged class
probabilities for a forest) is a sum of one leaf value per tree. A leaf is
the box ``a < x <= b`` of the splits on its path, so over a box of inputs
``lo <= x <= hi`` a tree can only end in the leaves whose box meets it,
and the largest of their values, summed over trees, bounds the margin from
above. That bound is what lets a row be *certified* fixed without
enumerating its reachable set (no point of the box reaches the target's
side), and what lets the option search skip a combination of groups whose
every point stays on the wrong side. It is exact when the box is a point.

:func:`margin_bounds` reads the same model families as
:mod:`featimp.recourse._thresholds` (sklearn's trees, forests and gradient
boosting, HistGradientBoosting, XGBoost and LightGBM), for binary
classifiers whose splits are all thresholds. Before its bounds are used,
the reading is checked against the model itself: the margin rebuilt from
the leaves must equal the model's own on the explained rows, and so must
the decisions; a model that fails the check gets no bounds, never a wrong
certificate.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    RandomForestClassifier,
)
from sklearn.tree import BaseDecisionTree

from featimp.recourse._thresholds import (
    _final_step,
    _float32_cut,
    _float32_floor,
    _nan_is_missing,
    _plain_init,
)

#: Leaf boxes times features above which bounds are not built (memory).
_MAX_CELLS = 20_000_000
#: Rows of the explained data the reading is checked on.
_CHECK_ROWS = 256
#: Boxes x leaves x features tested at once.
_CHUNK_CELLS = 4_000_000


class MarginBounds:
    """Upper bounds of ``sign * margin`` over boxes, in the action set's
    features: the model predicts the target at ``x`` iff
    ``sign * margin(x) > 0`` (``>= 0`` when the target is the first class,
    which wins ties).

    Attributes
    ----------
    lower, upper : ndarray (n_used, n_leaves)
        Each leaf's box over the used features: ``lower < x <= upper``.
    value : ndarray (n_leaves,)
        Each leaf's value, signed towards the target.
    starts : ndarray
        The first leaf of each tree.
    used : ndarray of int
        The action set's features the model splits on.
    base : float
        The signed margin's constant.
    tol : float
        How far the rebuilt margin may stray from the model's own (float32
        sums, summation order): a bound shows "unreachable" only below
        ``-tol``.
    """

    def __init__(self, lower, upper, value, starts, used):
        # Feature-major: one feature's bounds of all leaves are contiguous.
        self.lower = np.ascontiguousarray(lower.T)
        self.upper = np.ascontiguousarray(upper.T)
        self.value = value
        self.starts, self.used = starts, used
        self.position = {int(j): k for k, j in enumerate(used)}
        self.cuts = [
            np.unique(
                np.r_[lower[:, k], upper[:, k]][
                    np.isfinite(np.r_[lower[:, k], upper[:, k]])
                ]
            )
            for k in range(len(used))
        ]
        self.base, self.tol = 0.0, 0.0

    def upper_bound(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        """The bound over each box ``lo[i] <= x <= hi[i]`` (rows: boxes)."""
        lo, hi = np.atleast_2d(lo)[:, self.used], np.atleast_2d(hi)[:, self.used]
        return self._bounds(lo, hi, slice(None), np.ones(len(self.value), dtype=bool))

    def _bounds(self, lo, hi, columns, shared) -> np.ndarray:
        """``base`` plus, per tree, the best value among the leaves that
        meet each box over ``columns`` (and are ``shared``)."""
        lower, upper = self.lower[columns].T, self.upper[columns].T
        step = max(1, _CHUNK_CELLS // max(1, lower.size))
        out = np.empty(len(lo))
        for start in range(0, len(lo), step):
            a, b = lo[start : start + step], hi[start : start + step]
            meets = ((a[:, None, :] <= upper) & (b[:, None, :] > lower)).all(axis=2)
            values = np.where(meets & shared, self.value, -np.inf)
            best = np.maximum.reduceat(values, self.starts, axis=1)
            out[start : start + step] = best.sum(axis=1) + self.base
        return out

    def subset_bounds(self, x: np.ndarray, ranges, subsets) -> np.ndarray:
        """:meth:`upper_bound` of one box per subset: the groups of the
        subset over their ranges, every other feature at ``x``.

        ``ranges`` are ``(features, lo, hi)`` per group, ``subsets`` tuples
        of positions in it. A leaf meets such a box iff it meets each group
        over its range or at ``x`` (per group one of two masks, built once)
        and meets ``x`` on the features of no group.
        """
        rest = np.ones(len(x), dtype=bool)
        at_x, over = [], []
        for features, lo, hi in ranges:
            rest[features] = False
            at_x.append(self._meets(features, x[features][None], x[features][None])[0])
            over.append(self._meets(features, lo[None], hi[None])[0])
        others = np.flatnonzero(rest)
        fixed = self._meets(others, x[others][None], x[others][None])[0]
        member = np.zeros((len(subsets), len(ranges)), dtype=bool)
        for i, subset in enumerate(subsets):
            member[i, list(subset)] = True
        step = max(1, _CHUNK_CELLS // max(1, len(fixed)))
        out = np.empty(len(subsets))
        for start in range(0, len(subsets), step):
            chunk = member[start : start + step]
            meets = np.broadcast_to(fixed, (len(chunk), len(fixed))).copy()
            for g in range(len(ranges)):
                meets &= np.where(chunk[:, g, None], over[g], at_x[g])
            best = np.maximum.reduceat(
                np.where(meets, self.value, -np.inf), self.starts, axis=1
            )
            out[start : start + step] = best.sum(axis=1) + self.base
        return out

    def cannot_reach(self, bound) -> np.ndarray:
        """Where a bound shows that no point of its box gets the target."""
        return np.asarray(bound) < -self.tol

    def cells(self, features, values: np.ndarray) -> np.ndarray:
        """Positions of ``values`` (rows, over ``features``) that fall in
        distinct cells of the model's splits: one point per cell, since the
        points of a cell meet the same leaves."""
        codes = [
            np.searchsorted(self.cuts[self.position[j]], values[:, k], side="left")
            for k, j in enumerate(features)
            if j in self.position
        ]
        if not codes:
            return np.zeros(min(1, len(values)), dtype=np.int64)
        _, first = np.unique(np.column_stack(codes), axis=0, return_index=True)
        return np.sort(first)

    def cell_points(self, j: int, lo: float, hi: float) -> np.ndarray:
        """One value of ``[lo, hi]`` in each cell of feature ``j``'s splits
        that the interval meets (``hi`` for the last: cells are ``(t, t']``)."""
        if j not in self.position:
            return np.array([lo])
        cuts = self.cuts[self.position[j]]
        inside = cuts[(cuts >= lo) & (cuts < hi)]
        return np.unique(np.r_[lo, inside, hi])

    def reach(self, x: np.ndarray, parts, budget: int) -> tuple[bool | None, object]:
        """Whether some point of the product of ``parts`` gets the target.

        ``parts`` are ``(features, candidates)``: per group of features of
        ``x``, the values it can take (rows; one per cell of the model's
        splits it reaches is enough), the other features staying at ``x``.
        Branch and bound, best bound first, over at most ``budget``
        candidate evaluations. Returns ``(False, None)`` when no point can,
        ``(True, point)`` with a point the rebuilt margin puts on the
        target's side (to be confirmed with the model), ``(None, None)``
        when the budget ran out first.
        """
        lo, hi = x.astype(float).copy(), x.astype(float).copy()
        for features, values in parts:
            lo[features], hi[features] = values.min(axis=0), values.max(axis=0)
        if self.cannot_reach(self.upper_bound(lo, hi))[0]:
            return False, None
        parts = [p for p in parts if len(p[1]) > 1]
        stack = [(0, lo, hi)]
        spent = 0
        while stack:
            depth, lo, hi = stack.pop()
            if depth == len(parts):
                return True, lo
            features, values = parts[depth]
            spent += len(values)
            if spent > budget:
                return None, None
            bound = self._pinned(lo, hi, features, values)
            keep = np.flatnonzero(~self.cannot_reach(bound))
            for i in keep[np.argsort(bound[keep], kind="stable")]:
                child_lo, child_hi = lo.copy(), hi.copy()  # the best is popped first
                child_lo[features] = child_hi[features] = values[i]
                stack.append((depth + 1, child_lo, child_hi))
        return False, None

    def candidates(self, x: np.ndarray, parts, budget: float):
        """The combinations of the product of ``parts`` (one row of values
        per part; the other features at ``x``) that might get the target,
        as ``(index, spent)``: ``index`` has one column per part and one row
        per combination whose rebuilt margin is not below ``-tol`` (every
        other combination misses the target), or is None when more than
        ``budget`` partial combinations had to be bounded; ``spent`` is how
        many were.

        Breadth first: the parts are pinned one after another, each partial
        combination bounded with the parts not yet pinned over their range.
        Only the leaves that meet the whole box (``x`` on the other
        features, each part over its range) take part, and a tree left with
        one such leaf is a constant; a leaf meets a partial combination iff
        it meets each pinned value and each later part's range, an AND of
        per-part leaf masks kept along the way.
        """
        others = np.ones(len(x), dtype=bool)
        for features, _ in parts:
            others[features] = False
        rest = np.flatnonzero(others)
        box = self._meets(rest, x[rest][None], x[rest][None], slice(None))[0]
        for features, values in parts:
            low, high = values.min(axis=0)[None], values.max(axis=0)[None]
            box &= self._meets(features, low, high, slice(None))[0]
        leaves, starts, base = self._varying(box)
        pinned = [self._meets(f, v, v, leaves) for f, v in parts]
        ranges = [
            self._meets(f, v.min(axis=0)[None], v.max(axis=0)[None], leaves)[0]
            for f, v in parts
        ]
        meets = np.ones((1, len(leaves)), dtype=bool)
        index = np.zeros((1, 0), dtype=np.int64)
        spent = 0
        for k, mine in enumerate(pinned):
            spent += len(meets) * len(mine)
            if spent > budget:
                return None, spent
            later = np.logical_and.reduce(ranges[k + 1 :] or [meets[0] | True])
            parent, pick, meets = self._children(
                meets, mine, later, self.value[leaves], starts, base
            )
            index = np.column_stack([index[parent], pick])
            if not len(index):
                return np.zeros((0, len(parts)), dtype=np.int64), spent
        return index, spent

    def _varying(self, box):
        """The leaves meeting ``box`` in the trees that have more than one,
        those trees' first positions among them, and the constant: the base
        plus the value of the one leaf of each other tree."""
        counts = np.add.reduceat(box.astype(np.int64), self.starts)
        tree = np.repeat(
            np.arange(len(self.starts)), np.diff(np.r_[self.starts, len(box)])
        )
        varying = box & (counts[tree] > 1)
        base = self.base + self.value[box & (counts[tree] == 1)].sum()
        leaves = np.flatnonzero(varying)
        starts = (
            np.flatnonzero(np.r_[True, np.diff(tree[leaves]) != 0])
            if len(leaves)
            else leaves
        )
        return leaves, starts, base

    def _meets(self, features, lo, hi, leaves=slice(None)) -> np.ndarray:
        """Per box (rows of ``lo, hi`` over ``features``), which of
        ``leaves`` it meets on those features."""
        n_leaves = len(self.value[leaves])
        out = np.ones((len(lo), n_leaves), dtype=bool)
        for k, j in enumerate(features):
            if j in self.position:
                c = self.position[j]
                out &= lo[:, k, None] <= self.upper[c, leaves]
                out &= hi[:, k, None] > self.lower[c, leaves]
        return out

    def _children(self, meets, mine, later, value, starts, base):
        """Pin the next part: for each partial combination (rows of
        ``meets``) and each of the part's values (rows of ``mine``), the
        pairs the bound does not rule out, with their leaf masks."""
        if not len(starts):  # nothing varies: one bound for all
            keep = ~self.cannot_reach(np.full((len(meets), len(mine)), base))
            parent, pick = np.nonzero(keep)
            return parent, pick, np.zeros((len(parent), 0), dtype=bool)
        # Values that meet the same leaves (within the later parts' ranges,
        # all that later levels look at) have the same bound: bound each
        # distinct mask once. On Taiwan, 48 values have 8 masks on average.
        distinct, inverse = _distinct_rows(mine & later)
        step = max(1, _CHUNK_CELLS // max(1, len(distinct) * len(value)))
        parents, picks, masks = [], [], []
        for start in range(0, len(meets), step):
            child = meets[start : start + step, None, :] & distinct[None, :, :]
            best = np.maximum.reduceat(np.where(child, value, -np.inf), starts, axis=2)
            keep = ~self.cannot_reach(best.sum(axis=2) + base)
            parent, pick = np.nonzero(keep[:, inverse])
            parents.append(parent + start)
            picks.append(pick)
            masks.append(child[parent, inverse[pick]])
        return np.concatenate(parents), np.concatenate(picks), np.concatenate(masks)

    def _pinned(self, lo, hi, features, values) -> np.ndarray:
        """Bounds of the box with ``features`` pinned to each row of
        ``values``: the other features' leaf test is shared."""
        own = [k for k, j in enumerate(features) if j in self.position]
        columns = [self.position[features[k]] for k in own]
        rest = np.ones(len(self.used), dtype=bool)
        rest[columns] = False
        a, b = lo[self.used][rest], hi[self.used][rest]
        shared = (
            (a[:, None] <= self.upper[rest]) & (b[:, None] > self.lower[rest])
        ).all(axis=0)
        v = values[:, own]
        return self._bounds(v, v, columns, shared)


def _distinct_rows(masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a boolean matrix and each row's position among
    them (``np.unique(axis=0)`` without its structured-array cost)."""
    packed = np.ascontiguousarray(np.packbits(masks, axis=1))
    keys = packed.view(np.dtype((np.void, packed.shape[1]))).ravel()
    _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
    return masks[first], inverse.ravel()


def margin_bounds(estimator, predict, target, columns, rows: np.ndarray):
    """:class:`MarginBounds` of ``estimator`` towards class ``target``, or
    None when it is not a binary tree ensemble read here or its reading
    does not reproduce the model on ``rows``.

    ``predict`` takes arrays of the action set's features, ``columns`` maps
    those features to the model's columns (None: the same order), ``rows``
    are explained rows in the features.
    """
    model = _final_step(estimator)
    classes = getattr(model, "classes_", None)
    if model is None or classes is None or len(classes) != 2:
        return None
    if target not in list(classes):
        return None
    read = _read(model)
    if read is None:
        return None
    trees, margin = read
    to_model = np.arange(rows.shape[1]) if columns is None else np.asarray(columns)
    boxes = _leaf_boxes(trees, to_model)
    if boxes is None:
        return None
    lower, upper, value, starts = boxes
    used = np.flatnonzero((np.isfinite(lower) | np.isfinite(upper)).any(axis=0))
    sign = 1.0 if target == classes[1] else -1.0
    bounds = MarginBounds(lower[:, used], upper[:, used], sign * value, starts, used)
    return _checked(bounds, model, margin, predict, rows, to_model, sign, target)


def _checked(bounds, model, margin, predict, rows, to_model, sign, target):
    """``bounds`` with their constant and tolerance, if the leaves rebuild
    the model's margin and decisions on ``rows``; None otherwise."""
    sample = rows[:: max(1, len(rows) // _CHECK_ROWS)][:_CHECK_ROWS]
    if not len(sample) or not np.isfinite(sample).all():
        return None
    X = np.empty_like(sample)
    X[:, to_model] = sample
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        X = pd.DataFrame(X, columns=[str(c) for c in names])
    try:
        own = sign * np.ravel(np.asarray(margin(X), dtype=float))
        predicted = np.asarray(predict(sample))
    except (TypeError, ValueError, AttributeError):  # a model we cannot call
        return None
    rebuilt = bounds.upper_bound(sample, sample)
    if own.shape != rebuilt.shape or not np.isfinite(own).all():
        return None
    base = float(np.median(own - rebuilt))
    largest = np.maximum.reduceat(np.abs(bounds.value), bounds.starts).sum()
    tol = 1e-5 * (1.0 + float(largest) + abs(base))
    if np.max(np.abs(own - rebuilt - base)) > tol:
        return None
    bounds.base, bounds.tol = base, tol
    sure = np.abs(own) > tol
    decided = own > 0 if sign > 0 else own >= 0
    if not np.array_equal(decided[sure], (predicted == target)[sure]):
        return None
    return bounds


def _read(model):
    for reader in (
        _sklearn_trees,
        _hist_gradient_trees,
        _xgboost_trees,
        _lightgbm_trees,
    ):
        read = reader(model)
        if read is not None:
            return read
    return None


# Each reader returns ``(trees, margin)``: per tree the node arrays
# ``(feature, threshold, left, right, value)`` in canonical form ("a float64
# x goes left when x <= threshold", feature -1 at leaves, value the leaf's
# share of the class-1 margin), and the model's own margin function. A model
# with any split that is not a threshold is not read (None).


def _sklearn_trees(model):
    if isinstance(model, BaseDecisionTree) and hasattr(model, "classes_"):
        members, features, scale = [model], [None], 1.0
        margin = _probability_margin(model)
    elif isinstance(model, RandomForestClassifier | ExtraTreesClassifier):
        members = list(model.estimators_)
        features, scale = [None] * len(members), 1.0 / len(members)
        margin = _probability_margin(model)
    elif isinstance(model, BaggingClassifier):
        members = list(model.estimators_)
        if not all(isinstance(m, BaseDecisionTree) for m in members):
            return None
        features, scale = list(model.estimators_features_), 1.0 / len(members)
        margin = _probability_margin(model)
    elif isinstance(model, GradientBoostingClassifier) and _plain_init(model):
        if model.estimators_.shape[1] != 1:
            return None
        members = list(model.estimators_[:, 0])
        features, scale = [None] * len(members), model.learning_rate
        margin = model.decision_function
    else:
        return None
    trees = []
    for member, used in zip(members, features, strict=True):
        tree = member.tree_
        leaf = tree.children_left < 0
        feature = np.where(leaf, -1, tree.feature)
        if used is not None:
            feature = np.where(leaf, -1, np.asarray(used)[np.maximum(tree.feature, 0)])
        threshold = _float32_cut(_float32_floor(tree.threshold))
        v = tree.value[:, 0, :]
        if v.shape[1] == 2:  # class counts or fractions: p1 - p0 per leaf
            total = v.sum(axis=1)
            value = (v[:, 1] - v[:, 0]) / np.where(total > 0, total, 1.0)
        else:  # a regression tree of gradient boosting
            value = v[:, 0]
        trees.append(
            (feature, threshold, tree.children_left, tree.children_right, scale * value)
        )
    return trees, margin


def _probability_margin(model):
    return lambda X: np.diff(model.predict_proba(X), axis=1)


def _hist_gradient_trees(model):
    predictors = getattr(model, "_predictors", None)
    if predictors is None or not hasattr(model, "decision_function"):
        return None
    if getattr(model, "_preprocessor", None) is not None:
        return None
    if any(len(it) != 1 for it in predictors):
        return None
    trees = []
    for (p,) in predictors:
        nodes = p.nodes
        leaf = nodes["is_leaf"].astype(bool)
        if nodes["is_categorical"][~leaf].any():
            return None
        feature = np.where(leaf, -1, nodes["feature_idx"].astype(np.int64))
        trees.append(
            (
                feature,
                nodes["num_threshold"].astype(float),
                nodes["left"].astype(np.int64),
                nodes["right"].astype(np.int64),
                nodes["value"].astype(float),
            )
        )
    return trees, model.decision_function


def _xgboost_trees(model):
    if not hasattr(model, "get_booster") or not _nan_is_missing(model):
        return None
    learner = json.loads(model.get_booster().save_raw(raw_format="json"))["learner"]
    booster = learner["gradient_booster"]
    if booster["name"] != "gbtree":  # dart weighs its trees; gblinear has none
        return None
    if int(learner["learner_model_param"].get("num_class", "0")) > 1:
        return None
    trees = []
    for tree in booster["model"]["trees"]:
        left = np.asarray(tree["left_children"], dtype=np.int64)
        leaf = left < 0
        if (np.asarray(tree["split_type"])[~leaf] != 0).any():
            return None
        condition = np.asarray(tree["split_conditions"], dtype=np.float32)
        below = np.nextafter(condition, np.float32(-np.inf))
        feature = np.where(leaf, -1, np.asarray(tree["split_indices"], dtype=np.int64))
        trees.append(
            (
                feature,
                _float32_cut(below),
                left,
                np.asarray(tree["right_children"], dtype=np.int64),
                condition.astype(float),
            )
        )
    return trees, lambda X: model.predict(X, output_margin=True)


def _lightgbm_trees(model):
    booster = getattr(model, "booster_", None)
    if booster is None or not hasattr(booster, "dump_model"):
        return None
    dump = booster.dump_model()
    if dump.get("num_class", 1) != 1:
        return None
    info = dump["tree_info"]
    scale = 1.0 / len(info) if dump.get("average_output") and info else 1.0
    trees = []
    for tree in info:
        nodes = []
        stack = [tree["tree_structure"]]
        while stack:  # number the nodes depth first
            node = stack.pop()
            if "leaf_features" in node:  # a linear leaf varies inside its box
                return None
            if "split_feature" in node:
                if node["decision_type"] != "<=" or node["missing_type"] == "Zero":
                    return None
                stack += [node["right_child"], node["left_child"]]
            nodes.append(node)
        ids = {id(node): k for k, node in enumerate(nodes)}
        feature = np.array([n.get("split_feature", -1) for n in nodes], dtype=np.int64)
        threshold = np.array([n.get("threshold", np.nan) for n in nodes], dtype=float)
        left = np.array(
            [ids[id(n["left_child"])] if "left_child" in n else -1 for n in nodes],
            dtype=np.int64,
        )
        right = np.array(
            [ids[id(n["right_child"])] if "right_child" in n else -1 for n in nodes],
            dtype=np.int64,
        )
        value = scale * np.array([n.get("leaf_value", 0.0) for n in nodes], dtype=float)
        trees.append((feature, threshold, left, right, value))
    return trees, lambda X: model.predict(X, raw_score=True)


def _leaf_boxes(trees, to_model):
    """Per leaf, its box over the action set's features, its value, and the
    first leaf of each tree; None when too large or a tree reads no column
    of the action set it splits on."""
    back = {int(c): j for j, c in enumerate(to_model)}
    d = len(to_model)
    n_leaves = sum(int(np.sum(t[0] < 0)) for t in trees)
    if n_leaves * max(d, 1) > _MAX_CELLS or not trees:
        return None
    lower = np.full((n_leaves, d), -np.inf)
    upper = np.full((n_leaves, d), np.inf)
    value = np.empty(n_leaves)
    starts = np.empty(len(trees), dtype=np.int64)
    k = 0
    for t, (feature, threshold, left, right, leaf_value) in enumerate(trees):
        starts[t] = k
        stack = [(0, np.full(d, -np.inf), np.full(d, np.inf))]
        while stack:
            node, lo, hi = stack.pop()
            f = int(feature[node])
            if f < 0:
                lower[k], upper[k], value[k] = lo, hi, leaf_value[node]
                k += 1
                continue
            if f not in back or np.isnan(threshold[node]):
                return None
            j, cut = back[f], float(threshold[node])
            go_left_hi = hi.copy()
            go_left_hi[j] = min(hi[j], cut)
            go_right_lo = lo.copy()
            go_right_lo[j] = max(lo[j], cut)
            stack.append((int(right[node]), go_right_lo, hi))
            stack.append((int(left[node]), lo, go_left_hi))
    return lower, upper, value, starts


def row_parts(bounds: MarginBounds, groups, x: np.ndarray):
    """The ``parts`` of :meth:`MarginBounds.reach` for one person: per group
    of :func:`~featimp.recourse._reachable.build_groups`, one reachable
    value per cell of the model's splits (the group's values, ``x``'s
    included); None when a constrained group cannot be enumerated."""
    parts = []
    for g in groups:
        if len(g.group) == 1 and not g.constraints:
            values = _lone_values(bounds, g.elements[0], g.group[0], x[g.group[0]])
        else:
            try:
                values = x[g.group] + g.joint(x[g.group])
            except ValueError:  # a continuous feature without a grid
                return None
        if not any(j in bounds.position for j in g.group):
            continue  # the model ignores the whole group
        parts.append((g.group, values[bounds.cells(g.group, values)]))
    return parts


def _lone_values(bounds, element, j, x) -> np.ndarray:
    """Values of a feature without constraints, one or more per cell of its
    splits, ``x`` included."""
    if not element.actionable:
        return np.array([[x]])
    if not element.discrete and element.grid is not None:
        return element.values(x)[:, None]
    lo, hi = element.interval(x)
    if element.discrete:
        # Integer steps from x: per cut, the last step at or below it and
        # the first above it; and both ends.
        lo, hi = x + np.ceil(lo - x), x + np.floor(hi - x)
        below = x + np.floor(bounds.cell_points(j, lo, hi) - x)
        values = np.r_[lo, hi, below, below + 1]
    else:
        values = bounds.cell_points(j, lo, hi)
    values = values[np.isfinite(values) & (values >= lo) & (values <= hi)]
    return np.union1d(values, [x])[:, None]
