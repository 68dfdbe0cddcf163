"""KAN feature importances: pure score functions and the KANSelector."""

from __future__ import annotations

from numbers import Integral
from typing import ClassVar

import numpy as np
from joblib import delayed
from sklearn.model_selection import KFold, StratifiedKFold
from sklearn.utils._param_validation import Interval

from featimp._base import BaseImportanceSelector
from featimp._progress import parallel_results
from featimp._validation import (
    TASK_CONSTRAINT,
    check_random_state_seed,
    check_X_y,
    encode_target,
    infer_task,
)
from featimp.kan._config import (
    IMPORTANCE_CONSTRAINT,
    IMPORTANCE_METHODS,
    NETWORK_CONSTRAINTS,
    SELECTOR_DEFAULTS,
    NetworkConfig,
    check_hidden_layer_sizes,
    require_torch,
)
from featimp.kan._estimators import normalised, standardise


def _splitter(y_codes, task, cv, seed):
    """Stratified folds when every class has ``cv`` members, else plain."""
    if task == "classification" and np.bincount(y_codes).min() >= cv:
        return StratifiedKFold(cv, shuffle=True, random_state=seed)
    return KFold(cv, shuffle=True, random_state=seed)


def _check_folds(n_samples: int, cv: int) -> None:
    if n_samples < cv:
        raise ValueError(
            f"X has {n_samples} sample(s), fewer than cv={cv} folds; lower cv "
            "or give more rows"
        )


def _fold_scores(X, y, fold, *, task, n_outputs, config, seed, methods):
    """Train on one fold's training rows, score on its held-out rows."""
    train = require_torch()
    tr, va = fold
    mean, scale = standardise(X[tr])
    Z = (X - mean) / scale
    target = y
    if task == "regression":
        y_mean, y_scale = standardise(y[tr, None])
        target = (y - y_mean[0]) / y_scale[0]
    network, _, _ = train.train_network(
        Z[tr], target[tr], task=task, n_outputs=n_outputs, config=config, seed=seed
    )
    scores = train.importance_variants(
        network, Z[va], target[va], task=task, methods=methods
    )
    # A feature constant on the training rows carries no information.
    constant = np.ptp(X[tr], axis=0) == 0
    return {k: normalised(np.where(constant, 0.0, v)) for k, v in scores.items()}


def kan_importance_variants(
    X,
    y,
    *,
    methods=IMPORTANCE_METHODS,
    task="auto",
    cv=5,
    n_seeds=3,
    random_state=None,
    n_jobs=None,
    **network_params,
) -> dict[str, np.ndarray]:
    """Several KAN importances from one set of trained networks.

    For each of ``n_seeds`` shuffles, the rows are split into ``cv`` folds;
    a KAN is trained on each fold's training rows and every requested score
    is computed on its held-out rows, normalised to sum 1, and averaged over
    all folds and seeds. Asking for more methods trains nothing more.
    :func:`kan_fit_importances` gives each network's scores as well.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
        Text and ``category`` columns are one-hot encoded and numeric columns
        with missing values median-imputed with a missing indicator (see
        :mod:`featimp._encoding`); the network sees the encoded columns. A
        column's importance is the sum of its encoded columns' shares, so
        the importances still sum to 1 over the columns.
    y : array-like of shape (n_samples,)
    methods : sequence of str, default=all
        Any of ``"l1"``, ``"l2"``, ``"si"``, ``"ko"``, ``"coef_l1"``,
        ``"coef_l2"``; see :class:`KANSelector`.
    task : {"auto", "classification", "regression"}, default="auto"
    cv : int, default=5
    n_seeds : int, default=3
    random_state : int, Generator or None, default=None
    n_jobs : int or None, default=None
        Networks trained at once (joblib; -1 is every CPU). Each trains on
        one torch thread, so on ``c`` cores ``n_jobs=c`` is about ``c``
        times as fast, and the scores are the same for every ``n_jobs``.
    **network_params
        The network and training parameters of :class:`KANClassifier`
        (``hidden_layer_sizes``, ``grid_size``, ``spline_order``,
        ``grid_eps``, ``update_grid``, ``max_iter``, ``batch_size``,
        ``learning_rate``, ``sparsity``, ``verbose``), with the
        defaults of :class:`KANSelector`.

    Returns
    -------
    dict mapping each method to an ndarray of shape (n_features,) summing to 1

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from featimp.kan import kan_importance_variants
    >>> X, y = load_diabetes(return_X_y=True)
    >>> scores = kan_importance_variants(X, y, methods=["l1", "ko"], cv=2,
    ...     n_seeds=1, grid_size=3, max_iter=5, random_state=0)
    >>> sorted(scores), scores["ko"].shape
    (['ko', 'l1'], (10,))
    """
    return kan_fit_importances(
        X,
        y,
        methods=methods,
        task=task,
        cv=cv,
        n_seeds=n_seeds,
        random_state=random_state,
        n_jobs=n_jobs,
        **network_params,
    )[0]


def kan_fit_importances(
    X,
    y,
    *,
    methods=IMPORTANCE_METHODS,
    task="auto",
    cv=5,
    n_seeds=3,
    random_state=None,
    n_jobs=None,
    **network_params,
) -> tuple[dict, dict]:
    """KAN importances of every trained network, and their means.

    For each of ``n_seeds`` shuffles, the rows are split into ``cv`` folds;
    a KAN is trained on each fold's training rows and every requested score
    is computed on its held-out rows and normalised to sum 1. The spread of
    a feature's scores over the ``cv * n_seeds`` networks is its seed-and-fold
    uncertainty: what another shuffle of the folds and another
    initialisation would change (the networks share most of their training
    rows, so it is not the sampling error of new data; bootstrap
    ``stability`` gives that).

    Parameters
    ----------
    X, y, methods, task, cv, n_seeds, random_state, n_jobs, **network_params
        As in :func:`kan_importance_variants`.

    Returns
    -------
    means : dict mapping each method to an ndarray of shape (n_features,)
        The scores averaged over the networks, summing to 1.
    fits : dict mapping each method to an ndarray of shape (n_fits, n_features)
        Each network's scores (row ``i``: seed ``i // cv``, fold ``i % cv``),
        each row summing to 1.

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from featimp.kan import kan_fit_importances
    >>> X, y = load_diabetes(return_X_y=True)
    >>> means, fits = kan_fit_importances(X, y, methods=["l1"], cv=2,
    ...     n_seeds=2, grid_size=3, max_iter=5, random_state=0)
    >>> fits["l1"].shape, bool(abs(fits["l1"].mean(axis=0) - means["l1"]).max() < 1e-12)
    ((4, 10), True)
    """
    methods = _check_methods(methods)
    table, y = check_X_y(X, y, encoding="onehot")
    X = table.values
    task = infer_task(y, task)
    y, classes = encode_target(y, task)
    _check_folds(X.shape[0], cv)
    check_hidden_layer_sizes(network_params.get("hidden_layer_sizes"))
    network_params = {**SELECTOR_DEFAULTS, **network_params}
    config = NetworkConfig(**network_params)
    require_torch()
    rng = check_random_state_seed(random_state)
    n_outputs = 1 if classes is None else classes.size
    runs = [
        (s, fold)
        for s in rng.integers(2**31 - 1, size=n_seeds)
        for fold in _splitter(y, task, cv, s).split(X, y)
    ]
    quiet = NetworkConfig(**{**network_params, "verbose": False})
    calls = [
        delayed(_fold_scores)(
            X,
            y,
            fold,
            task=task,
            n_outputs=n_outputs,
            config=quiet,
            seed=int(seed) + i,
            methods=methods,
        )
        for i, (seed, fold) in enumerate(runs)
    ]
    # Summed in the order of the runs, so every n_jobs gives the same sums.
    total = dict.fromkeys(methods, 0.0)
    each = {k: [] for k in methods}
    fits = parallel_results(calls, "KAN fits", n_jobs=n_jobs, bar=config.verbose)
    for scores in fits:
        for k in methods:
            total[k] = total[k] + scores[k]
            each[k].append(table.aggregate(scores[k], "sum"))
    means = {k: table.aggregate(v / len(runs), "sum") for k, v in total.items()}
    return means, {k: np.array(v) for k, v in each.items()}


def _check_methods(methods):
    methods = [methods] if isinstance(methods, str) else list(methods)
    unknown = [m for m in methods if m not in IMPORTANCE_METHODS]
    if unknown or not methods:
        raise ValueError(
            f"unknown KAN importance method(s) {unknown}; choose from "
            f"{', '.join(IMPORTANCE_METHODS)}"
        )
    return methods


def kan_importances(X, y, *, method="l1", **kwargs) -> np.ndarray:
    """One KAN importance per feature (bigger = more important).

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,)
    method : {"l1", "l2", "si", "ko", "coef_l1", "coef_l2"}, default="l1"
    **kwargs
        ``task``, ``cv``, ``n_seeds``, ``random_state`` and the network
        parameters of :func:`kan_importance_variants`.

    Returns
    -------
    ndarray of shape (n_features,), summing to 1

    Examples
    --------
    >>> from sklearn.datasets import load_diabetes
    >>> from featimp.kan import kan_importances
    >>> X, y = load_diabetes(return_X_y=True)
    >>> scores = kan_importances(X, y, method="si", cv=2, n_seeds=1,
    ...     grid_size=3, max_iter=5, random_state=0)
    >>> scores.shape, round(float(scores.sum()), 6)
    ((10,), 1.0)
    """
    return kan_importance_variants(X, y, methods=[method], **kwargs)[method]


class KANSelector(BaseImportanceSelector):
    """Select features by the importances of Kolmogorov-Arnold networks.

    Trains KANs on cross-validation folds (``cv`` folds for each of
    ``n_seeds`` shuffles) and scores every feature on the held-out rows,
    after arXiv 2509.23366 and its authors' code:

    - ``"l1"``: mean over samples and first-layer outputs of
      ``|phi_oj(x_j)|`` (spline and SiLU branch together);
    - ``"l2"``: root mean square of the same edge outputs;
    - ``"si"``: mean over samples of ``|d/dx_j sum_c |f_c(x)||``;
    - ``"ko"``: knock-out, ``max(0, loss without feature j - loss)`` with
      feature j's first-layer weights zeroed (cross-entropy or MSE);
    - ``"coef_l1"``/``"coef_l2"``: l1/l2 norm of feature j's first-layer
      spline coefficients.

    Each score is normalised to sum 1 per fold before averaging. All six are
    computed from the same networks and kept in ``all_importances_``, so
    switching ``method`` with ``set_params`` does not need a refit to compare.
    A feature constant on a fold's training rows scores 0 on that fold.

    Parameters
    ----------
    method : {"l1", "l2", "si", "ko", "coef_l1", "coef_l2"}, default="l1"
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.
    task : {"auto", "classification", "regression"}, default="auto"
    cv : int, default=5
    n_seeds : int, default=3
    hidden_layer_sizes, grid_size, spline_order, grid_eps, update_grid, \
max_iter, batch_size, learning_rate, sparsity
        As in :class:`KANClassifier`, except for the defaults
        ``max_iter=50``, ``batch_size=128`` (a quarter of the steps, for
        fifteen networks), ``grid_size=3`` and ``sparsity=0.03`` (a coarse,
        sparse first layer ranks features more stably on small data),
        ``hidden_layer_sizes=(8,)`` and ``update_grid=False`` (the grid stays
        uniform on [-1, 1] of the standardised inputs: beyond one standard
        deviation an edge's spline is constant and its SiLU branch carries
        the trend). The last two took the best KAN variant from below to
        above the best baseline on German and Taiwan credit and kept 22 of
        the paper's 24 figures (benchmarks/kan_levers.py, README).
    random_state : int or None, default=None
    n_jobs : int or None, default=None
        Networks trained at once (joblib; -1 is every CPU). Each trains on
        one torch thread, so ``n_jobs`` set to the number of cores is the
        fastest, and the importances do not depend on it.
    verbose : bool, default=False
        Show a progress bar over the trained networks.

    Attributes
    ----------
    importances_ : ndarray of shape (n_features_in_,)
    all_importances_ : dict of str to ndarray
        Every variant, from the same networks.
    fit_importances_ : ndarray of shape (cv * n_seeds, n_features_in_)
        Each network's scores of ``method``; ``importances_`` is their mean.
        Their spread is the seed-and-fold uncertainty of the importances
        (``featimp rank`` and the service show its 5-95 % range as
        ``importance_low`` and ``importance_high``): two features whose
        ranges overlap much are not told apart by these networks.
    all_fit_importances_ : dict of str to ndarray
        ``fit_importances_`` of every variant.
    importances_std_ : ndarray of shape (n_features_in_,)
        The standard deviation of ``fit_importances_`` over the networks.
    ranking_ : ndarray of shape (n_features_in_,)
    n_iter_ : int
        Epochs each network ran.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp.kan import KANSelector
    >>> X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    >>> sel = KANSelector(method="ko", n_features_to_select=5, cv=2, n_seeds=1,
    ...                   grid_size=3, max_iter=5, random_state=0).fit(X, y)
    >>> sel.transform(X).shape
    (569, 5)
    >>> sorted(sel.all_importances_)
    ['coef_l1', 'coef_l2', 'ko', 'l1', 'l2', 'si']
    """

    _test_params: ClassVar[dict] = {
        "grid_size": 3,
        "hidden_layer_sizes": [3],
        "max_iter": 8,
        "batch_size": 64,
        "learning_rate": 0.1,
        "cv": 2,
        "n_seeds": 1,
    }

    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **NETWORK_CONSTRAINTS,
        "method": IMPORTANCE_CONSTRAINT,
        "task": TASK_CONSTRAINT,
        "cv": [Interval(Integral, 2, None, closed="left")],
        "n_seeds": [Interval(Integral, 1, None, closed="left")],
        "n_jobs": [Integral, None],
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        method="l1",
        stability=False,
        n_features_to_select=None,
        threshold=None,
        task="auto",
        cv=5,
        n_seeds=3,
        hidden_layer_sizes=(8,),
        grid_size=3,
        spline_order=3,
        grid_eps=0.02,
        update_grid=False,
        max_iter=50,
        batch_size=128,
        learning_rate=1e-2,
        sparsity=0.03,
        random_state=None,
        n_jobs=None,
        verbose=False,
    ):
        self.stability = stability
        super().__init__(n_features_to_select=n_features_to_select, threshold=threshold)
        self.method = method
        self.task = task
        self.cv = cv
        self.n_seeds = n_seeds
        self.hidden_layer_sizes = hidden_layer_sizes
        self.grid_size = grid_size
        self.spline_order = spline_order
        self.grid_eps = grid_eps
        self.update_grid = update_grid
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.sparsity = sparsity
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    def _compute_importances(self, X, y):
        network = {
            k: getattr(self, k) for k in NETWORK_CONSTRAINTS if k != "random_state"
        }
        seed = self.random_state
        if isinstance(seed, np.random.RandomState):
            seed = seed.randint(2**31 - 1)
        self.all_importances_, self.all_fit_importances_ = kan_fit_importances(
            X,
            y,
            task=self.task,
            cv=self.cv,
            n_seeds=self.n_seeds,
            random_state=seed,
            n_jobs=self.n_jobs,
            **network,
        )
        # Every network runs all its epochs (the selector has no early stop).
        self.n_iter_ = self.max_iter
        self.fit_importances_ = self.all_fit_importances_[self.method]
        self.importances_std_ = self.fit_importances_.std(axis=0, ddof=1)
        return self.all_importances_[self.method]
