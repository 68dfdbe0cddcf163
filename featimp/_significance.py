"""P-values and false-discovery-rate selection for any importance method.

:class:`SignificanceSelector` wraps a featimp selector (or any estimator
with ``feature_importances_``), builds a null distribution of its
importances by refitting it, gives every feature a p-value and a q-value,
and keeps the features whose q-value is at most ``alpha``. Two nulls:

``"permutation"``
    Refit with the tested relation broken by permuting rows. When a
    feature's score depends on that feature and ``y`` alone (mutual
    information), permuting ``y`` breaks every feature's relation at once:
    each of ``B`` target permutations is a null draw for every feature and
    ``p_j = (1 + #{b : T_j(y_b) >= T_j(y)}) / (1 + B)`` is an exact test of
    ``x_j`` independent of ``y``. For a model that is no test of ``x_j``:
    a permuted target tests only the global null (``y`` independent of all
    of ``X``), and with real signal in ``y`` the model spends its capacity
    differently (a cross-validated lasso picks a smaller penalty, so noise
    features get larger weights than under any permuted ``y``:
    ``benchmarks/bench_significance.py`` measured a false discovery rate of
    0.61 at alpha = 0.1). So a model is refitted with one column at a time
    permuted, ``K`` times each, the other columns and ``y`` as they are and
    the model's seed that of the plain fit: the model sees the real signal
    on the user's own columns, and the permuted column's importance is a
    draw of what a column unrelated to anything scores in that fit. The
    ``K * d`` draws are pooled as the shadows are below (the same formula
    and the same assumption); under the null that ``x_j`` is independent of
    ``y`` and of the other features, the plain table and its ``K`` versions
    with ``x_j`` permuted are exchangeable. It costs ``K * d`` refits where
    shadows cost one table ``K + 1`` times as wide; unlike shadows it does
    not change the model (a forest's ``max_features`` or a lasso's
    cross-validated penalty are chosen among the user's columns only).
``"shadow"`` (Boruta's shadow features, Kursa & Rudnicki 2010)
    Keep ``y`` and ``X`` and append ``K`` shadows of every column, the column
    with its rows permuted (each copy of each column independently, which
    breaks its relation to ``y`` and to the other columns), and fit the model
    on that table. The model is then fitted on the real signal, and the
    shadows show what a column unrelated to anything scores in that same
    fit. A randomized model is fitted ``R`` times with fresh seeds on the
    same table and every column's importance averaged: the shadows stay the
    same over the refits, so a feature's mean importance ``T_j`` is compared
    with shadows' mean importances over the very same fits, like with like.
    With the ``K * d`` shadow means ``S``,
    ``p_j = (1 + #{S >= T_j}) / (1 + K * d)``. Under the null that ``x_j`` is
    independent of ``y`` and of the other features, ``x_j`` and its own
    shadows are exchangeable, so ``T_j`` ranks uniformly among them (for a
    learner that treats columns alike); pooling every column's shadows
    assumes, as Boruta's comparison with the best shadow does, that what an
    unrelated column scores does not depend much on which column it is.
    Shadows drawn afresh in every refit would not do: a mean over refits of
    a column that stays is not distributed like one refit's shadow (a lasso
    gives a noise feature a weight in a few refits, so its mean is above 0,
    while most single shadows score exactly 0).

``null="auto"`` takes ``"permutation"`` for per-feature scores (a selector
whose class sets ``_univariate = True``, and
:class:`~featimp.MutualInfoSelector`), where one refit tests every feature,
and ``"shadow"`` for everything else, where it is ``d`` times cheaper.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from joblib import delayed
from scipy.stats import false_discovery_control
from sklearn.base import clone
from sklearn.utils import check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from featimp._base import BaseImportanceSelector
from featimp._progress import parallel_results
from featimp._stability import seeded
from featimp._validation import TASK_CONSTRAINT, TASKS, infer_task

#: Target permutations for ``n_permutations="auto"``: the smallest p-value
#: is 1 / 200 (shadows: ``ceil(1 / alpha)`` copies, see the class).
AUTO_PERMUTATIONS = 199
#: The method used when ``estimator`` is None.
DEFAULT_METHOD = "mi"
_SEED_MAX = np.iinfo(np.int32).max


def significance_importances(
    X,
    y,
    *,
    estimator=None,
    alpha=0.1,
    null="auto",
    n_permutations="auto",
    n_refits=5,
    correction="bh",
    task="auto",
    random_state=None,
    n_jobs=None,
    verbose=False,
):
    """The importances a :class:`SignificanceSelector` tests, one per feature.

    The score function of :class:`SignificanceSelector`: the wrapped
    method's importances (for ``null="shadow"``, their mean over the fits
    with shadows). The p- and q-values are on the fitted selector; see it
    for the parameters.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import significance_importances
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> significance_importances(X, y, n_permutations=19, random_state=0).shape
    (30,)
    """
    selector = SignificanceSelector(
        estimator,
        alpha=alpha,
        null=null,
        n_permutations=n_permutations,
        n_refits=n_refits,
        correction=correction,
        task=task,
        random_state=random_state,
        n_jobs=n_jobs,
        verbose=verbose,
    )
    return selector.fit(X, y).importances_


def permutation_pvalues(observed, null) -> np.ndarray:
    """``(1 + #{null_b >= observed}) / (1 + B)`` per feature.

    ``null`` has shape ``(B, d)``: row ``b`` holds the scores of every
    feature on the ``b``-th permuted target.

    Examples
    --------
    >>> import numpy as np
    >>> permutation_pvalues([2.0, 0.0], [[1.0, 0.0], [3.0, 0.5], [0.5, 0.0]])
    array([0.5, 1. ])
    """
    observed = np.asarray(observed, dtype=float)
    null = np.atleast_2d(np.asarray(null, dtype=float))
    return (1.0 + (null >= observed).sum(axis=0)) / (1.0 + null.shape[0])


def pooled_pvalues(observed, null) -> np.ndarray:
    """``(1 + #{null >= observed_j}) / (1 + N)`` against one pooled null.

    Every value of ``null`` (any shape, ``N`` values) is a draw of the score
    of a feature unrelated to anything; each feature is compared with all.

    Examples
    --------
    >>> import numpy as np
    >>> pooled_pvalues([2.0, 0.0], [[1.0, 0.0], [3.0, 0.5]])
    array([0.4, 1. ])
    """
    pool = np.sort(np.asarray(null, dtype=float).ravel())
    below = np.searchsorted(pool, np.asarray(observed, dtype=float), side="left")
    return (1.0 + pool.size - below) / (1.0 + pool.size)


def with_shadows(X, rng, copies: int = 1):
    """``X`` and, after its columns, ``copies`` shadows of each column.

    A shadow is the column with its rows permuted, each shadow on its own.
    A DataFrame keeps its dtypes (a shadow of a text or category column is
    one too); shadows are named ``shadow<k>_<name>``, made unique.
    """
    n, d = X.shape
    rows = rng.permuted(np.tile(np.arange(n)[:, None], (1, d * copies)), axis=0)
    if not isinstance(X, pd.DataFrame):
        values = np.asarray(X)
        return np.hstack([values, np.take_along_axis(np.tile(values, copies), rows, 0)])
    columns = list(X.columns)
    if not all(isinstance(c, str) for c in columns):
        # scikit-learn refuses a mix of text and other column names.
        columns = [f"x{j}" for j in range(d)]
    real = X.set_axis(columns, axis=1)
    taken = set(columns)
    shadows = {}
    for i in range(d * copies):
        k, j = divmod(i, d)
        shadow = f"shadow{k}_{columns[j]}"
        while shadow in taken:
            shadow = f"_{shadow}"
        taken.add(shadow)
        shadows[shadow] = real.iloc[rows[:, i], j].set_axis(real.index)
    return pd.concat([real, pd.DataFrame(shadows, index=real.index)], axis=1)


def importances_of(estimator, n_features: int) -> np.ndarray:
    """The fitted ``estimator``'s ``feature_importances_``, checked."""
    scores = getattr(estimator, "feature_importances_", None)
    if scores is None:
        raise TypeError(
            f"{type(estimator).__name__} has no feature_importances_ after fit; "
            "SignificanceSelector needs an estimator that exposes one (every "
            "featimp selector does, and so do tree ensembles)"
        )
    scores = np.asarray(scores, dtype=float).ravel()
    if scores.shape != (n_features,):
        raise ValueError(
            f"{type(estimator).__name__} gave {scores.size} importances for "
            f"{n_features} features"
        )
    return scores


def _quiet_fit(estimator, X, y):
    # The refits see the columns of the plain fit in the caller, which has
    # already shown their warnings (such as columns that cannot be used).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return estimator.fit(X, y)


def permutation_round(estimator, X, y, seed, model_seed) -> np.ndarray:
    """Importances of ``estimator`` refitted on a permuted target."""
    y_round = np.asarray(y)[np.random.default_rng(seed).permutation(X.shape[0])]
    fitted = _quiet_fit(seeded(estimator, model_seed), X, y_round)
    return importances_of(fitted, X.shape[1])


def column_permutation_round(estimator, X, y, column, seed, model_seed) -> float:
    """The importance of column ``column`` refitted with its rows permuted."""
    rows = np.random.default_rng(seed).permutation(X.shape[0])
    if isinstance(X, pd.DataFrame):
        table = X.copy()
        table.isetitem(column, X.iloc[rows, column].set_axis(X.index))
    else:
        table = np.array(X, copy=True)
        table[:, column] = table[rows, column]
    fitted = _quiet_fit(seeded(estimator, model_seed), table, y)
    return importances_of(fitted, X.shape[1])[column]


def shadow_round(estimator, X, y, copies, shadow_seed, model_seed) -> np.ndarray:
    """Importances of ``estimator`` on ``X`` and its shadows, features first.

    The shadows come from ``shadow_seed``, so every refit of one test sees
    the same table.
    """
    table = with_shadows(X, np.random.default_rng(shadow_seed), copies)
    fitted = _quiet_fit(seeded(estimator, model_seed), table, y)
    return importances_of(fitted, table.shape[1])


def _randomized(estimator) -> bool:
    """Whether refits with fresh seeds differ: an unset ``random_state``."""
    params = estimator.get_params(deep=False)
    return "random_state" in params and params["random_state"] is None


def _parse_named(estimator) -> tuple[str, dict]:
    """``"lasso"`` or ``("lasso", {...})`` -> ``("lasso", {...})``."""
    if isinstance(estimator, str):
        return estimator, {}
    if (
        len(estimator) == 2
        and isinstance(estimator[0], str)
        and isinstance(estimator[1], Mapping)
    ):
        return estimator[0], dict(estimator[1])
    raise TypeError(
        "estimator must be an estimator, a method name or a (name, params) "
        f"pair, got {estimator!r}"
    )


def named_selector(estimator, task: str = "auto"):
    """The registry selector for a method name or ``(name, params)`` pair.

    A resolved ``task`` is passed to methods that take one and checked
    against the tasks the method supports.
    """
    from featimp.methods import get_method

    name, params = _parse_named(estimator)
    spec = get_method(name)
    if task in TASKS:
        if not spec.supports(task):
            raise ValueError(
                f"method {name!r} does not support {task} "
                f"(it supports: {', '.join(spec.tasks)})"
            )
        if "task" in spec.parameters() and "task" not in params:
            params = {**params, "task": task}
    try:
        return spec.make_selector(**params)
    except ValueError as exc:
        raise ValueError(f"estimator {name!r}: {exc}") from None


def _scores_each_feature_alone(estimator) -> bool:
    """Whether a feature's score depends on that feature and ``y`` only."""
    from featimp._mutual_info import MutualInfoSelector

    return bool(
        getattr(estimator, "_univariate", isinstance(estimator, MutualInfoSelector))
    )


def _reads_tables_of(estimator) -> bool:
    if estimator is None or isinstance(estimator, str | list | tuple):
        from featimp.methods import get_method

        try:
            name, _ = _parse_named(DEFAULT_METHOD if estimator is None else estimator)
            tags = get_method(name).input_tags()
        except (TypeError, ValueError):
            return False  # fit names the problem
        return all(tags.values())
    if not hasattr(estimator, "__sklearn_tags__"):
        return False
    tags = get_tags(estimator).input_tags
    return bool(tags.string and tags.categorical and tags.allow_nan)


class SignificanceSelector(BaseImportanceSelector):
    """Select the features whose importance beats a null, with FDR control.

    Fits ``estimator`` on the data, then on null versions of it (permuted
    targets, or the features with shadow copies; see
    :mod:`featimp._significance` and ``null`` below), gives each feature a
    p-value against that null and a Benjamini-Hochberg q-value, and keeps
    the features with ``q <= alpha``. The refits run in parallel under
    joblib (so a Dask backend spreads them over a cluster), with a tqdm
    progress bar when ``verbose``.

    It reads what ``estimator`` reads: tables with text, categories and
    missing values (pandas or polars) when the wrapped estimator's input
    tags accept all three, as every featimp selector's do; numbers only
    otherwise.

    Parameters
    ----------
    estimator : estimator, str, (str, dict) or None, default=None
        A featimp selector, any estimator with ``feature_importances_``
        after ``fit`` (e.g. a random forest), or a method of
        :mod:`featimp.methods` by name, optionally with parameters:
        ``("lasso", {"n_grid": 5})``. None is ``"mi"``.
    alpha : float in (0, 1], default=0.1
        Target false discovery rate: features with ``q <= alpha`` are kept.
        Changing it after ``fit`` changes the selection without a refit.
    null : {"auto", "shadow", "permutation"}, default="auto"
        ``"permutation"`` refits on permuted rows. For per-feature scores
        (``MutualInfoSelector``) the target is permuted, each feature is
        compared with its own scores on the permuted targets, and the test
        of ``x_j`` independent of ``y`` is exact. A model is refitted with
        one column at a time permuted (``K`` times each, ``K * d`` refits)
        and each feature compared with the pool of the permuted columns'
        importances: slower than shadows, but the model is fitted on the
        user's columns only. (Target permutations are never used for a
        model: they test only the global null, and a model fitted on real
        signal treats its noise features differently; see
        :mod:`featimp._significance`.) ``"shadow"`` fits the model on the
        features plus ``K`` permuted copies of each (Boruta's shadows) and
        compares each feature's importance with the pool of all ``K * d``
        shadow importances: the model sees the real signal. Both pools
        assume that a column unrelated to anything scores about the same
        whichever column it is; impurity importances, which favour
        many-valued columns, break that, so use an unbiased score there.
        ``"auto"``: ``"permutation"`` for per-feature scores, ``"shadow"``
        otherwise.
    n_permutations : int >= 1 or "auto", default="auto"
        Target permutations (``"permutation"`` of per-feature scores;
        ``"auto"``: 199), or null draws of each column, shadow copies or
        permutations of a model's column (``"auto"``: ``ceil(1 / alpha)``).
        The smallest p-value is ``1 / (1 + n_permutations)``, or
        ``1 / (1 + n_permutations * n_features)`` with a pooled null, and BH
        keeps ``k`` of ``d`` features only when ``k`` p-values are at most
        ``alpha * k / d``: with ``ceil(1 / alpha)`` draws a single feature
        that beats every one of them is kept. With many features, fewer
        draws suffice unless very few features are expected to matter.
    n_refits : int >= 1, default=5
        ``"shadow"`` only: fits of the model, with fresh seeds, on the same
        table of features and shadows; every column's importance is averaged
        over them. A model without a ``random_state``, or with its own, is
        fitted once.
    correction : {"bh", "by"}, default="bh"
        Benjamini-Hochberg, which controls the FDR for independent or
        positively dependent p-values (PRDS). Both nulls make p-values
        positively dependent (they share the permuted targets, or the
        pool), and so do correlated features. ``"by"``
        (Benjamini-Yekutieli) holds under any dependence, e.g. features
        that compete for one model's weight (a lasso keeps one of two
        copies), at the price of dividing ``alpha`` by ``sum(1/i)``, about
        ``ln(d) + 0.58``.
    task : {"auto", "classification", "regression"}, default="auto"
        Passed to a method given by name that takes a task.
    random_state : int, RandomState instance or None, default=None
        Seeds the permutations, the shadows and every model left without
        its own seed.
    n_jobs : int or None, default=None
        Parallel joblib workers over the refits.
    verbose : bool, default=False
        Show a tqdm progress bar over the refits.
    n_features_to_select : int, float in (0, 1] or None, default=None
    threshold : float, "mean", "median", "1.25*mean" or None, default=None
        Further selection on ``importances_``, as in
        :class:`~featimp.BaseImportanceSelector`: a feature must pass it and
        ``q <= alpha``.

    Attributes
    ----------
    importances_ : ndarray of shape (n_features_in_,)
        The tested statistic: the wrapped estimator's importances
        (``"permutation"``), or their mean over the refits with shadows.
    pvalues_ : ndarray of shape (n_features_in_,)
    qvalues_ : ndarray of shape (n_features_in_,)
        ``correction``-adjusted p-values; features with ``q <= alpha`` are
        selected.
    null_importances_ : ndarray of shape (n_permutations_, n_features_in_)
        Scores under the null: every feature's on each permuted target, the
        importance of every column in its ``k``-th refit with it permuted,
        or the (mean) importance of the ``k``-th shadow of every column.
    null_ : str
        The null used, ``"permutation"`` or ``"shadow"``.
    n_permutations_ : int
    n_refits_ : int
        Fits of the model on the null tables: ``n_permutations_`` target
        permutations, ``n_permutations_ * n_features_in_`` column
        permutations, or the shadow refits.
    estimator_ : estimator
        The wrapped estimator fitted on ``X`` and ``y``.

    Examples
    --------
    >>> from featimp.datasets import make_ground_truth
    >>> from featimp import SignificanceSelector
    >>> X, y, truth = make_ground_truth(300, n_noise=5, random_state=0)
    >>> sel = SignificanceSelector("mi", alpha=0.1, random_state=0).fit(X, y)
    >>> sel.null_
    'permutation'
    >>> sorted(sel.get_feature_names_out()) == sorted(truth.relevant)
    True
    >>> bool(sel.qvalues_[X.columns.get_loc("noise_0")] > 0.1)
    True

    A random forest against 10 shadows of each column:

    >>> from sklearn.ensemble import RandomForestClassifier
    >>> forest = RandomForestClassifier(n_estimators=50, max_depth=5)
    >>> sel = SignificanceSelector(forest, n_refits=2, random_state=0).fit(X, y)
    >>> sel.null_, sel.null_importances_.shape
    ('shadow', (10, 14))
    >>> sorted(sel.get_feature_names_out()) == sorted(truth.relevant)
    True
    """

    _test_params: ClassVar[dict] = {
        "estimator": "mi",
        "null": "shadow",
        "n_permutations": 10,
        "n_refits": 2,
    }

    # Significance has its own resampling; ``stability`` is not offered.
    _parameter_constraints: ClassVar[dict] = {
        **{
            k: v
            for k, v in BaseImportanceSelector._parameter_constraints.items()
            if k != "stability"
        },
        "estimator": [HasMethods(["fit"]), str, list, tuple, None],
        "alpha": [Interval(Real, 0, 1, closed="right")],
        "null": [StrOptions({"auto", "shadow", "permutation"})],
        "n_permutations": [
            Interval(Integral, 1, None, closed="left"),
            StrOptions({"auto"}),
        ],
        "n_refits": [Interval(Integral, 1, None, closed="left")],
        "correction": [StrOptions({"bh", "by"})],
        "task": TASK_CONSTRAINT,
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        estimator=None,
        *,
        alpha=0.1,
        null="auto",
        n_permutations="auto",
        n_refits=5,
        correction="bh",
        task="auto",
        random_state=None,
        n_jobs=None,
        verbose=False,
        n_features_to_select=None,
        threshold=None,
    ):
        self.estimator = estimator
        self.alpha = alpha
        self.null = null
        self.n_permutations = n_permutations
        self.n_refits = n_refits
        self.correction = correction
        self.task = task
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    @property
    def _reads_tables(self) -> bool:
        """Tables go through when the wrapped estimator's input tags take them."""
        return _reads_tables_of(self.estimator)

    def _validate_params(self):
        super()._validate_params()
        if isinstance(self.estimator, str | list | tuple):
            # Unknown names and parameters fail here, not after the fit.
            named_selector(self.estimator, self.task)

    def _wrapped(self, y):
        if self.estimator is None or isinstance(self.estimator, str | list | tuple):
            method = DEFAULT_METHOD if self.estimator is None else self.estimator
            return named_selector(method, infer_task(y, self.task))
        return clone(self.estimator)

    def _compute_importances(self, X, y):
        estimator = self._wrapped(y)
        null = self.null
        if null == "auto":
            null = "permutation" if _scores_each_feature_alone(estimator) else "shadow"
        rng = check_random_state(self.random_state)
        model_seed = self._seeds(rng, 1)[0]
        # The plain fit runs here, so that its warnings reach the caller.
        self.estimator_ = seeded(estimator, model_seed).fit(X, y)
        observed = importances_of(self.estimator_, X.shape[1])
        if null == "shadow":
            statistic, null_scores = self._shadow_null(estimator, X, y, rng)
        elif _scores_each_feature_alone(estimator):
            statistic, null_scores = self._permutation_null(
                estimator, X, y, observed, model_seed, rng
            )
        else:
            statistic, null_scores = self._column_permutation_null(
                estimator, X, y, observed, model_seed, rng
            )
        self.null_, self.null_importances_ = null, null_scores
        self.n_permutations_ = null_scores.shape[0]
        self.qvalues_ = false_discovery_control(self.pvalues_, method=self.correction)
        return statistic

    def _seeds(self, rng, n: int) -> list:
        """Model seeds: None (the model's own randomness) without random_state."""
        if self.random_state is None:
            return [None] * n
        return [int(s) for s in rng.randint(_SEED_MAX, size=n)]

    def _permutation_null(self, estimator, X, y, observed, model_seed, rng):
        """Every feature's scores on permuted targets; the same model seed
        throughout, so that only the target differs."""
        n = AUTO_PERMUTATIONS if self.n_permutations == "auto" else self.n_permutations
        seeds = rng.randint(_SEED_MAX, size=n)
        scores = self._parallel(
            [delayed(permutation_round)(estimator, X, y, s, model_seed) for s in seeds],
            "permutation",
        )
        self.n_refits_ = n
        self.pvalues_ = permutation_pvalues(observed, scores)
        return observed, scores

    def _copies(self) -> int:
        """Null draws of each column for the pooled nulls: ``ceil(1 / alpha)``."""
        if self.n_permutations == "auto":
            return math.ceil(1 / self.alpha - 1e-9)
        return self.n_permutations

    def _column_permutation_null(self, estimator, X, y, observed, model_seed, rng):
        """Each column's importance refitted with that column permuted,
        ``copies`` times; the model seed of the plain fit throughout."""
        d, copies = X.shape[1], self._copies()
        seeds = rng.randint(_SEED_MAX, size=(copies, d))
        scores = self._parallel(
            [
                delayed(column_permutation_round)(
                    estimator, X, y, j, seeds[k, j], model_seed
                )
                for k in range(copies)
                for j in range(d)
            ],
            "permutation",
        ).reshape(copies, d)
        self.n_refits_ = copies * d
        self.pvalues_ = pooled_pvalues(observed, scores)
        return observed, scores

    def _shadow_null(self, estimator, X, y, rng):
        """Mean importances of the features and of their shadows."""
        d, copies = X.shape[1], self._copies()
        shadow_seed = rng.randint(_SEED_MAX)
        refits = self.n_refits if _randomized(estimator) else 1
        scores = self._parallel(
            [
                delayed(shadow_round)(estimator, X, y, copies, shadow_seed, s)
                for s in self._seeds(rng, refits)
            ],
            "shadow",
        ).mean(axis=0)
        self.n_refits_ = refits
        statistic, shadows = scores[:d], scores[d:].reshape(copies, d)
        self.pvalues_ = pooled_pvalues(statistic, shadows)
        return statistic, shadows

    def _parallel(self, calls, null: str) -> np.ndarray:
        """The results of ``calls`` under joblib, shape (n_calls, n_columns)."""
        results = parallel_results(
            calls, f"significance ({null})", n_jobs=self.n_jobs, bar=self.verbose
        )
        return np.array(results, dtype=float)

    def _get_support_mask(self):
        check_is_fitted(self, "qvalues_")
        significant = self.qvalues_ <= self.alpha
        if self.n_features_to_select is None and self.threshold is None:
            return significant
        return significant & super()._get_support_mask()
