"""Eigenvector centrality (EC-FS) and infinite feature selection (Inf-FS).

Both methods rank the nodes of one graph whose nodes are the features. Its
affinity matrix, as in the reference MATLAB code of EC-FS (Roffo & Melzi,
"Ranking to Learn: Feature Ranking and Selection via Eigenvector Centrality",
NFMCP 2016), is

    A = alpha * minmax(v v^T) + (1 - alpha) * minmax(max(sigma_i, sigma_j))

where ``v`` is a per-feature relevance, ``sigma`` the per-feature standard
deviation (ddof=1) and ``minmax(M) = (M - min M) / (max M - min M)``, taken
over all entries. EC-FS scores a feature by its entry of the leading
eigenvector of ``A``; Inf-FS (Roffo, Melzi & Cristani, ICCV 2015) by the row
sums of ``(I - r A)^-1 - I``, the weight of all paths leaving it.

``A`` is never formed unless asked for (``solver="dense"``): since ``v >= 0``,
``min``/``max`` of ``v v^T`` are ``min(v)^2``/``max(v)^2``, and
``sum_j max(sigma_i, sigma_j) x_j`` is a prefix sum once ``sigma`` is sorted,
so ``A @ x`` costs O(d) after an O(d log d) sort. ARPACK (``eigsh``) and
conjugate gradients then run on a ``LinearOperator``, and the whole method is
O(n d), dominated by the per-feature statistics.
"""

from __future__ import annotations

import warnings
from numbers import Real
from typing import ClassVar

import numpy as np
from scipy.sparse.linalg import LinearOperator, cg, eigsh
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from featimp._affinity import AFFINITIES, _Affinity, _check_choice, feature_affinity
from featimp._base import BaseImportanceSelector
from featimp._validation import TASK_CONSTRAINT


def leading_eigenpair(affinity: _Affinity, solver: str = "matrix_free"):
    """Largest eigenvalue of ``A`` and its eigenvector, ``|u|`` with unit norm.

    ``A`` is symmetric and non-negative, so its largest algebraic eigenvalue is
    the Perron root, the one ``eigs(A, 1, 'lm')`` returns in the reference.
    A zero ``A`` (all features alike) makes every feature equally central.
    """
    _check_choice("solver", solver, ("matrix_free", "dense"))
    d = affinity.n_features
    if affinity.is_zero:
        return 0.0, np.full(d, 1.0 / np.sqrt(d))
    # ARPACK needs at least 3 unknowns; tiny problems are cheap dense anyway.
    if solver == "dense" or d < 3:
        values, vectors = np.linalg.eigh(affinity.dense())
        value, vector = values[-1], vectors[:, -1]
    else:
        # A fixed positive start vector keeps the result deterministic and
        # cannot be orthogonal to the (non-negative) Perron vector.
        values, vectors = eigsh(
            affinity.operator(), k=1, which="LA", v0=np.ones(d), tol=0
        )
        value, vector = values[0], vectors[:, 0]
    vector = np.abs(vector)
    return float(value), vector / np.linalg.norm(vector)


def path_scores(affinity: _Affinity, decay: float, solver="matrix_free"):
    """Row sums of ``(I - r A)^-1 - I`` with ``r = decay / lambda_max(A)``.

    Solved as ``(I - r A) z = 1``, ``s = z - 1``: ``I - r A`` is symmetric with
    eigenvalues in ``[1 - decay, 1 + decay]``, so conjugate gradients converge
    in a few dozen products and no inverse is ever formed.
    """
    d = affinity.n_features
    if affinity.is_zero:
        return np.zeros(d)
    rho, _ = leading_eigenpair(affinity, solver)
    r = decay / rho
    ones = np.ones(d)
    if solver == "dense" or d < 3:
        system = np.eye(d) - r * affinity.dense()
        return np.linalg.solve(system, ones) - 1.0
    operator = LinearOperator(
        (d, d), matvec=lambda x: np.ravel(x) - r * affinity.matvec(x), dtype=float
    )
    z, info = cg(operator, ones, rtol=1e-12, atol=0.0, maxiter=10 * d)
    if info != 0:
        warnings.warn(
            f"Inf-FS: conjugate gradients stopped after {info} iterations "
            "without reaching tolerance 1e-12",
            ConvergenceWarning,
            stacklevel=2,
        )
    return z - 1.0


def eigenvector_centrality_importances(
    X,
    y=None,
    *,
    alpha=0.5,
    mode="auto",
    task="auto",
    standardize="auto",
    solver="matrix_free",
) -> np.ndarray:
    """Eigenvector centrality of every feature in the EC-FS affinity graph.

    For binary ``y`` (``mode="auto"`` or ``"reference"``) this is EC-FS as
    the reference MATLAB code of Roffo & Melzi (2016) computes it:

    - Fisher score ``f = (mu1 - mu0)^2 / (s0^2 + s1^2)`` (ddof=1; a zero
      denominator becomes 10000);
    - symmetric uncertainty ``2 I / (H(x) + H(y))`` on equal-width bins (20
      bins when n/10 > 20, else ``max(n // 10, 10)``), empty cells floored at
      1e-5 as in its ``muteinf`` helper;
    - ``v = |f + su| / 2``; ``K = minmax(v v^T)``;
      ``S = minmax(max(sigma_i, sigma_j))`` with ddof=1 standard deviations;
    - ``A = alpha K + (1 - alpha) S``; importance = ``|u|``, ``u`` the unit
      eigenvector of the largest eigenvalue of ``A``.

    Where featimp differs from the reference on the same input: a constant
    column scores 0 (the reference's ``muteinf`` gives it a large spurious
    symmetric uncertainty, about 33, because its marginal and joint
    histograms then disagree, and so a high rank);
    standard deviations that differ only by rounding count as equal; the
    zero-variance test is exact; a graph with no edges gives every feature
    the same score instead of NaN.

    Where the reference stops (``mode="extended"``, or ``"auto"`` with a
    non-binary target):

    - **multi-class**: the Fisher score is
      ``sum_k n_k (mu_k - mu)^2 / sum_k n_k s_k^2`` (ddof=0), and the
      symmetric uncertainty counts one row of the histogram per class;
    - **regression**: ``v = (|Spearman(x, y)| + su(x, y_binned)) / 2``, where
      ``y`` is cut into the same number of equal-width bins as ``x``;
    - **unsupervised** (``y=None``): ``K = minmax(|Spearman(X)|)``, so central
      features are those correlated with many others. This ``K`` is a dense
      d x d matrix: O(n d^2) time and O(d^2) memory, unlike the supervised
      modes, which are O(n d).

    The result depends on the scale of the columns through ``sigma``: with
    ``alpha < 1``, a column measured in grams outranks the same column in
    kilograms. The relevance ``v`` does not depend on scale, so
    ``standardize=True``, which standardises X first, amounts to setting
    ``sigma = 1`` for every non-constant column: the ``S`` term then no longer
    tells features apart and the ranking follows ``v``.

    **Mixed tables.** Text and ``category`` columns are one-hot encoded
    (each category a node; missing, if present, one more) and numeric
    columns with missing values are median-imputed with a 0/1 missing
    indicator node beside them (see :mod:`featimp._encoding`). A column's
    importance is the largest score among its nodes: a categorical column
    is as central as its most central category, and summing would reward
    columns for having many categories. A 0/1 node has a standard deviation
    of at most 0.5, so with the raw ``sigma`` the ``S`` term would favour
    every numeric column over every categorical one; the default
    ``standardize="auto"`` therefore standardises whenever the table needed
    encoding, and keeps the reference's raw ``sigma`` otherwise.

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
        Class labels or a continuous target; None for the unsupervised graph.
    alpha : float in [0, 1], default=0.5
        Weight of the relevance kernel ``K`` against the spread kernel ``S``.
    mode : {"auto", "reference", "extended"}, default="auto"
        ``"reference"`` insists on binary ``y`` and the formulas above;
        ``"extended"`` uses the multi-class Fisher score even for two
        classes (it weights classes by size); ``"auto"`` picks the reference
        for binary ``y`` and the extension otherwise.
    task : {"auto", "classification", "regression"}, default="auto"
        How to read ``y``; see :func:`featimp._validation.infer_task`.
    standardize : bool or "auto", default="auto"
        Standardise the columns first (see above); ``"auto"``: only when
        the table has categorical columns or missing values.
    solver : {"matrix_free", "dense"}, default="matrix_free"
        ``"dense"`` builds ``A`` and calls :func:`numpy.linalg.eigh`: O(d^3),
        kept as a reference for tests and benchmarks.

    Returns
    -------
    importances : ndarray of shape (n_features,)
        Non-negative, bigger is more central; of unit Euclidean norm over
        the nodes (so over the columns when no column was encoded).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import eigenvector_centrality_importances
    >>> data = load_breast_cancer()
    >>> scores = eigenvector_centrality_importances(data.data, data.target)
    >>> [str(data.feature_names[j]) for j in np.argsort(-scores)[:2]]
    ['worst area', 'mean area']
    >>> scores = eigenvector_centrality_importances(
    ...     data.data, data.target, standardize=True)
    >>> [str(data.feature_names[j]) for j in np.argsort(-scores)[:2]]
    ['worst concave points', 'worst perimeter']
    """
    affinity = feature_affinity(
        X, y, alpha=alpha, mode=mode, task=task, standardize=standardize
    )
    return affinity.table.aggregate(leading_eigenpair(affinity, solver)[1], "max")


def inffs_importances(
    X,
    y=None,
    *,
    alpha=0.5,
    decay=0.9,
    affinity="ecfs",
    mode="auto",
    task="auto",
    standardize="auto",
    solver="matrix_free",
) -> np.ndarray:
    """Infinite feature selection: the weight of all paths from each feature.

    ``s = (I - r A)^-1 1 - 1`` with ``r = decay / lambda_max(A)``, that is
    ``s_i = sum_{l >= 1} r^l (A^l 1)_i`` (Roffo, Melzi & Cristani, ICCV 2015),
    computed by conjugate gradients on the matrix-free ``A``.

    By default ``A`` is the EC-FS affinity (see
    :func:`eigenvector_centrality_importances` for ``alpha``, ``mode``,
    ``task``, ``standardize`` and ``solver``). ``affinity="inffs"`` builds the
    graph of the Inf-FS code of the Feature Selection Library (2016,
    ``rank_fir_infinite.m``): ``A = alpha minmax(f f^T) + (1 - alpha) S``
    with ``f`` the Fisher score alone, or, without ``y``,
    ``A = alpha (1 - |Spearman|) + (1 - alpha) S``; with ``decay=0.99``
    this is that code's ranking. ``affinity="inffs_v4"`` is ``infFS.m``
    version 4.0 (August 2016): the same supervised graph, but without ``y``
    the signed Spearman correlation in place of ``1 - |Spearman|``; with
    ``decay=0.9`` (the default) this is that code's ranking. The two
    disagree on what makes a feature central without labels: redundancy
    with many others (v4) or being uncorrelated with them. (The 2020 code,
    ``InfFS_S``, mixes three non-symmetric kernels with a 3-vector alpha and
    is not offered.)

    Parameters
    ----------
    X : array-like or DataFrame of shape (n_samples, n_features)
    y : array-like of shape (n_samples,), default=None
    alpha : float in [0, 1], default=0.5
    decay : float in (0, 1), default=0.9
        ``r * lambda_max(A)``: how fast long paths fade.
    affinity : {"ecfs", "inffs", "inffs_v4"}, default="ecfs"
    mode, task, standardize, solver
        As in :func:`eigenvector_centrality_importances`.

    Returns
    -------
    importances : ndarray of shape (n_features,)
        Non-negative; bigger is more important.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_classification
    >>> from featimp import inffs_importances
    >>> X, y = make_classification(n_samples=300, n_features=8, n_informative=2,
    ...     n_redundant=0, shuffle=False, random_state=0)
    >>> scores = inffs_importances(X, y, standardize=True)
    >>> sorted(np.argsort(-scores)[:2].tolist())
    [0, 1]
    """
    if not isinstance(decay, Real) or not 0 < decay < 1:
        raise ValueError(f"decay must be a number in (0, 1), got {decay!r}")
    graph = feature_affinity(
        X,
        y,
        alpha=alpha,
        mode=mode,
        task=task,
        standardize=standardize,
        affinity=affinity,
    )
    return graph.table.aggregate(path_scores(graph, decay, solver), "max")


_SHARED_CONSTRAINTS = {
    "alpha": [Interval(Real, 0, 1, closed="both")],
    "mode": [StrOptions({"auto", "reference", "extended"})],
    "task": TASK_CONSTRAINT,
    "standardize": ["boolean", StrOptions({"auto"})],
    "solver": [StrOptions({"matrix_free", "dense"})],
}


class EigenvectorCentralitySelector(BaseImportanceSelector):
    """Select features by eigenvector centrality in a feature graph (EC-FS).

    Wraps :func:`eigenvector_centrality_importances`; ``y`` is optional
    (without it the graph links correlated features).

    Parameters
    ----------
    alpha, mode, task, standardize, solver
        See :func:`eigenvector_centrality_importances`.
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import EigenvectorCentralitySelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> selector = EigenvectorCentralitySelector(n_features_to_select=5).fit(X, y)
    >>> selector.transform(X).shape
    (569, 5)
    """

    _requires_y = False
    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_SHARED_CONSTRAINTS,
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        alpha=0.5,
        mode="auto",
        task="auto",
        standardize="auto",
        stability=False,
        solver="matrix_free",
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        super().__init__(n_features_to_select=n_features_to_select, threshold=threshold)
        self.alpha = alpha
        self.mode = mode
        self.task = task
        self.standardize = standardize
        self.solver = solver

    _score_function = staticmethod(eigenvector_centrality_importances)


class InfFSSelector(BaseImportanceSelector):
    """Select features by infinite feature selection (Inf-FS).

    Wraps :func:`inffs_importances`; ``y`` is optional.

    Parameters
    ----------
    alpha, decay, affinity, mode, task, standardize, solver
        See :func:`inffs_importances`.
    stability, n_features_to_select, threshold
        Bootstrap stability and selection, as in
        :class:`~featimp.BaseImportanceSelector`.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from featimp import InfFSSelector
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> selector = InfFSSelector(n_features_to_select=3).fit(X, y)
    >>> selector.get_support(indices=True).tolist()
    [3, 23, 27]
    """

    _requires_y = False
    _parameter_constraints: ClassVar[dict] = {
        **BaseImportanceSelector._parameter_constraints,
        **_SHARED_CONSTRAINTS,
        "decay": [Interval(Real, 0, 1, closed="neither")],
        "affinity": [StrOptions(set(AFFINITIES))],
    }

    _reads_tables = True

    def __init__(
        self,
        *,
        alpha=0.5,
        decay=0.9,
        affinity="ecfs",
        mode="auto",
        task="auto",
        stability=False,
        standardize="auto",
        solver="matrix_free",
        n_features_to_select=None,
        threshold=None,
    ):
        self.stability = stability
        super().__init__(n_features_to_select=n_features_to_select, threshold=threshold)
        self.alpha = alpha
        self.decay = decay
        self.affinity = affinity
        self.mode = mode
        self.task = task
        self.standardize = standardize
        self.solver = solver

    _score_function = staticmethod(inffs_importances)
