"""Consensus ranking of several methods, with resampling stability."""

from __future__ import annotations

from collections.abc import Mapping
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
from joblib import delayed
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from featimp._base import BaseImportanceSelector
from featimp._encoding import unusable_columns
from featimp._progress import parallel_results
from featimp._stability import (
    StabilityResult,
    fit_importances,
    ranks_of,
    resample_indices,
    selection_mask,
)
from featimp._validation import TASK_CONSTRAINT, infer_task

#: Used when ``methods`` is None: three views that need no optional extra.
DEFAULT_METHODS = ("mi", "lasso", "permutation")
_SEED_MAX = np.iinfo(np.int32).max


def aggregate_ranks(ranks, aggregation: str = "borda", rrf_k: float = 60):
    """Combine per-method ranks (shape ``(n_methods, n_features)``) into scores.

    ``"borda"``: mean Borda points ``(d - rank) / (d - 1)``, in [0, 1].
    ``"mean_rank"``: ``d + 1 - mean rank``, so that bigger is better; it
    orders features as Borda does for complete rankings, on the scale of
    ranks. ``"rrf"``: reciprocal rank fusion ``sum 1 / (rrf_k + rank)``
    (Cormack et al. 2009), which rewards a feature that any one method puts
    near the top.

    Examples
    --------
    >>> import numpy as np
    >>> from featimp import aggregate_ranks
    >>> ranks = np.array([[1, 2, 3], [2, 1, 3]])
    >>> aggregate_ranks(ranks, "borda")
    array([0.75, 0.75, 0.  ])
    >>> aggregate_ranks(ranks, "mean_rank")
    array([2.5, 2.5, 1. ])
    """
    ranks = np.asarray(ranks, dtype=float)
    d = ranks.shape[1]
    if aggregation == "borda":
        return ((d - ranks) / max(d - 1, 1)).mean(axis=0)
    if aggregation == "mean_rank":
        return d + 1 - ranks.mean(axis=0)
    if aggregation == "rrf":
        return (1.0 / (rrf_k + ranks)).sum(axis=0)
    raise ValueError(
        f"aggregation must be 'borda', 'rrf' or 'mean_rank', got {aggregation!r}"
    )


def consensus_importances(
    X,
    y,
    *,
    methods=None,
    aggregation="borda",
    task="auto",
    rrf_k=60,
    random_state=None,
    n_jobs=None,
):
    """One score per feature from the aggregated rankings of several methods.

    The score function of :class:`ConsensusSelector` (without bootstrap):
    each method in ``methods`` (registry names, or ``(name, params)`` pairs;
    default ``("mi", "lasso", "permutation")``) ranks the features on all of
    ``X`` and :func:`aggregate_ranks` combines the rankings.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import consensus_importances
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> scores = consensus_importances(X, y, methods=["mi", "ecfs"], random_state=0)
    >>> scores.shape
    (30,)
    """
    selector = ConsensusSelector(
        methods,
        aggregation=aggregation,
        task=task,
        rrf_k=rrf_k,
        random_state=random_state,
        n_jobs=n_jobs,
    )
    return selector.fit(X, y).importances_


def parse_methods(methods) -> list[tuple[str, dict]]:
    """``["mi", ("mrmr", {...})]`` -> ``[("mi", {}), ("mrmr", {...})]``."""
    if isinstance(methods, str):
        raise TypeError(
            f"methods must be a list of method names, got the string {methods!r}; "
            f"write methods=[{methods!r}]"
        )
    parsed = []
    for i, item in enumerate(DEFAULT_METHODS if methods is None else methods):
        if isinstance(item, str):
            parsed.append((item, {}))
        elif (
            isinstance(item, tuple | list)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], Mapping)
        ):
            parsed.append((item[0], dict(item[1])))
        else:
            raise TypeError(
                f"methods[{i}] must be a method name or a (name, params) pair, "
                f"got {item!r}"
            )
    if not parsed:
        raise ValueError("methods is empty; give at least one method name")
    return parsed


def _labels(parsed) -> list[str]:
    names = [name for name, _ in parsed]
    labels = []
    for name, params in parsed:
        label = name
        if names.count(name) > 1:
            label += "(" + ", ".join(f"{k}={v!r}" for k, v in params.items()) + ")"
        while label in labels:
            label += "'"
        labels.append(label)
    return labels


def _spec(i: int, name: str):
    from featimp.methods import get_method

    try:
        return get_method(name)
    except ValueError as exc:
        raise ValueError(f"methods[{i}]: {exc}") from None


def build_members(methods, task: str) -> list:
    """Selectors for ``methods``, each checked to support ``task``."""
    members = []
    for i, (name, params) in enumerate(parse_methods(methods)):
        spec = _spec(i, name)
        if not spec.supports(task):
            raise ValueError(
                f"method {name!r} does not support {task} "
                f"(it supports: {', '.join(spec.tasks)})"
            )
        if "task" in spec.parameters() and "task" not in params:
            # Members agree on the task the consensus resolved.
            params = {**params, "task": task}
        try:
            members.append(spec.make_selector(**params))
        except ValueError as exc:
            raise ValueError(f"methods[{i}] ({name!r}): {exc}") from None
    return members


class ConsensusSelector(BaseImportanceSelector):
    """Aggregate the rankings of several methods and measure their stability.

    Each method in ``methods`` (registry names, optionally with parameters)
    ranks the features; the ranks are combined by ``aggregation``. With
    ``stability``, everything is refitted on subsamples of the rows (63.2 %
    without replacement, stratified for classification; see
    :func:`~featimp.bootstrap_stability`) to give each feature's rank
    distribution, the probability that it is selected, and the stability of
    the selected set. Methods and resamples run in parallel under joblib,
    so a Dask backend spreads them over a cluster.

    Parameters
    ----------
    methods : list or None, default=None
        Method names from :mod:`featimp.methods`, or ``(name, params)``
        pairs, e.g. ``[("mi", {"n_bins": 8}), "lasso"]``. None uses
        ``("mi", "lasso", "permutation")``.
    aggregation : {"borda", "rrf", "mean_rank"}, default="borda"
        How ranks are combined; see :func:`aggregate_ranks`.
    stability : bool or int >= 2, default=False
        Bootstrap resamples for the stability report (50 when True), as on
        every selector; here every method is refitted on each resample and
        the consensus of each resample gives its ranking and selected set.
    task : {"auto", "classification", "regression"}, default="auto"
        Passed to every method that takes a ``task``.
    rrf_k : float > 0, default=60
        Constant of reciprocal rank fusion.
    random_state : int, RandomState instance or None, default=None
        Seeds the resamples and every method left without its own seed.
    n_jobs : int or None, default=None
        Parallel joblib workers over methods x resamples.
    n_features_to_select : int, float in (0, 1] or None, default=None
    threshold : float, "mean", "median", "1.25*mean" or None, default=None
        Selection, as in :class:`~featimp.BaseImportanceSelector`; the same
        rule selects the set on every resample.

    Attributes
    ----------
    importances_ : ndarray of shape (n_features_in_,)
        Aggregated scores on the full data.
    methods_ : list of str
        Labels of the methods, in the order of the rows below.
    method_importances_ : ndarray of shape (n_methods, n_features_in_)
    method_rankings_ : ndarray of shape (n_methods, n_features_in_)
        Rank given by each method (1 = best, ties share the mean rank).
    stability_ : StabilityResult or None
        Aggregated importances and selected sets per resample, with rank
        medians and intervals, selection probabilities, ``kuncheva`` and
        ``jaccard``; ``stability_.to_frame()`` tabulates them.
    bootstrap_method_importances_ : ndarray or None
        Shape (n_resamples, n_methods, n_features_in_); None without
        ``stability``.
    task_ : str

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import ConsensusSelector
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> sel = ConsensusSelector(
    ...     methods=["mi", ("mrmr", {"n_features": 10})], stability=3,
    ...     n_features_to_select=5, random_state=0,
    ... ).fit(X, y)
    >>> sel.methods_, sel.transform(X).shape
    (['mi', 'mrmr'], (569, 5))
    >>> sel.stability_.selection_probability.shape
    (30,)
    """

    _test_params: ClassVar[dict] = {
        "methods": ["lasso", ("svm_rfe", {"step": 0.5})],
        "stability": 2,
    }

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        "methods": [list, tuple, None],
        "aggregation": [StrOptions({"borda", "rrf", "mean_rank"})],
        "task": TASK_CONSTRAINT,
        "rrf_k": [Interval(Real, 0, None, closed="neither")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    _reads_tables = True

    def __init__(
        self,
        methods=None,
        *,
        aggregation="borda",
        task="auto",
        rrf_k=60,
        random_state=None,
        n_jobs=None,
        n_features_to_select=None,
        threshold=None,
        stability=False,
    ):
        self.methods = methods
        self.aggregation = aggregation
        self.task = task
        self.rrf_k = rrf_k
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold
        self.stability = stability

    def _compute_importances(self, X, y):
        self.task_ = infer_task(y, self.task)
        members = build_members(self.methods, self.task_)
        self.methods_ = _labels(parse_methods(self.methods))
        rng = check_random_state(self.random_state)
        rows = [np.arange(X.shape[0])]
        n_resamples = self._n_resamples()
        if n_resamples is not None:
            rows += resample_indices(
                y,
                X.shape[0],
                n_resamples,
                rng,
                stratify=self.task_ == "classification",
            )
        scores = self._fit_all(members, X, y, rows, rng)
        self.method_importances_ = scores[0]
        self.method_rankings_ = ranks_of(scores[0])
        self._store_stability(scores[1:], X.shape[1])
        combined = self._aggregate(scores[0])
        # Ranks give every column a score; one the members could not use
        # scores 0, as it does in each of them.
        combined[unusable_columns(X)] = 0.0
        return combined

    def _fit_all(self, members, X, y, rows, rng) -> np.ndarray:
        """Importances of every member on every row set: (n_sets, n_methods, d)."""
        seeds = [
            None if self.random_state is None else rng.randint(_SEED_MAX) for _ in rows
        ]
        jobs = [(r, s, m) for r, s in zip(rows, seeds, strict=True) for m in members]
        calls = [delayed(fit_importances)(m, X, y, r, s) for r, s, m in jobs]
        flat = parallel_results(calls, "consensus fits", n_jobs=self.n_jobs)
        return np.asarray(flat, dtype=float).reshape(len(rows), len(members), -1)

    def _resamples_after_fit(self) -> int:
        return 0  # the resamples are refitted within the fit

    def _bootstrap(self, X, y):
        # Every method was refitted on the resamples with the full-data fit
        # (one joblib pass): ``stability_`` is already there.
        return self.stability_

    def _aggregate(self, importances) -> np.ndarray:
        return aggregate_ranks(ranks_of(importances), self.aggregation, self.rrf_k)

    def _store_stability(self, boot, n_features: int) -> None:
        if self._n_resamples() is None:
            self.stability_ = None
            self.bootstrap_method_importances_ = None
            return
        combined = np.array([self._aggregate(b) for b in boot])
        selected = np.array([selection_mask(self, c) for c in combined])
        names = getattr(self, "feature_names_in_", None)
        names = (
            [f"x{j}" for j in range(n_features)]
            if names is None
            else [str(n) for n in names]
        )
        self.stability_ = StabilityResult(combined, selected, names)
        self.bootstrap_method_importances_ = boot
