"""Selectors that fit a dataset by streaming it: ``fit(dataset, target=...)``.

:meth:`featimp.BaseImportanceSelector.fit` hands a ``pyarrow.dataset.Dataset``
or a dask DataFrame to the function registered here for the selector's
class, which ranks it with :func:`featimp.rank_dataset` and the selector's
own parameters. A selector in a ``Pipeline`` fitted on a sample in memory
and the same selector fitted on the whole dataset therefore score with one
set of parameters and one code path per method. Parameters that exist only
in memory (MI's ``estimator="knn"`` and its ``n_neighbors``) are refused
unless left at their defaults, as are modes that do not stream (EC-FS and
Inf-FS on a regression target: see :func:`featimp.rank_dataset`).
"""

from __future__ import annotations

import inspect

from featimp._base import BASE_PARAMETERS, STREAMING
from featimp._centrality import EigenvectorCentralitySelector, InfFSSelector
from featimp._mutual_info import MRMRSelector, MutualInfoSelector
from featimp._streaming import _FIXED, _METHODS, _STREAM_PARAMS, rank_dataset


def streamed_params(selector, method: str) -> dict:
    """The selector's parameters that :func:`featimp.rank_dataset` takes; a
    ValueError names one that is set and cannot stream."""
    # rank_dataset checks the values of these (MI's estimator must be
    # "binned", the one that streams) and explains a refusal itself.
    accepted = _METHODS[method][2] | _STREAM_PARAMS | set(_FIXED.get(method, ()))
    defaults = {
        name: p.default
        for name, p in inspect.signature(type(selector).__init__).parameters.items()
    }
    params = {}
    for name, value in selector.get_params(deep=False).items():
        if name in BASE_PARAMETERS:
            continue
        if name in accepted:
            params[name] = value
        elif value != defaults.get(name):
            raise ValueError(
                f"{type(selector).__name__}({name}={value!r}) cannot stream a "
                f"dataset: method {method!r} streams with the parameters "
                f"{', '.join(sorted(accepted))}"
            )
    return params


def fit_stream(selector, method: str, source, target: str):
    """Features (in column order), importances and the ranking's attrs."""
    params = streamed_params(selector, method)
    features = _columns(source, target)
    selector._check_n_features_to_select(len(features))  # before any read
    table = rank_dataset(source, target, method=method, **params)
    scores = table.set_index("feature")["importance"].reindex(features)
    return features, scores.to_numpy(dtype=float), table.attrs


def _columns(source, target: str) -> list[str]:
    names = source.schema.names if hasattr(source, "schema") else source.columns
    return [str(n) for n in names if n != target]


for _selector, _method in (
    (MutualInfoSelector, "mi"),
    (MRMRSelector, "mrmr"),
    (EigenvectorCentralitySelector, "ecfs"),
    (InfFSSelector, "inffs"),
):
    STREAMING[_selector] = (_method, fit_stream)
