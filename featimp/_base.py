"""BaseImportanceSelector: the one selection rule every method shares."""

from __future__ import annotations

import copy
from numbers import Integral, Real
from typing import ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, _fit_context, clone
from sklearn.feature_selection import SelectorMixin
from sklearn.utils._param_validation import Interval, RealNotInt
from sklearn.utils.validation import check_is_fitted, validate_data

from featimp._encoding import is_frame, to_pandas
from featimp._progress import phases
from featimp._selection import parse_threshold, ranking_from_importances, support_mask
from featimp._stability import bootstrap_stability
from featimp._validation import check_numeric, check_target

SELECTION_PARAMETERS = ("n_features_to_select", "threshold")
#: Parameters of the base class that are not passed to the score function.
BASE_PARAMETERS = (*SELECTION_PARAMETERS, "stability")
#: Bootstrap resamples for ``stability=True``.
DEFAULT_N_BOOTSTRAP = 50
#: Per selector class, the :func:`featimp.rank_dataset` method it streams
#: a dataset with, and the function that does it (filled in by
#: :mod:`featimp._streamed_fit`, which imports the streaming code: kept
#: here as a table so that the selectors need not import it).
STREAMING: dict[type, tuple[str, object]] = {}


class BaseImportanceSelector(SelectorMixin, BaseEstimator):
    """Select features by an importance score.

    Subclasses implement only ``_compute_importances(X, y)``, which returns
    one bigger-is-better score per column of ``X``; ``fit`` validates, calls
    it, and stores the scores and ranking. What it receives depends on
    ``_reads_tables``:

    - False (the default, for a subclass that wants numbers): a finite
      float64 array; text or missing values are errors naming the columns.
    - True (every registered method): a float64 array (possibly with NaN)
      when ``X`` was a numeric array, and otherwise the user's table as a
      pandas DataFrame (polars frames are converted), which the method's
      score function encodes through :mod:`featimp._encoding`.

    The input tags ``categorical``, ``string`` and ``allow_nan`` say which of
    the two a selector is; the registry, the CLI and the service read them.

    ``transform`` keeps the user's table: a pandas or polars DataFrame comes
    back as the same kind of frame with the selected columns and their
    dtypes; arrays come back as arrays.

    Selection: ``n_features_to_select`` keeps the best ``k`` features (an int,
    or a fraction of the features in (0, 1]); ``threshold`` keeps features
    whose importance is at least a value, or the ``"mean"`` or ``"median"``
    importance. With both, a feature must pass both. With neither, the best
    half is kept (as in ``sklearn.feature_selection.RFE``).

    Parameters
    ----------
    n_features_to_select : int >= 1, float in (0, 1] or None, default=None
        How many of the best features to keep; a fraction is truncated as
        ``RFE`` truncates it (``int(fraction * n_features)``, at least 1).
    threshold : float, "mean", "median", "1.25*mean" or None, default=None
        Keep features whose importance is at least this (strings as in
        ``SelectFromModel``: a reference, optionally scaled).
    stability : bool or int >= 2, default=False
        Also refit on resamples of the rows (50 when True, else this many;
        subsamples of 63.2 % of the rows without replacement, see
        :func:`~featimp.bootstrap_stability`) and store rank intervals and
        selection stability in ``stability_``.
        Subclasses take it (and the two above) in their own signature.

    Attributes
    ----------
    importances_ : ndarray of shape (n_features_in_,)
        The scores; bigger is more important.
    feature_importances_ : ndarray of shape (n_features_in_,)
        Same array as ``importances_``, for ``SelectFromModel`` and friends.
    ranking_ : ndarray of shape (n_features_in_,)
        1 for the most important feature.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Only when X had string column names.
    stability_ : StabilityResult
        Only when ``stability`` is set.
    """

    _parameter_constraints: ClassVar[dict] = {
        "n_features_to_select": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
            None,
        ],
        "threshold": [
            Interval(Real, None, None, closed="neither"),
            str,  # "mean", "median", "1.25*mean": checked by parse_threshold
            None,
        ],
        "stability": ["boolean", Interval(Integral, 2, None, closed="left")],
    }

    #: Whether ``fit`` needs a target.
    _requires_y = True
    #: Whether ``_compute_importances`` takes mixed tables with missing
    #: values (see the class docstring); exposed as input tags.
    _reads_tables = False

    def __init__(self, *, n_features_to_select=None, threshold=None, stability=False):
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold
        self.stability = stability

    #: Parameters of a small, fast fit (see :meth:`get_test_params`) beyond
    #: the seed, which every randomized method gets.
    _test_params: ClassVar[dict] = {}

    @classmethod
    def get_test_params(cls) -> dict:
        """Parameters for a small, fast fit: what the common estimator
        checks, the real-data tests and the service tests build each method
        with (sktime's ``get_test_params`` idea). ``random_state=0`` for a
        method that takes one, and the method's own ``_test_params`` (a few
        trees, folds or permutations); a new method that is slow by default
        declares them there. A fresh dict each call."""
        params = {}
        if "random_state" in cls._get_param_names():
            params["random_state"] = 0
        return {**params, **copy.deepcopy(cls._test_params)}

    #: The pure score function a selector wraps, as ``staticmethod(f)``. Its
    #: keyword arguments are the selector's parameters less the selection
    #: ones, so the default ``_compute_importances`` only has to call it.
    _score_function = None

    def _compute_importances(self, X, y):
        """Importances of the validated ``X``; override for anything but a call."""
        if self._score_function is None:  # pragma: no cover - abstract
            raise NotImplementedError(
                f"{type(self).__name__} must set _score_function or override "
                "_compute_importances"
            )
        params = self.get_params(deep=False)
        for name in BASE_PARAMETERS:
            params.pop(name, None)
        return self._score_function(X, y, **params)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, *, target=None):
        """Compute the importances of the features of ``X``.

        Parameters
        ----------
        X : array-like or DataFrame of shape (n_samples, n_features), or a
            ``pyarrow.dataset.Dataset`` or ``dask.dataframe.DataFrame``
            A dataset or dask frame is streamed in batches by
            :func:`featimp.rank_dataset` (for the methods that stream: MI,
            mRMR, EC-FS, Inf-FS), never loaded whole; its features are all
            its columns but the target.
        y : array-like of shape (n_samples,), or a column name, optional for
            unsupervised methods
            For a dataset or dask frame, the name of its target column (or
            give it as ``target``).
        target : str, optional
            The target column of a dataset or dask frame.

        Returns
        -------
        self
        """
        if is_stream_source(X):
            return self._fit_streamed(X, y, target)
        if target is not None:
            raise TypeError(
                "target= names the target column of a pyarrow dataset or dask "
                "frame; for data in memory pass the target as y"
            )
        X, y = self._validate_input(X, y)
        d = self.n_features_in_
        self._check_n_features_to_select(d)
        resamples = self._resamples_after_fit()
        with phases("fit", [1, resamples] if resamples else [1]) as advance:
            importances = np.asarray(self._compute_importances(X, y), dtype=float)
            if importances.shape != (d,):
                raise RuntimeError(
                    f"{type(self).__name__} returned importances of shape "
                    f"{importances.shape} for {d} features"
                )
            self.importances_ = importances
            self.feature_importances_ = importances
            self.ranking_ = ranking_from_importances(importances)
            if getattr(self, "stability", False):
                advance()
                self.stability_ = self._bootstrap(X, y)
        return self

    def _fit_streamed(self, source, y, target):
        if isinstance(y, str) and target is not None and y != target:
            raise ValueError(f"y={y!r} and target={target!r} name different columns")
        target = target if target is not None else y
        if not isinstance(target, str):
            raise TypeError(
                "fitting a pyarrow dataset or dask frame needs the name of its "
                "target column: fit(dataset, target='column') or y='column'"
            )
        entry = next((STREAMING[c] for c in type(self).__mro__ if c in STREAMING), None)
        if entry is None:
            streaming = sorted(method for method, _ in STREAMING.values())
            raise TypeError(
                f"{type(self).__name__} fits on all rows in memory and cannot "
                "stream a pyarrow dataset or dask frame; the selectors of "
                f"{', '.join(streaming)} can (or load the data first)"
            )
        if self.stability:
            raise ValueError(
                "stability= refits on resamples of the rows in memory: it is "
                "not available when fitting a dataset that streams"
            )
        method, fit_stream = entry
        features, importances, attrs = fit_stream(self, method, source, target)
        self.feature_names_in_ = np.asarray(features, dtype=object)
        self.n_features_in_ = len(features)
        self.importances_ = np.asarray(importances, dtype=float)
        self.feature_importances_ = self.importances_
        self.ranking_ = ranking_from_importances(self.importances_)
        #: What :func:`featimp.rank_dataset` reported (rows, files, hashed
        #: columns with their collision rates, the task).
        self.streamed_ = dict(attrs)
        return self

    def _resamples_after_fit(self) -> int:
        """How many refits :meth:`_bootstrap` runs after the fit (for the
        progress of :meth:`fit`: each weighs as much as the fit)."""
        if not getattr(self, "stability", False):
            return 0
        return self._n_resamples() or 0

    def _bootstrap(self, X, y):
        """``stability_`` for ``stability=True``: the same selector, resampled."""
        names = getattr(self, "feature_names_in_", None)
        if names is not None and not isinstance(X, pd.DataFrame):
            X = pd.DataFrame(X, columns=names)
        return bootstrap_stability(
            clone(self).set_params(stability=False),
            X,
            y,
            n_bootstrap=self._n_resamples(),
            # Methods without a random_state are deterministic: so is this.
            random_state=getattr(self, "random_state", 0),
        )

    def _n_resamples(self) -> int | None:
        """Bootstrap resamples asked for by ``stability``; None for none."""
        if not self.stability:
            return None
        return DEFAULT_N_BOOTSTRAP if self.stability is True else int(self.stability)

    def _validate_input(self, X, y):
        """Record the feature names and count; check numeric arrays.

        Numeric arrays (and sparse input, which is refused) go through
        scikit-learn's ``validate_data``; tables and object arrays are kept
        as they are for the encoding layer, which checks every column.
        """
        X = to_pandas(X)
        supervised = y is not None or self._requires_y
        if not self._reads_tables:
            X = check_numeric(X, type(self).__name__)
        elif _is_table(X):
            if not hasattr(X, "shape"):
                X = np.asarray(X, dtype=object)
            if supervised:
                validate_data(self, X, y, skip_check_array=True)
                y = None if y is None else check_target(y, X.shape[0])
            else:
                validate_data(self, X, skip_check_array=True)
            if X.shape[0] < 2:
                raise ValueError(
                    f"X has {X.shape[0]} sample(s); at least 2 are required"
                )
            return X, y
        kwargs = {
            "dtype": np.float64,
            "ensure_all_finite": not self._reads_tables,
            "ensure_min_samples": 2,
        }
        if supervised:
            return validate_data(self, X, y, **kwargs)
        return validate_data(self, X, **kwargs), None

    def _check_n_features_to_select(self, n_features: int) -> None:
        if self.threshold is not None:
            parse_threshold(self.threshold)  # before any long work
        k = self.n_features_to_select
        if isinstance(k, Integral) and k > n_features:
            raise ValueError(
                f"n_features_to_select={k} is larger than the number of "
                f"features in X ({n_features})"
            )

    def _get_support_mask(self):
        check_is_fitted(self, "importances_")
        return support_mask(
            self.importances_, self.ranking_, self.n_features_to_select, self.threshold
        )

    def transform(self, X):
        """The selected columns of ``X``, as the same kind of table.

        A pandas or polars DataFrame keeps its dtypes (text stays text); an
        array is reduced by :class:`~sklearn.feature_selection.SelectorMixin`.
        """
        if not is_frame(X):
            return super().transform(X)
        check_is_fitted(self, "importances_")
        validate_data(self, to_pandas(X.head(0)), skip_check_array=True, reset=False)
        mask = self.get_support()
        if isinstance(X, pd.DataFrame):
            return X.iloc[:, np.flatnonzero(mask)]
        return X.select([c for c, keep in zip(X.columns, mask, strict=True) if keep])

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = self._requires_y
        tags.input_tags.allow_nan = self._reads_tables
        tags.input_tags.categorical = self._reads_tables
        tags.input_tags.string = self._reads_tables
        return tags


def is_stream_source(X) -> bool:
    """Whether ``X`` is data to stream: a ``pyarrow.dataset.Dataset`` or a
    dask DataFrame (told by type, without importing either library)."""
    modules = [c.__module__ or "" for c in type(X).__mro__]
    return any(
        m.startswith(("pyarrow._dataset", "pyarrow.dataset", "dask.dataframe"))
        and c.__name__ in ("Dataset", "FileSystemDataset", "DataFrame")
        for m, c in zip(modules, type(X).__mro__, strict=True)
    )


def _is_table(X) -> bool:
    """A DataFrame or an array of objects or text (not a numeric array)."""
    if isinstance(X, pd.DataFrame):
        return True
    if hasattr(X, "dtype"):
        return getattr(X.dtype, "kind", "") in "OUS"
    if isinstance(X, list | tuple):
        return np.asarray(X).dtype.kind in "OUS"
    return False
