"""The method registry: the single source of truth for which methods exist.

Each entry names a selector class (imported lazily, so that listing methods
never imports torch), the score function it wraps, and the tasks it supports.
Parameters are read from the selector itself (its signature and its
``_parameter_constraints``), so they cannot drift from the code. The CLI's
``--method`` choices and the service's job schema are generated from here.

Examples
--------
>>> from featimp.methods import get_method, method_names
>>> "mi" in method_names()
True
>>> spec = get_method("mi")
>>> spec.supports("regression")
True
>>> sorted(spec.parameters())[:2]
['discrete_features', 'estimator']
>>> spec.input_tags()
{'categorical': True, 'string': True, 'allow_nan': True}
"""

from __future__ import annotations

import importlib
import inspect
import json
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.utils import get_tags

from featimp._base import SELECTION_PARAMETERS as SELECTION_PARAMETERS
from featimp._encoding import format_names
from featimp._validation import TASKS as TASKS
from featimp._validation import infer_task as infer_task

UNSUPERVISED = "unsupervised"
ALL_TASKS = (*TASKS, UNSUPERVISED)
#: The scikit-learn input tags that say which columns a method reads.
INPUT_TAGS = ("categorical", "string", "allow_nan")
#: Kinds of :class:`InputColumn`; "other" (dates, empty columns, ...) is left
#: to the method, which scores what it cannot use 0 with a warning.
COLUMN_KINDS = ("numeric", "categorical", "string", "other")


@dataclass(frozen=True)
class Parameter:
    """One parameter of a method: its default and what values it accepts."""

    name: str
    default: object
    constraints: tuple[str, ...]

    def to_dict(self) -> dict:
        default = self.default
        try:
            json.dumps(default)
        except TypeError:
            default = repr(default)
        return {
            "name": self.name,
            "default": default,
            "constraints": list(self.constraints),
        }


@dataclass(frozen=True)
class InputColumn:
    """What a cheap look at one column (its type, its missing count) tells.

    ``kind`` is one of :data:`COLUMN_KINDS`: numbers and booleans are
    "numeric", a ``category`` (or Arrow dictionary) column is "categorical",
    text is "string".
    """

    name: str
    kind: str
    n_missing: int = 0


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    ``selector`` and ``function`` are ``"module:attribute"`` paths, resolved on
    first use.
    """

    name: str
    selector: str
    function: str
    tasks: tuple[str, ...]
    summary: str
    extra: str | None = None
    aliases: tuple[str, ...] = field(default=())

    def supports(self, task: str) -> bool:
        return task in self.tasks

    def selector_class(self) -> type:
        return _resolve(self.selector, self.extra)

    def score_function(self):
        return _resolve(self.function, self.extra)

    def make_selector(self, **params):
        """A selector with ``params`` set and validated.

        Unknown names or invalid values raise a ValueError naming the
        parameter.
        """
        cls = self.selector_class()
        known = self.parameters()
        unknown = sorted(set(params) - set(known))
        if unknown:
            raise ValueError(
                f"method {self.name!r} has no parameter(s) {', '.join(unknown)}; "
                f"its parameters are: {', '.join(sorted(known))}"
            )
        selector = cls(**params)
        selector._validate_params()
        return selector

    def parameters(self) -> dict[str, Parameter]:
        """Parameters of the selector, read from its signature and constraints."""
        cls = self.selector_class()
        signature = inspect.signature(cls.__init__)
        constraints = getattr(cls, "_parameter_constraints", {})
        params = {}
        for name, p in signature.parameters.items():
            if name == "self" or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            params[name] = Parameter(
                name=name,
                default=p.default,
                constraints=_describe_constraints(constraints.get(name, ())),
            )
        return params

    def input_tags(self) -> dict[str, bool]:
        """What the selector reads, from its scikit-learn input tags.

        ``categorical``: ``category`` columns; ``string``: text columns;
        ``allow_nan``: missing values.
        """
        tags = get_tags(self.selector_class()()).input_tags
        return {name: bool(getattr(tags, name)) for name in INPUT_TAGS}

    def check_input(self, columns) -> None:
        """Raise a ValueError naming the columns the input tags refuse.

        ``columns`` are :class:`InputColumn`; the check reads only their kind
        and missing count, so it is cheap enough to run before a long fit.
        """
        tags = self.input_tags()
        for tag, (needs, why) in _REFUSALS.items():
            names = [c.name for c in columns if needs(c)]
            if names and not tags[tag]:
                raise ValueError(
                    f"method {self.name!r} does not {why.format(format_names(names))}"
                )

    @property
    def streams(self) -> bool:
        """Whether :func:`featimp.rank_dataset` ranks with it in batches."""
        from featimp._streaming import METHODS

        return self.name in METHODS

    def stream_parameters(self) -> list[str]:
        """The parameters :func:`featimp.rank_dataset` takes for it (empty
        when it does not stream)."""
        from featimp._streaming import _METHODS, _STREAM_PARAMS

        if not self.streams:
            return []
        return sorted(_METHODS[self.name][2] | _STREAM_PARAMS)

    def check_stream_params(self, params: dict, n_features: int | None = None) -> None:
        """Raise a ValueError or TypeError naming a parameter that
        :func:`featimp.rank_dataset` would refuse, before any data is read
        (the selection parameters too, against ``n_features`` if known)."""
        if not self.streams:
            from featimp._streaming import METHODS

            raise ValueError(
                f"method {self.name!r} does not stream (it fits on all rows "
                f"at once); the methods that do: {', '.join(METHODS)}"
            )
        from featimp._streaming import _check_params, check_selection

        params = dict(params)
        selection = {k: params.pop(k) for k in SELECTION_PARAMETERS if k in params}
        _check_params(self.name, params)
        check_selection(**selection, n_features=n_features)

    def to_dict(self) -> dict:
        return {
            "name": self.name,
            "summary": self.summary,
            "tasks": list(self.tasks),
            "input_tags": self.input_tags(),
            "parameters": [p.to_dict() for p in self.parameters().values()],
            "streams": self.streams,
            "stream_parameters": self.stream_parameters(),
        }


#: For each input tag: which columns need it, and what to say when it is off.
_REFUSALS = {
    "string": (
        lambda c: c.kind == "string",
        "read text: column(s) {} hold text; encode them first or leave them out",
    ),
    "categorical": (
        lambda c: c.kind == "categorical",
        "read categories: column(s) {} are categorical; encode them first or "
        "leave them out",
    ),
    "allow_nan": (
        lambda c: c.n_missing > 0,
        "accept missing values: column(s) {} have missing values; impute or "
        "drop them first",
    ),
}


def _resolve(path: str, extra: str | None):
    module_name, attribute = path.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:  # pragma: no cover - depends on extras
        if extra is None:
            raise
        raise ImportError(
            f"{path} needs the optional dependencies of the '{extra}' extra: "
            f"pip install 'featimp-toolkit[{extra}]'"
        ) from exc
    return getattr(module, attribute)


_REGISTRY: dict[str, MethodSpec] = {}


def register(spec: MethodSpec) -> MethodSpec:
    """Add a method to the registry (names and aliases must be new)."""
    for name in (spec.name, *spec.aliases):
        if name in _REGISTRY:
            raise ValueError(f"method name {name!r} is already registered")
    for task in spec.tasks:
        if task not in ALL_TASKS:
            raise ValueError(f"unknown task {task!r} for method {spec.name!r}")
    for name in (spec.name, *spec.aliases):
        _REGISTRY[name] = spec
    return spec


def get_method(name: str) -> MethodSpec:
    """The spec of a method by name; a ValueError lists the known names."""
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(
            f"unknown method {name!r}; choose one of: {', '.join(method_names())}"
        ) from None


def method_names() -> list[str]:
    """Names of the registered methods (aliases excluded), in order."""
    return list(dict.fromkeys(spec.name for spec in _REGISTRY.values()))


def all_methods() -> list[MethodSpec]:
    return [_REGISTRY[name] for name in method_names()]


register(
    MethodSpec(
        name="mi",
        selector="featimp._mutual_info:MutualInfoSelector",
        function="featimp._mutual_info:mutual_info_importances",
        tasks=("classification", "regression"),
        summary="Mutual information with the target (binned and null-corrected, "
        "or KSG k-nearest neighbours).",
    )
)
register(
    MethodSpec(
        name="mrmr",
        selector="featimp._mutual_info:MRMRSelector",
        function="featimp._mutual_info:mrmr_importances",
        tasks=("classification", "regression"),
        summary="Greedy max-relevance min-redundancy ranking on mutual information "
        "(MID or MIQ).",
    )
)
register(
    MethodSpec(
        name="ecfs",
        selector="featimp._centrality:EigenvectorCentralitySelector",
        function="featimp._centrality:eigenvector_centrality_importances",
        tasks=("classification", "regression", UNSUPERVISED),
        summary="Eigenvector centrality of the feature affinity graph (EC-FS).",
        aliases=("eigenvector_centrality",),
    )
)
register(
    MethodSpec(
        name="inffs",
        selector="featimp._centrality:InfFSSelector",
        function="featimp._centrality:inffs_importances",
        tasks=("classification", "regression", UNSUPERVISED),
        summary="Infinite feature selection: all paths of the affinity graph (Inf-FS).",
        aliases=("inf_fs",),
    )
)
register(
    MethodSpec(
        name="shap",
        selector="featimp.baselines._shap:ShapSelector",
        function="featimp.baselines._shap:shap_importances",
        tasks=("classification", "regression"),
        summary="Mean |SHAP| of an XGBoost/LightGBM model (TreeExplainer) or of "
        "any model (permutation/partition explainer).",
        extra="shap",
    )
)
register(
    MethodSpec(
        name="permutation",
        selector="featimp.baselines._permutation:PermutationSelector",
        function="featimp.baselines._permutation:permutation_importances",
        tasks=("classification", "regression"),
        summary="Held-out permutation importance of any estimator.",
    )
)
register(
    MethodSpec(
        name="gain",
        selector="featimp.baselines._gain:GainSelector",
        function="featimp.baselines._gain:gain_importances",
        tasks=("classification", "regression"),
        summary="Total split gain (or split count) of an XGBoost/LightGBM model.",
        extra="boost",
    )
)
register(
    MethodSpec(
        name="lasso",
        selector="featimp.baselines._lasso:LassoSelector",
        function="featimp.baselines._lasso:lasso_importances",
        tasks=("classification", "regression"),
        summary="|coefficients| of LassoCV / L1-logistic on standardised X.",
    )
)
register(
    MethodSpec(
        name="svm_rfe",
        selector="featimp.baselines._svm_rfe:SVMRFESelector",
        function="featimp.baselines._svm_rfe:svm_rfe_importances",
        tasks=("classification", "regression"),
        summary="Recursive feature elimination with a linear SVM (SVM-RFE).",
        aliases=("svmrfe",),
    )
)
register(
    MethodSpec(
        name="consensus",
        selector="featimp._consensus:ConsensusSelector",
        function="featimp._consensus:consensus_importances",
        tasks=("classification", "regression"),
        summary="Rank aggregation (Borda, RRF, mean rank) of several methods, with "
        "bootstrap rank intervals and selection stability.",
    )
)
register(
    MethodSpec(
        name="significance",
        selector="featimp._significance:SignificanceSelector",
        function="featimp._significance:significance_importances",
        tasks=("classification", "regression"),
        summary="P- and q-values of any method's importances against a target-"
        "permutation or shadow-feature null; keeps the features with "
        "q <= alpha (Benjamini-Hochberg FDR).",
    )
)
register(
    MethodSpec(
        name="responsiveness",
        selector="featimp.recourse._selector:ResponsivenessSelector",
        function="featimp.recourse._selector:responsiveness_importances",
        tasks=("classification",),
        summary="Mean feature responsiveness over the rows not yet predicted as "
        "the target: how often changing a feature within an action set gets "
        "there (levers of recourse).",
        aliases=("recourse",),
    )
)
register(
    MethodSpec(
        name="kan",
        selector="featimp.kan:KANSelector",
        function="featimp.kan:kan_importances",
        tasks=("classification", "regression"),
        summary="Kolmogorov-Arnold network importances (edge l1/l2, saliency, "
        "knock-out, spline coefficients), over CV folds and seeds.",
        extra="kan",
    )
)


def _describe_constraints(constraints) -> tuple[str, ...]:
    """Readable forms of one parameter's scikit-learn constraints.

    ``"no_validation"`` is a whole constraint, not a list of them; classes
    read as ``an instance of 'name'``.
    """
    if isinstance(constraints, str):
        constraints = [constraints]
    described = []
    for constraint in constraints:
        if constraint == "no_validation":
            described.append("any value")
        elif isinstance(constraint, type):
            described.append(f"an instance of '{constraint.__name__}'")
        else:
            described.append(str(constraint))
    return tuple(described)


def ranking_table(selector, feature_names) -> pd.DataFrame:
    """The ranking a fitted selector gives, as ``featimp rank`` prints it and a
    service rank job stores it: one row per feature, best first, with
    ``rank, feature, importance`` (and ``p_value, q_value`` for a
    significance selector), with ``stability`` on the 90 % resampling
    intervals of rank and importance and the selection probability, else
    for a selector that averages several fits (``fit_importances_``, as
    KAN's networks over seeds and folds) the 5-95 % range of its fits'
    importances, and ``selected``."""
    columns = {
        "rank": selector.ranking_,
        "feature": [str(f) for f in feature_names],
        "importance": selector.importances_,
    }
    if hasattr(selector, "pvalues_"):
        columns.update(p_value=selector.pvalues_, q_value=selector.qvalues_)
    stability = getattr(selector, "stability_", None)
    fits = getattr(selector, "fit_importances_", None)
    if stability is not None:
        rank_low, rank_high = stability.rank_interval(0.9).T
        low, high = np.quantile(stability.importances, [0.05, 0.95], axis=0)
        columns.update(
            importance_low=low,
            importance_high=high,
            rank_low=rank_low,
            rank_high=rank_high,
            selection_probability=stability.selection_probability,
        )
    elif fits is not None and len(fits) > 1:
        low, high = np.quantile(fits, [0.05, 0.95], axis=0)
        columns.update(importance_low=low, importance_high=high)
    table = pd.DataFrame({**columns, "selected": selector.get_support()})
    return table.sort_values("rank").reset_index(drop=True)
