"""Readable recourse: each person's cheapest distinct actions, in their own columns.

An *option* is a point of the person's joint reachable set that the model
predicts as the target, told as the *original columns* it changes: the
user's columns for an action set built from a mixed table (a one-hot group
is one column, shown by its category labels), the features otherwise.
Options are ordered by

- ``cost``: the number of original columns changed, then
- ``shift``: the total percentile shift, the sum over changed features of
  ``|F(after) - F(before)|``, with ``F`` the mid-rank empirical CDF of that
  feature among reference rows (so a 0/1 flip counts 0.5 and a category
  switch, two dummies, counts 1).

Options are *distinct* and *minimal*: one per set of changed columns (the
one with the smallest shift), and none whose columns include all the
columns of a cheaper option. They are searched level by level, ``m = 1, 2,
...`` groups of the action set changed at once (a group is features tied by
constraints); every point of a level is enumerated (continuous features
without a grid on 101 even steps of their range), so the ``k`` options are
exact once a level ``m`` is done with ``k`` options of cost ``<= m`` found.
A row whose next level (past the first, which the scores enumerate anyway)
would pass ``max_points`` points stops there, with ``exact=False``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd

from featimp._progress import track
from featimp.recourse._action_set import ActionSet
from featimp.recourse._raw import _decode_column
from featimp.recourse._reachable import build_groups
from featimp.recourse._scores import (
    FeatureScorer,
    _DecodingModel,
    prediction_function,
)
from featimp.recourse._searches import run_searches, target_hits

#: Columns of :meth:`ResponsivenessResult.recourse`.
RECOURSE_COLUMNS = [
    "row",
    "option",
    "feature",
    "before",
    "after",
    "new_probability",
    "cost",
    "shift",
    "exact",
]


def even_grid(element, x, n=101):
    """``n`` even values over a continuous feature's reachable range (and x)."""
    lo, hi = element.interval(x)
    return np.union1d(np.linspace(lo, hi, n), [x])


def original_columns(action_set: ActionSet) -> tuple[list[str], np.ndarray]:
    """Names of the original columns and the column of each feature."""
    raw = action_set._raw
    if raw is None:
        return list(action_set.names), np.arange(len(action_set))
    return raw.names, raw.groups


def target_score_function(model, action_set: ActionSet, target):
    """``Z -> score of target``: ``predict_proba`` of the target class, else
    the decision score signed towards the target; None when there is neither."""
    names = action_set.names
    if isinstance(model, _DecodingModel):
        inner = model.estimator

        def prepare(Z):
            return action_set.decode(Z)[model.columns]
    else:
        inner = model
        fitted = getattr(model, "feature_names_in_", None)
        columns = None if fitted is None else [str(c) for c in fitted]

        def prepare(Z):
            if columns is None:
                return Z
            return pd.DataFrame(Z, columns=names)[columns]

    classes = list(getattr(inner, "classes_", []))
    if target not in classes:
        return None
    if hasattr(inner, "predict_proba"):
        column = classes.index(target)
        return lambda Z: np.asarray(inner.predict_proba(prepare(Z)))[:, column]
    if hasattr(inner, "decision_function") and len(classes) == 2:
        sign = 1.0 if target == classes[1] else -1.0
        return lambda Z: sign * np.ravel(inner.decision_function(prepare(Z)))
    return None


class Percentiles:
    """Mid-rank empirical CDF of each feature among reference rows."""

    def __init__(self, reference: np.ndarray):
        self.sorted = np.sort(np.asarray(reference, dtype=float), axis=0)

    def of(self, j: int, values) -> np.ndarray:
        s = self.sorted[:, j]
        below = np.searchsorted(s, values, side="left")
        upto = np.searchsorted(s, values, side="right")
        return (below + upto) / (2 * len(s))

    def shift(self, features, x, changes: np.ndarray) -> np.ndarray:
        """Total percentile shift of each row of ``changes`` (over ``features``)."""
        total = np.zeros(len(changes))
        for k, j in enumerate(features):
            moved = changes[:, k] != 0
            if moved.any():
                new = self.of(j, x[j] + changes[moved, k])
                total[moved] += np.abs(new - self.of(j, x[j]))
        return total


@dataclass
class Explained:
    """What a result needs to describe actions: the model, the action set and
    the explained rows (encoded), with each row's status."""

    model: object
    action_set: ActionSet
    target: object
    rule: str
    max_points: int
    values: np.ndarray
    index: pd.Index
    status: np.ndarray
    #: :class:`~featimp.recourse._trees.MarginBounds` of a tree model, or
    #: None: lets the search skip combinations that cannot get the target.
    bounds: object = None
    recourse_cache: dict = field(default_factory=dict)
    #: ``(row position, k) -> (options, exact)`` of searches already run
    #: against the explained rows' own percentiles.
    options_cache: dict = field(default_factory=dict)

    @cached_property
    def predict(self):
        return prediction_function(self.model, self.action_set.names)

    @cached_property
    def target_score(self):
        return target_score_function(self.model, self.action_set, self.target)

    @cached_property
    def score_kind(self) -> str | None:
        """What ``new_probability`` holds: "probability", "decision_score"
        or None (NaN, for a callable)."""
        if self.target_score is None:
            return None
        model = self.model
        inner = model.estimator if isinstance(model, _DecodingModel) else model
        return "probability" if hasattr(inner, "predict_proba") else "decision_score"

    @cached_property
    def groups(self):
        return build_groups(self.action_set, even_grid, self.rule)

    @cached_property
    def columns(self) -> tuple[list[str], np.ndarray]:
        return original_columns(self.action_set)

    def bound_caches(self, i: int) -> None:
        """Bound the memory of the groups' per-state caches."""
        if i % 1000 == 999:
            for g in self.groups:
                g.clear()

    @cached_property
    def scorer(self) -> FeatureScorer:
        return FeatureScorer(self.model, self.predict, self.target, self.action_set)

    def joint_changes(self, g, x) -> np.ndarray:
        """The non-zero changes of group ``g`` from ``x`` that matter."""
        if len(g.group) == 1 and not g.constraints:
            # A lone feature: its values directly, without the product.
            j = g.group[0]
            changes = (self._lone_values(g, x[j]) - x[j])[:, None]
        else:
            changes = g.joint(x[g.group])
        return self.compress(g, x, changes[np.any(changes != 0, axis=1)])

    def _lone_values(self, g, v: float) -> np.ndarray:
        """The values a lone feature can take from ``v``. For an integer
        feature of a model with known split points only those next to a
        split or an end of the range: they hold the value nearest ``v`` of
        every cell, all that :meth:`compress` keeps (the full range can be
        ~50,000 values, a few dozen cells)."""
        element, breaks = g.elements[0], self.scorer.breaks(g.group[0])
        if breaks is None or not element.discrete or not element.actionable:
            return g._values(0, v)
        lo, hi = element.interval(v)
        element._check_finite(lo, hi, v)
        first, last = math.ceil(lo - v), math.floor(hi - v)
        near = breaks[(breaks >= lo - 1) & (breaks <= hi + 1)]
        # floor(t - v) is the last step at or below t; its neighbours guard
        # against rounding in t - v.
        steps = (np.floor(near - v)[:, None] + np.array([-1.0, 0.0, 1.0])).ravel()
        steps = np.unique(np.r_[steps, first, last, 0.0])
        return steps[(steps >= first) & (steps <= last)] + v

    def one_dim_changes(self, g, x, j) -> np.ndarray:
        """The changes of ``j``'s 1-D reachable set that matter."""
        if len(g.group) == 1 and not g.constraints:
            return self.joint_changes(g, x)
        return self.compress(g, x, g.one_dim(x[g.group], g.group.index(int(j))))

    def compress(self, g, x, changes: np.ndarray) -> np.ndarray:
        """The changes of a lone feature that matter, for models whose
        prediction along it is piecewise constant between known split
        points: per cell between them the change nearest to ``x`` (the
        smallest shift), none in ``x``'s own cell. Other changes as given."""
        breaks = self.scorer.breaks(g.group[0]) if len(g.group) == 1 else None
        if breaks is None or len(changes) == 0:
            return changes
        j = g.group[0]
        cell = np.searchsorted(breaks, x[j] + changes[:, 0], side="left")
        own = np.searchsorted(breaks, x[j], side="left")
        order = np.lexsort((np.abs(changes[:, 0]), cell))
        _, first = np.unique(cell[order], return_index=True)
        keep = order[first]
        return changes[keep[cell[keep] != own]]

    def change_hits(self, x, group, changes: np.ndarray):
        """Which changes of the features ``group`` from ``x`` get the target:
        a step of :func:`run_batched` (for a linear model, margins without
        building the points or yielding)."""
        if self.scorer.linear is None:
            points = np.repeat(x[None, :], len(changes), axis=0)
            points[:, group] += changes
            return (yield points)
        w, b, labels = self.scorer.linear
        margin = x @ w + b + changes @ w[group]
        return labels[(margin > 0).astype(int)] == self.target

    def hits(self, points: np.ndarray) -> np.ndarray:
        if self.scorer.linear is not None:
            w, b, labels = self.scorer.linear
            return labels[(points @ w + b > 0).astype(int)] == self.target
        return target_hits(self.predict, self.target, points)

    def scores_of(self, points: np.ndarray) -> np.ndarray:
        if self.target_score is None or len(points) == 0:
            return np.full(len(points), np.nan)
        return np.asarray(self.target_score(points), dtype=float)

    def changes(self, x: np.ndarray, point: np.ndarray) -> list[tuple]:
        """``(column, before, after)`` for each original column changed."""
        names, of_feature = self.columns
        changed = np.unique(of_feature[np.flatnonzero(point != x)])
        return [(names[c], self.value(x, c), self.value(point, c)) for c in changed]

    def value(self, x: np.ndarray, c: int):
        """Original column ``c`` of the encoded row ``x``, in the user's values."""
        raw = self.action_set._raw
        if raw is None:
            return readable(x[c])
        block = x[self.columns[1] == c][None, :]
        return readable(_decode_column(raw.columns[c], block)[0])


def readable(value):
    """A plain Python value: whole floats as int, missing as None."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        if math.isnan(value):
            return None
        if value.is_integer():
            return int(value)
    return value


def action_text(changes) -> str:
    """``"savings: < 100 DM -> 500..1000 DM; duration: 24 -> 12"``."""
    return "; ".join(f"{c}: {_show(b)} -> {_show(a)}" for c, b, a in changes)


def _show(value) -> str:
    if value is None:
        return "missing"
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class _Moves:
    """The non-zero joint changes of one group from one person's state."""

    group: list
    changes: np.ndarray
    support: np.ndarray  # (m, n_columns) bool: columns each change touches
    shift: np.ndarray
    uniform: bool  # every change touches the same columns


def _group_moves(explained, g, x, n_columns, percentiles) -> _Moves:
    of_feature = explained.columns[1]
    changes = explained.joint_changes(g, x)
    which = np.zeros((len(g.group), n_columns), dtype=bool)
    which[np.arange(len(g.group)), of_feature[g.group]] = True
    support = (changes != 0).astype(int) @ which.astype(int) > 0
    shift = percentiles.shift(g.group, x, changes)
    uniform = len(changes) == 0 or bool((support == support[0]).all())
    return _Moves(g.group, changes, support, shift, uniform)


def run_batched(explained: Explained, searches) -> list:
    """:func:`~featimp.recourse._searches.run_searches` against the explained
    model, bounding the groups' caches as rows go by."""
    return run_searches(explained.hits, searches, explained.bound_caches)


def row_options(explained: Explained, x, k: int, percentiles):
    """The ``k`` cheapest distinct minimal options of one person, as
    ``(cost, shift, point)``, and whether they are exact: a search of
    :func:`run_batched`."""
    names = explained.columns[0]
    moves = [
        _group_moves(explained, g, x, len(names), percentiles) for g in explained.groups
    ]
    moves = [m for m in moves if len(m.changes)]
    kept = _Kept(len(names))
    working: list[frozenset] = []
    spent, exact = 0, True
    for level in range(1, len(moves) + 1):
        subsets = [
            s
            for s in itertools.combinations(range(len(moves)), level)
            if not any(w <= set(s) for w in working)
        ]
        # Level 1 is what the scores enumerate anyway: never cut it short.
        budget = math.inf if level == 1 else explained.max_points - spent
        combos, cost = _level_combos(explained.bounds, x, moves, subsets, budget)
        if combos is None:
            exact = False
            break
        spent += cost
        level_hits = yield from _level_hits(explained, x, [c for _, c in combos])
        for (subset, combo), mine in zip(combos, level_hits, strict=True):
            if not mine.size:
                continue
            if all(moves[g].uniform for g in subset):
                # One set of columns: only the smallest shift can be kept.
                mine = mine[[np.argmin(combo.shift(mine))]]
                working.append(frozenset(subset))
            kept.add(combo.support(mine), combo.shift(mine), combo.points(mine))
        if kept.count(max_cost=level) >= k:
            break
    return kept.best(k), exact


def _level_combos(bounds, x, moves, subsets, budget):
    """The combinations of one level to predict, as ``(subset, combos)``
    pairs, and what they cost: every point of each subset's product; for a
    tree model (``bounds``) only the points the margin bound cannot rule
    out, costing the partial combinations bounded on the way.
    ``(None, cost)`` past ``budget``."""
    if bounds is None:
        sizes = sum(math.prod(len(moves[g].changes) for g in s) for s in subsets)
        if sizes > budget:
            return None, sizes
        return [(s, _Combos(x, [moves[g] for g in s])) for s in subsets], sizes
    combos, spent = [], 0
    for subset in _may_reach(bounds, x, moves, subsets):
        parts = [moves[g] for g in subset]
        index, cost = bounds.candidates(
            x, [(p.group, x[p.group] + p.changes) for p in parts], budget - spent
        )
        spent += cost
        if index is None:
            return None, spent
        if len(index):
            combos.append((subset, _Combos(x, parts, index.T)))
    return combos, spent


def _may_reach(bounds, x, moves, subsets) -> list:
    """The ``subsets`` of groups whose changes might get the target: for a
    tree model, those whose box (each group of the subset over its changes'
    range, the others at ``x``) the margin bound does not rule out. The
    others have no hit, so skipping them changes no answer."""
    if bounds is None or not subsets:
        return subsets
    ranges = []
    for m in moves:
        values = x[m.group] + m.changes
        ranges.append((m.group, values.min(axis=0), values.max(axis=0)))
    possible = ~bounds.cannot_reach(bounds.subset_bounds(x, ranges, subsets))
    return [s for s, keep in zip(subsets, possible, strict=True) if keep]


def _level_hits(explained, x, combos):
    """Per combination set, the positions of its points that get the target:
    the level's points in one step of :func:`run_batched`, or margins for a
    linear model."""
    linear = explained.scorer.linear
    if linear is not None:
        w, b, labels = linear
        base = x @ w + b
        return [
            np.flatnonzero(
                labels[(base + c.margins(w) > 0).astype(int)] == explained.target
            )
            for c in combos
        ]
    if not combos:
        return []
    hit = yield np.vstack([c.points() for c in combos])
    out, start = [], 0
    for c in combos:
        out.append(np.flatnonzero(hit[start : start + len(c)]))
        start += len(c)
    return out


class _Combos:
    """Combinations of one change per group of ``parts`` (columns of
    ``idx``; default every combination)."""

    def __init__(self, x, parts, idx=None):
        self.x, self.parts = x, parts
        if idx is None:  # the whole product
            sizes = [len(p.changes) for p in parts]
            idx = np.indices(sizes).reshape(len(parts), -1)
        self.idx = idx

    def __len__(self):
        return self.idx.shape[1]

    def points(self, rows=slice(None)) -> np.ndarray:
        idx = self.idx[:, rows]
        points = np.repeat(self.x[None, :], idx.shape[1], axis=0)
        for p, pick in zip(self.parts, idx, strict=True):
            points[:, p.group] += p.changes[pick]
        return points

    def margins(self, w) -> np.ndarray:
        """How much each combination moves the linear score ``x @ w``."""
        total = np.zeros(len(self))
        for p, pick in zip(self.parts, self.idx, strict=True):
            total += (p.changes @ w[p.group])[pick]
        return total

    def support(self, rows) -> np.ndarray:
        support = np.zeros((len(rows), self.parts[0].support.shape[1]), dtype=bool)
        for p, pick in zip(self.parts, self.idx[:, rows], strict=True):
            support |= p.support[pick]
        return support

    def shift(self, rows) -> np.ndarray:
        picks = zip(self.parts, self.idx[:, rows], strict=True)
        return sum(p.shift[pick] for p, pick in picks)


class _Kept:
    """Minimal distinct options so far, cheapest first."""

    def __init__(self, n_columns):
        self.support = np.zeros((0, n_columns), dtype=bool)
        self.shift = np.zeros(0)
        self.points = None

    def add(self, support, shift, points):
        support = np.vstack([self.support, support])
        shift = np.r_[self.shift, shift]
        points = points if self.points is None else np.vstack([self.points, points])
        cost = support.sum(axis=1)
        order = np.lexsort((shift, cost))
        # The first of each set of columns, in that order, is its cheapest.
        _, first = np.unique(support[order], axis=0, return_index=True)
        order = order[np.sort(first)]
        keep = []
        for i in order:
            # A kept option whose columns are a subset of i's makes i redundant.
            if not any(not (support[j] & ~support[i]).any() for j in keep):
                keep.append(i)
        keep = np.array(keep, dtype=int)
        self.support, self.shift, self.points = support[keep], shift[keep], points[keep]

    def count(self, max_cost) -> int:
        return int((self.support.sum(axis=1) <= max_cost).sum())

    def best(self, k) -> list:
        cost = self.support.sum(axis=1)
        return [
            (int(cost[i]), float(self.shift[i]), self.points[i])
            for i in range(min(k, len(self.shift)))
        ]


def search_options(explained: Explained, rows, k: int, percentiles=None) -> list:
    """:func:`row_options` of the rows at positions ``rows``, costed by the
    explained rows' own percentiles, each searched once per ``k``."""
    cache = explained.options_cache
    todo = [i for i in rows if (i, k) not in cache]
    if todo:
        percentiles = percentiles or Percentiles(explained.values)
        searches = (
            row_options(explained, explained.values[i], k, percentiles)
            for i in track(todo, "searching options")
        )
        for i, answer in zip(todo, run_batched(explained, searches), strict=True):
            cache[i, k] = answer
    return [cache[i, k] for i in rows]


def recourse_frame(explained: Explained, k: int, reference=None) -> pd.DataFrame:
    """The long table of :meth:`ResponsivenessResult.recourse`."""
    percentiles = Percentiles(explained.values if reference is None else reference)
    rows = [
        i
        for i, status in enumerate(explained.status)
        if status not in ("approved", "fixed")
    ]
    if reference is None:
        answers = search_options(explained, rows, k, percentiles)
    else:
        searches = (
            row_options(explained, explained.values[i], k, percentiles) for i in rows
        )
        answers = run_batched(explained, searches)
    found = []
    for i, (options, exact) in zip(rows, answers, strict=True):
        found += [(i, n + 1, opt, exact) for n, opt in enumerate(options)]
    d = explained.values.shape[1]
    points = np.array([opt[2] for _, _, opt, _ in found]).reshape(-1, d)
    scores = explained.scores_of(points)
    lines = []
    for (i, option, (cost, shift, point), exact), score in zip(
        found, scores, strict=True
    ):
        for column, before, after in explained.changes(explained.values[i], point):
            row = explained.index[i]
            lines.append(
                (row, option, column, before, after, score, cost, shift, exact)
            )
    frame = pd.DataFrame(lines, columns=RECOURSE_COLUMNS)
    frame = frame.astype(
        {
            "option": int,
            "new_probability": float,
            "cost": int,
            "shift": float,
            "exact": bool,
        }
    )
    return frame.astype({"before": object, "after": object})
