"""Parameters from one source: signatures, score functions, constraints.

Selector signatures stay explicit (``GridSearchCV`` and ``get_params`` need
them), so these tests tie every copy of a parameter to its source: a
selector's own parameters are its score function's keyword parameters with
the same defaults, and its ``_parameter_constraints`` keys are its
signature; the KAN classes' network defaults are ``NetworkConfig``'s, with
the documented overrides; and every selector asks for ``stability`` the same
way.
"""

import inspect

import pytest

from featimp._base import BASE_PARAMETERS
from featimp.kan import KANClassifier, KANRegressor, KANSelector
from featimp.kan._config import (
    ESTIMATOR_DEFAULTS,
    SELECTOR_DEFAULTS,
    NetworkConfig,
    network_defaults,
)
from featimp.kan._selector import kan_importance_variants
from featimp.methods import all_methods

SPECS = all_methods()


def _defaults(function, skip=("self", "X", "y")) -> dict:
    return {
        name: p.default
        for name, p in inspect.signature(function).parameters.items()
        if name not in skip and p.kind is not p.VAR_KEYWORD
    }


def _selector_params(cls) -> dict:
    own = _defaults(cls.__init__)
    return {k: v for k, v in own.items() if k not in BASE_PARAMETERS}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_constraints_cover_exactly_the_signature(spec):
    cls = spec.selector_class()
    assert set(cls._parameter_constraints) == set(_defaults(cls.__init__))


@pytest.mark.parametrize(
    "spec", [s for s in SPECS if s.name != "kan"], ids=lambda s: s.name
)
def test_selector_parameters_are_the_score_functions(spec):
    ours = _selector_params(spec.selector_class())
    theirs = _defaults(spec.score_function())
    assert ours == theirs


def test_kan_selector_parameters_are_the_score_functions_and_network_config():
    ours = _selector_params(KANSelector)
    variants = _defaults(kan_importance_variants)
    variants.pop("methods")
    network = network_defaults(SELECTOR_DEFAULTS)
    expected = {**{k: network[k] for k in ours if k in network}, **variants}
    expected["method"] = "l1"
    assert ours == expected
    # What the selector passes on reaches NetworkConfig under its own names.
    passed_on = set(ours) - set(variants) - {"method"}
    assert passed_on <= set(NetworkConfig.__dataclass_fields__)


@pytest.mark.parametrize(
    ("cls", "overrides"),
    [(KANClassifier, ESTIMATOR_DEFAULTS), (KANRegressor, ESTIMATOR_DEFAULTS)],
    ids=["classifier", "regressor"],
)
def test_kan_estimator_defaults_are_network_configs(cls, overrides):
    ours = _defaults(cls.__init__)
    network = network_defaults(overrides)
    shared = set(ours) & set(network)
    assert shared >= set(network) - {"verbose"}
    assert {k: ours[k] for k in shared} == {k: network[k] for k in shared}


#: The one selector without ``stability``: its own resampling builds the
#: null, and its selection (q <= alpha) needs p-values per resample.
NO_STABILITY = {"significance"}


@pytest.mark.parametrize("spec", all_methods(), ids=lambda s: s.name)
def test_every_selector_asks_for_stability_the_same_way(spec):
    params = spec.selector_class()().get_params()
    assert ("stability" in params) == (spec.name not in NO_STABILITY)
    if "stability" in params:
        assert params["stability"] is False
