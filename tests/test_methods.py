"""The method registry (featimp/methods.py): names, aliases, registration,
parameters read from the selectors, input checks and the streaming facts."""

import inspect
import json

import pytest

from featimp import methods
from featimp.methods import (
    ALL_TASKS,
    InputColumn,
    MethodSpec,
    all_methods,
    get_method,
    method_names,
    register,
)

SPECS = all_methods()
#: The methods :func:`featimp.rank_dataset` ranks in batches.
STREAMING = {"mi", "mrmr", "ecfs", "inffs"}


def _throwaway(name="throwaway", **fields):
    defaults = {
        "selector": "featimp._mutual_info:MutualInfoSelector",
        "function": "featimp._mutual_info:mutual_info_importances",
        "tasks": ("classification",),
        "summary": "A test method.",
    }
    return MethodSpec(name=name, **{**defaults, **fields})


@pytest.fixture
def registry(monkeypatch):
    """A copy of the registry that ``register`` writes to; the real one is
    put back after the test."""
    copy = dict(methods._REGISTRY)
    monkeypatch.setattr(methods, "_REGISTRY", copy)
    return copy


def test_unknown_method_lists_every_known_name():
    with pytest.raises(ValueError, match="unknown method 'nope'; choose one of:") as e:
        get_method("nope")
    listed = str(e.value).split("choose one of: ")[1].split(", ")
    assert listed == method_names()


def test_names_are_unique_and_aliases_resolve_to_their_method():
    names = method_names()
    assert len(names) == len(set(names)) == len(SPECS)
    assert [spec.name for spec in SPECS] == names
    aliases = {alias: spec for spec in SPECS for alias in spec.aliases}
    assert {"eigenvector_centrality", "inf_fs", "svmrfe", "recourse"} <= set(aliases)
    for alias, spec in aliases.items():
        assert get_method(alias) is spec
        assert alias not in names


def test_register_adds_the_name_and_its_aliases(registry):
    spec = register(_throwaway(aliases=("throwaway_alias",)))
    assert get_method("throwaway") is get_method("throwaway_alias") is spec
    assert method_names()[-1] == "throwaway"
    assert all_methods()[-1] is spec


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"name": "mi"}, "method name 'mi' is already registered"),
        ({"aliases": ("inf_fs",)}, "method name 'inf_fs' is already registered"),
        (
            {"tasks": ("classification", "ranking")},
            "unknown task 'ranking' for method 'throwaway'",
        ),
    ],
    ids=["name", "alias", "task"],
)
def test_register_refuses_taken_names_and_unknown_tasks(registry, fields, message):
    before = dict(registry)
    with pytest.raises(ValueError, match=f"^{message}$"):
        register(_throwaway(**fields))
    assert registry == before  # nothing half-registered


def test_every_method_supports_known_tasks_only():
    for spec in SPECS:
        assert spec.tasks and set(spec.tasks) <= set(ALL_TASKS), spec.name
        assert spec.supports(spec.tasks[0]) and not spec.supports("ranking")


def test_a_missing_extra_names_it(registry):
    spec = register(_throwaway(selector="featimp_no_such_module:Selector", extra="kan"))
    with pytest.raises(ImportError, match=r"pip install 'featimp-toolkit\[kan\]'"):
        spec.selector_class()
    bare = register(_throwaway("bare", selector="featimp_no_such_module:Selector"))
    with pytest.raises(ModuleNotFoundError, match="featimp_no_such_module"):
        bare.selector_class()


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_parameters_are_the_selector_signature(spec):
    cls = spec.selector_class()
    signature = inspect.signature(cls.__init__).parameters
    params = spec.parameters()
    assert list(params) == [name for name in signature if name != "self"]
    assert sorted(params) == cls._get_param_names()  # what get_params sees
    defaults = cls().get_params()
    for name, parameter in params.items():
        assert parameter.name == name
        assert (
            parameter.default is defaults[name] or parameter.default == defaults[name]
        )
        assert parameter.constraints, name  # every parameter says what it takes
    assert set(params) >= {"n_features_to_select", "threshold"}


def test_constraints_read_as_text():
    params = get_method("mi").parameters()
    assert params["n_features_to_select"].constraints == (
        "an int in the range [1, inf)",
        "a float in the range (0.0, 1.0]",
        "None",
    )
    assert params["threshold"].constraints[1] == "an instance of 'str'"
    target = get_method("responsiveness").parameters()["target"]
    assert target.constraints == ("any value",)  # "no_validation"


def test_make_selector_refuses_unknown_names_and_bad_values():
    spec = get_method("lasso")
    with pytest.raises(
        ValueError,
        match=r"method 'lasso' has no parameter\(s\) bogus, n_trees; its "
        "parameters are: ",
    ) as e:
        spec.make_selector(n_trees=3, bogus=1)
    assert str(e.value).endswith(", ".join(sorted(spec.parameters())))
    with pytest.raises(ValueError, match="'n_features_to_select' parameter"):
        spec.make_selector(n_features_to_select=0)
    selector = spec.make_selector(n_features_to_select=2, random_state=0)
    assert isinstance(selector, spec.selector_class())
    assert selector.get_params()["n_features_to_select"] == 2


COLUMNS = {
    "string": InputColumn("job", "string"),
    "categorical": InputColumn("band", "categorical"),
    "allow_nan": InputColumn("income", "numeric", n_missing=3),
}
REFUSALS = {
    "string": "method 'numbers_only' does not read text: column(s) 'job' hold text",
    "categorical": "method 'numbers_only' does not read categories: column(s) "
    "'band' are categorical",
    "allow_nan": "method 'numbers_only' does not accept missing values: column(s) "
    "'income' have missing values",
}


@pytest.mark.parametrize("tag", list(COLUMNS))
def test_check_input_refuses_what_the_tags_refuse_naming_the_column(numbers_only, tag):
    assert numbers_only.input_tags() == dict.fromkeys(methods.INPUT_TAGS, False)
    fine = [InputColumn("age", "numeric"), InputColumn("when", "other")]
    numbers_only.check_input(fine)
    with pytest.raises(ValueError) as e:
        numbers_only.check_input([*fine, COLUMNS[tag]])
    assert str(e.value).startswith(REFUSALS[tag])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_check_input_follows_each_methods_tags(spec):
    tags = spec.input_tags()
    assert set(tags) == set(methods.INPUT_TAGS)
    for tag, column in COLUMNS.items():
        if tags[tag]:
            spec.check_input([column])
        else:
            with pytest.raises(ValueError, match=f"'{column.name}'"):
                spec.check_input([column])


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_to_dict_is_json_and_says_what_the_spec_says(spec):
    d = json.loads(json.dumps(spec.to_dict()))
    assert list(d) == [
        "name",
        "summary",
        "tasks",
        "input_tags",
        "parameters",
        "streams",
        "stream_parameters",
    ]
    assert d["name"] == spec.name and d["tasks"] == list(spec.tasks)
    assert d["input_tags"] == spec.input_tags()
    assert [p["name"] for p in d["parameters"]] == list(spec.parameters())
    assert d["streams"] is spec.streams
    assert d["stream_parameters"] == spec.stream_parameters()


def test_a_default_that_is_not_json_is_its_repr():
    parameter = methods.Parameter("estimator", object, ("any value",))
    assert parameter.to_dict() == {
        "name": "estimator",
        "default": repr(object),
        "constraints": ["any value"],
    }


def test_exactly_mi_mrmr_ecfs_and_inffs_stream():
    assert {spec.name for spec in SPECS if spec.streams} == STREAMING
    for spec in SPECS:
        params = spec.stream_parameters()
        if spec.streams:
            assert params == sorted(params) and "max_categories" in params
        else:
            assert params == []
    assert "n_features" in get_method("mrmr").stream_parameters()
    assert "n_features" not in get_method("mi").stream_parameters()


@pytest.mark.parametrize(
    ("params", "error", "message"),
    [
        ({"bogus": 1}, TypeError, r"unexpected parameters \['bogus'\]"),
        ({"estimator": "knn"}, ValueError, "estimator='knn' cannot stream"),
        ({"n_bins": 1}, ValueError, "'n_bins' parameter of rank_dataset"),
        ({"n_features_to_select": 0}, ValueError, "n_features_to_select must be"),
        ({"n_features_to_select": 4}, ValueError, "n_features_to_select=4 is larger"),
        ({"threshold": "max"}, ValueError, "threshold='max'"),
    ],
    ids=["unknown", "fixed", "value", "count", "too-many", "threshold"],
)
def test_check_stream_params_names_the_bad_parameter(params, error, message):
    spec = get_method("mi")
    spec.check_stream_params({"n_bins": 8, "n_features_to_select": 3}, n_features=3)
    with pytest.raises(error, match=message):
        spec.check_stream_params(params, n_features=3)


def test_check_stream_params_refuses_a_method_that_does_not_stream():
    with pytest.raises(
        ValueError,
        match=r"method 'shap' does not stream .*the methods that do: mi, mrmr, "
        r"ecfs, inffs$",
    ):
        get_method("shap").check_stream_params({})
