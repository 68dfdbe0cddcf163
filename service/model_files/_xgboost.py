"""The structural pre-check of an XGBoost JSON model, in pure Python.

XGBoost trusts the numbers in a model file. A child, parent or feature index
out of range, a cycle of children, a ``tree_info`` entry past the last output
or an oversized leaf vector crashes the process that loads or predicts with
the model (SIGSEGV, SIGABRT), and ``num_class`` or ``num_target`` of 1e9
makes it allocate gigabytes first. Everything XGBoost sizes or indexes
with is checked here, before any library sees the file.
"""

from __future__ import annotations

import json
import re

import numpy as np

from service.model_files._common import (
    XGBOOST_JSON,
    Malformed,
    ModelDescription,
    ModelFileError,
    ModelLimits,
    over_limit,
)
from service.model_files._trees import tree_depth

CLASSIFIERS = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "multi:softprob",
    "multi:softmax",
)
#: Deeper than any model XGBoost writes (about 8 levels).
MAX_JSON_DEPTH = 32
#: XGBoost's parent of the root, and split index of a pruned (deleted) node.
_NO_NODE = 2**31 - 1
_INT_ARRAYS = (
    "left_children",
    "right_children",
    "parents",
    "split_indices",
    "default_left",
    "split_type",
)
_FLOAT_ARRAYS = ("split_conditions", "loss_changes", "sum_hessian", "base_weights")
_NUMERIC_TYPES = ("float", "int", "i", "q")
_INTEGER = re.compile(r"-?\d{1,19}")
_KINDS = {dict: "an object", list: "a list", str: "a string"}
_SHARED_FLOAT = 0.0


def check_xgboost_json(data: bytes, limits: ModelLimits) -> ModelDescription:
    """Describe an XGBoost JSON classifier; ModelFileError if it is unsafe.

    Examples
    --------
    >>> from service.config import Settings
    >>> limits = ModelLimits.from_settings(Settings())
    >>> check_xgboost_json(b'{"learner": 3}', limits)
    Traceback (most recent call last):
    ...
    service.model_files._common.ModelFileError: not an XGBoost JSON model: \
'learner' is not an object
    """
    learner = _shape(_parse(data), "learner", dict)
    objective = _objective(learner)
    params = _shape(learner, "learner_model_param", dict)
    try:
        return _describe(learner, params, objective, limits)
    except Malformed as exc:
        raise ModelFileError(f"XGBoost cannot load the model: {exc}") from None


def _parse(data: bytes):
    try:
        doc = json.loads(data, parse_float=_shared_float, object_pairs_hook=_unique)
    except RecursionError:
        doc = None
    except (ValueError, TypeError) as exc:
        raise ModelFileError(f"not an XGBoost JSON model: {exc}") from None
    if doc is None or _deeper_than(doc, MAX_JSON_DEPTH):
        raise ModelFileError(
            f"not an XGBoost JSON model: its JSON is nested more than "
            f"{MAX_JSON_DEPTH} levels deep"
        )
    return doc


def _shared_float(_text: str) -> float:
    # Only the structure is checked: one float object for all numbers
    # spares the memory of millions.
    return _SHARED_FLOAT


def _unique(pairs: list) -> dict:
    # Of two equal keys, XGBoost and Python might each read another.
    result = {}
    for key, value in pairs:
        if key in result:
            raise ValueError(f"the key {key!r} appears twice in one object")
        result[key] = value
    return result


def _deeper_than(doc, limit: int) -> bool:
    stack = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            return True
        for child in node.values() if isinstance(node, dict) else node:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _shape(obj, key: str, kind):
    """``obj[key]`` of the top-level layout, or "not an XGBoost JSON model"."""
    try:
        return _member(obj, key, kind)
    except Malformed as exc:
        raise ModelFileError(f"not an XGBoost JSON model: {exc}") from None


def _member(obj, key: str, kind, where: str = ""):
    value = obj.get(key) if isinstance(obj, dict) else None
    if isinstance(value, kind) and not isinstance(value, bool):
        return value
    what = "is missing" if value is None else f"is not {_KINDS[kind]}"
    raise Malformed(f"{where}{': ' if where else ''}{key!r} {what}")


def _count(obj: dict, key: str, where: str, default: str | None = None) -> int:
    """An integer field, which XGBoost writes as a string ("4")."""
    value = obj.get(key, default)
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _INTEGER.fullmatch(value):
        return int(value)
    raise Malformed(f"{where}: {key} is {value!r}, not an integer")


def _objective(learner: dict) -> str:
    name = _shape(_shape(learner, "objective", dict), "name", str)
    if name not in CLASSIFIERS:
        raise ModelFileError(
            f"the XGBoost model's objective {name!r} is not a classifier; "
            f"expected one of {', '.join(CLASSIFIERS)}"
        )
    return name


def _describe(learner, params, objective: str, limits) -> ModelDescription:
    n_features = _count(params, "num_feature", "learner_model_param")
    if n_features > limits.max_features:
        raise over_limit(n_features, "features", limits.max_features)
    if n_features < 1:
        raise Malformed("learner_model_param: num_feature must be at least 1")
    num_class = _num_class(learner, params, objective, limits)
    names = _feature_names(learner, n_features)
    _booster(learner, n_features, max(num_class, 1), limits)
    return ModelDescription(
        XGBOOST_JSON, objective, max(num_class, 2), n_features, names
    )


def _num_class(learner: dict, params: dict, objective: str, limits) -> int:
    num_class = _count(params, "num_class", "learner_model_param", "0")
    if num_class > limits.max_classes:
        raise over_limit(num_class, "classes", limits.max_classes)
    num_target = _count(params, "num_target", "learner_model_param", "1")
    if num_target != 1:
        raise Malformed(f"num_target is {num_target}: a classifier has one target")
    multi = objective.startswith("multi:")
    if (multi and num_class < 2) or (not multi and num_class not in (0, 1)):
        raise Malformed(f"the objective {objective!r} has num_class={num_class}")
    softmax = learner["objective"].get("softmax_multiclass_param")
    if isinstance(softmax, dict) and "num_class" in softmax:
        declared = _count(softmax, "num_class", "softmax_multiclass_param")
        if declared != num_class:
            raise Malformed(
                f"the objective has num_class={declared}, the model {num_class}"
            )
    return num_class


def _feature_names(learner: dict, n_features: int) -> list[str] | None:
    names = learner.get("feature_names") or []
    types = learner.get("feature_types") or []
    for key, values in (("feature_names", names), ("feature_types", types)):
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise Malformed(f"{key} must be a list of strings")
        if values and len(values) != n_features:
            raise Malformed(
                f"{key} has {len(values)} entries for {n_features} features"
            )
    if len(set(names)) != len(names):
        raise Malformed("feature_names has duplicates")
    categorical = [i for i, kind in enumerate(types) if kind not in _NUMERIC_TYPES]
    if categorical:
        i = categorical[0]
        raise _categorical(f"feature {i} has type {types[i]!r}")
    return names or None


def _categorical(where: str) -> ModelFileError:
    return ModelFileError(
        f"the XGBoost model splits on categorical features ({where}); "
        "responsiveness jobs give models numeric features only"
    )


def _booster(learner: dict, n_features: int, n_groups: int, limits) -> None:
    booster = _member(learner, "gradient_booster", dict, "learner")
    name = booster.get("name")
    if name == "gblinear":
        model = _member(booster, "model", dict, "gradient_booster")
        weights = _member(model, "weights", list, "gradient_booster.model")
        expected = (n_features + 1) * n_groups
        if len(weights) != expected:
            raise Malformed(
                f"the linear booster has {len(weights)} weights; {n_features} "
                f"features and {n_groups} output(s) need {expected}"
            )
    elif name == "gbtree":
        _forest(
            _member(booster, "model", dict, "gradient_booster"),
            n_features,
            n_groups,
            limits,
        )
    elif name == "dart":
        gbtree = _member(booster, "gbtree", dict, "gradient_booster")
        model = _member(gbtree, "model", dict, "gradient_booster.gbtree")
        n_trees = _forest(model, n_features, n_groups, limits)
        weights = _member(booster, "weight_drop", list, "gradient_booster")
        if len(weights) != n_trees:
            raise Malformed(
                f"weight_drop has {len(weights)} entries for {n_trees} trees"
            )
    else:
        raise Malformed(f"the booster {name!r} is not gbtree, dart or gblinear")


def _forest(model: dict, n_features: int, n_groups: int, limits) -> int:
    param = _member(model, "gbtree_model_param", dict, "model")
    n_trees = _count(param, "num_trees", "gbtree_model_param")
    if n_trees > limits.max_trees:
        raise over_limit(n_trees, "trees", limits.max_trees)
    trees = _member(model, "trees", list, "model")
    if len(trees) != n_trees:
        raise Malformed(f"num_trees is {n_trees} but the model has {len(trees)} trees")
    parallel = _count(param, "num_parallel_tree", "gbtree_model_param", "1")
    if not 1 <= parallel <= max(n_trees, 1):
        raise Malformed(f"num_parallel_tree is {parallel} for {n_trees} trees")
    _tree_outputs(model, n_trees, n_groups)
    _no_categories(model.get("cats"))
    for index, tree in enumerate(trees):
        try:
            _tree(tree, index, n_features, limits)
        except Malformed as exc:
            raise Malformed(f"tree {index}: {exc}") from None
    return n_trees


def _tree_outputs(model: dict, n_trees: int, n_groups: int) -> None:
    """Which output each tree adds to, and where each iteration starts."""
    info = _integers(_member(model, "tree_info", list, "model"), "tree_info")
    if len(info) != n_trees:
        raise Malformed(f"tree_info has {len(info)} entries for {n_trees} trees")
    wrong = np.flatnonzero((info < 0) | (info >= n_groups))
    if wrong.size:
        raise Malformed(
            f"tree_info[{wrong[0]}] is {info[wrong[0]]}, not an output of the "
            f"model (0..{n_groups - 1})"
        )
    if "iteration_indptr" in model:
        indptr = _integers(
            _member(model, "iteration_indptr", list, "model"), "iteration_indptr"
        )
        if (
            not indptr.size
            or indptr[0] != 0
            or indptr[-1] != n_trees
            or (np.diff(indptr) < 0).any()
        ):
            raise Malformed(
                f"iteration_indptr must rise from 0 to the number of trees ({n_trees})"
            )


def _no_categories(cats) -> None:
    if cats is None:
        return
    if not isinstance(cats, dict):
        raise Malformed("model: 'cats' is not an object")
    for key, value in cats.items():
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, dict) or any(v != [] for v in entry.values()):
                raise _categorical(f"cats.{key} is not empty")


def _integers(values: list, what: str) -> np.ndarray:
    # default_left was a list of booleans before XGBoost 1.6.
    kinds = (int, bool) if what == "default_left" else (int,)
    if not all(type(v) in kinds for v in values):
        raise Malformed(f"{what} must be a list of integers")
    try:
        return np.array(values, dtype=np.int64)
    except OverflowError:
        raise Malformed(f"{what} has an integer out of range") from None


def _tree(tree, index: int, n_features: int, limits: ModelLimits) -> None:
    if not isinstance(tree, dict):
        raise Malformed("it is not an object")
    if tree.get("id", index) != index:
        raise Malformed(f"its id is {tree.get('id')!r}")
    param = _member(tree, "tree_param", dict)
    n_nodes = _count(param, "num_nodes", "tree_param")
    if n_nodes > limits.max_nodes:
        raise over_limit(n_nodes, f"nodes in tree {index}", limits.max_nodes)
    if n_nodes < 1:
        raise Malformed("num_nodes must be at least 1")
    if _count(param, "size_leaf_vector", "tree_param", "1") not in (0, 1):
        raise ModelFileError(
            "the XGBoost model has vector-leaf trees "
            "(multi_strategy='multi_output_tree'), which this service does not read"
        )
    if _count(param, "num_feature", "tree_param", str(n_features)) != n_features:
        raise Malformed(f"tree_param: num_feature is not {n_features}")
    # XGBoost before 1.3 wrote no split_type: every split was numerical.
    arrays = {"split_type": np.zeros(n_nodes, dtype=np.int64)}
    for key in (*_INT_ARRAYS, *_FLOAT_ARRAYS):
        if key == "split_type" and key not in tree:
            continue
        values = _member(tree, key, list)
        if len(values) != n_nodes:
            raise Malformed(f"{key} has {len(values)} entries for {n_nodes} nodes")
        if key in _INT_ARRAYS:
            arrays[key] = _integers(values, key)
    for key in ("categories", "categories_nodes", "categories_segments"):
        if tree.get(key):
            raise _categorical(f"tree {index} has {key}")
    if arrays["split_type"].any():
        raise _categorical(
            f"tree {index}, node {np.flatnonzero(arrays['split_type'])[0]}"
        )
    n_deleted = _count(param, "num_deleted", "tree_param", "0")
    _nodes(arrays, n_features, n_deleted, limits.max_depth)


def _nodes(arrays: dict, n_features: int, n_deleted: int, max_depth: int) -> None:
    left, right = arrays["left_children"], arrays["right_children"]
    _, reached = tree_depth(left, right, max_depth=max_depth)
    features = arrays["split_indices"]
    # A node pruned after training stays in the arrays, marked and unreachable.
    deleted = features == _NO_NODE
    odd = np.flatnonzero(deleted == reached)
    if odd.size:
        state = "deleted but in the tree" if deleted[odd[0]] else "unreachable"
        raise Malformed(f"node {odd[0]} is {state}")
    if deleted.sum() != n_deleted:
        raise Malformed(f"it has {deleted.sum()} deleted nodes, not {n_deleted}")
    wrong = np.flatnonzero(~deleted & ((features < 0) | (features >= n_features)))
    if wrong.size:
        raise Malformed(
            f"node {wrong[0]} splits on feature {features[wrong[0]]}; the model "
            f"has {n_features} (0..{n_features - 1})"
        )
    _parents(arrays["parents"], left, right)
    if not np.isin(arrays["default_left"], (0, 1)).all():
        raise Malformed("default_left must hold 0 or 1")


def _parents(parents: np.ndarray, left: np.ndarray, right: np.ndarray) -> None:
    if parents[0] != _NO_NODE:
        raise Malformed(f"the root's parent is {parents[0]}, not {_NO_NODE}")
    wrong = np.flatnonzero((parents[1:] < 0) | (parents[1:] >= len(parents)))
    if wrong.size:
        node = wrong[0] + 1
        raise Malformed(f"node {node}: its parent {parents[node]} is not a node")
    split = np.flatnonzero(left != -1)
    for children in (left[split], right[split]):
        wrong = np.flatnonzero(parents[children] != split)
        if wrong.size:
            node = children[wrong[0]]
            raise Malformed(
                f"node {node} is a child of node {split[wrong[0]]} but names "
                f"{parents[node]} as its parent"
            )
