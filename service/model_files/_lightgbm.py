"""The structural pre-check of a LightGBM text model, in pure Python.

LightGBM reads a tree's arrays without checking them against each other:
``tree_sizes`` that do not match the trees, a ``num_leaves`` the arrays do
not have, a child or ``split_feature`` out of range, a categorical split
past ``cat_boundaries`` or a cycle of children aborts, crashes or hangs the
process that loads or predicts with the model, and a ``num_tree_per_iteration``
of 0 divides by zero. All of it is checked here, before any library sees
the file.
"""

from __future__ import annotations

import json
import re

import numpy as np

from service.model_files._common import (
    LIGHTGBM_TEXT,
    Malformed,
    ModelDescription,
    ModelFileError,
    ModelLimits,
    over_limit,
)
from service.model_files._trees import tree_depth

CLASSIFIERS = ("binary", "multiclass", "multiclassova")
#: What the header of every LightGBM text model has.
HEADER_KEYS = ("version", "num_class", "max_feature_idx", "objective")
_REQUIRED = ("label_index", "feature_names", "feature_infos")
#: Every field of a tree; LightGBM reads at most this many lines of one.
TREE_KEYS = (
    "num_leaves",
    "num_cat",
    "split_feature",
    "split_gain",
    "threshold",
    "decision_type",
    "left_child",
    "right_child",
    "leaf_value",
    "leaf_weight",
    "leaf_count",
    "internal_value",
    "internal_weight",
    "internal_count",
    "cat_boundaries",
    "cat_threshold",
    "is_linear",
    "leaf_const",
    "num_features",
    "leaf_features",
    "leaf_coeff",
    "shrinkage",
)
_INT = r"-?\d{1,10}"
_FLOAT = r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|nan)"
# Linear trees write their leaf features with extra spaces: " 2 3  ".
_INTS = re.compile(rf" *(?:{_INT}(?: +{_INT})*)? *")
_FLOATS = re.compile(rf" *(?:{_FLOAT}(?: +{_FLOAT})*)? *", re.IGNORECASE)
_INT32 = 2**31
# decision_type: bit 0 categorical, bit 1 default left, bits 2-3 the
# missing-value type (0 none, 1 zero, 2 NaN).
_CATEGORICAL, _MAX_DECISION = 1, 0b1011
_PANDAS_KEY = "pandas_categorical:"


def check_lightgbm_text(data: bytes, limits: ModelLimits) -> ModelDescription:
    """Describe a LightGBM text classifier; ModelFileError if it is unsafe.

    Examples
    --------
    >>> from service.config import Settings
    >>> limits = ModelLimits.from_settings(Settings())
    >>> check_lightgbm_text(b"tree\\nversion=v4\\n", limits)
    Traceback (most recent call last):
    ...
    service.model_files._common.ModelFileError: not a LightGBM text model: \
its header lacks num_class, max_feature_idx, objective
    """
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ModelFileError("not a LightGBM text model: it is not UTF-8") from None
    lines = text.split("\n")
    try:
        header, start = _header(lines)
    except Malformed as exc:
        raise ModelFileError(f"not a LightGBM text model: {exc}") from None
    missing = [k for k in HEADER_KEYS if k not in header]
    if missing:
        raise ModelFileError(
            f"not a LightGBM text model: its header lacks {', '.join(missing)}"
        )
    objective = header["objective"].split()[0] if header["objective"] else ""
    if objective not in CLASSIFIERS:
        raise ModelFileError(
            f"the LightGBM model's objective {objective!r} is not a classifier; "
            f"expected one of {', '.join(CLASSIFIERS)}"
        )
    try:
        return _describe(header, objective, lines, start, limits)
    except Malformed as exc:
        raise ModelFileError(f"LightGBM cannot load the model: {exc}") from None


def _header(lines: list[str]) -> tuple[dict[str, str], int]:
    """The ``key=value`` lines before the first tree, read as LightGBM does."""
    if lines[0].rstrip("\r") != "tree":
        raise Malformed("its first line is not 'tree'")
    header: dict[str, str] = {}
    for number, raw in enumerate(lines[1:], start=1):
        line = raw.rstrip("\r")
        if line.startswith("Tree=") or line == "end of trees":
            return header, number
        if not line:
            continue
        key, _, value = line.partition("=")
        if "=" in value and key != "feature_names":
            raise Malformed(f"line {number + 1} has more than one '='")
        if key in header:
            raise Malformed(f"the header has {key!r} twice")
        header[key] = value
    return header, len(lines)


def _integer(value: str, what: str, low: int, high: int) -> int:
    if not re.fullmatch(_INT, value.strip()):
        raise Malformed(f"{what} is {value[:40]!r}, not an integer")
    number = int(value)
    if not low <= number <= high:
        raise Malformed(f"{what} is {number}, not in {low}..{high}")
    return number


def _describe(header, objective: str, lines, start: int, limits) -> ModelDescription:
    missing = [k for k in _REQUIRED if k not in header]
    if missing:
        raise Malformed(f"its header lacks {', '.join(missing)}")
    num_class = _integer(header["num_class"], "num_class", 1, _INT32 - 1)
    if num_class > limits.max_classes:
        raise over_limit(num_class, "classes", limits.max_classes)
    n_features = (
        _integer(header["max_feature_idx"], "max_feature_idx", 0, _INT32 - 2) + 1
    )
    if n_features > limits.max_features:
        raise over_limit(n_features, "features", limits.max_features)
    _objective(header["objective"], objective, num_class)
    per_iteration = header.get("num_tree_per_iteration", str(num_class))
    if _integer(per_iteration, "num_tree_per_iteration", 1, num_class) != num_class:
        raise Malformed(f"num_tree_per_iteration is not num_class ({num_class})")
    _integer(header["label_index"], "label_index", 0, _INT32 - 1)
    names = header["feature_names"].split(" ")
    for key, values in (
        ("feature_names", names),
        ("feature_infos", header["feature_infos"].split(" ")),
    ):
        if len(values) != n_features or not all(values):
            raise Malformed(f"{key} does not have {n_features} entries")
    if "monotone_constraints" in header:
        _ints(header["monotone_constraints"], "monotone_constraints", n_features)
    sizes, end = _trees(lines, start, n_features, limits)
    if not sizes:
        raise Malformed("it has no trees")
    if len(sizes) % num_class:
        raise Malformed(f"{len(sizes)} trees are not whole iterations of {num_class}")
    if "tree_sizes" in header:
        declared = _ints(header["tree_sizes"], "tree_sizes", len(sizes))
        if declared.tolist() != sizes:
            raise Malformed(
                f"tree_sizes is not the size of each of its {len(sizes)} trees"
            )
    _pandas_categorical(lines, end)
    if all(name == f"Column_{i}" for i, name in enumerate(names)):
        names = None  # trained on an array: LightGBM made the names up
    n_classes = max(num_class, 2)
    return ModelDescription(LIGHTGBM_TEXT, objective, n_classes, n_features, names)


def _objective(line: str, objective: str, num_class: int) -> None:
    if (objective == "binary") != (num_class == 1):
        raise Malformed(f"the objective {objective!r} has num_class={num_class}")
    for token in line.split()[1:]:
        key, _, value = token.partition(":")
        if key == "num_class":
            if _integer(value, "the objective's num_class", 1, _INT32 - 1) != num_class:
                raise Malformed(f"the objective's num_class is not {num_class}")
        elif key == "sigmoid" and objective != "multiclass":
            if not re.fullmatch(_FLOAT, value, re.IGNORECASE) or not float(value) > 0:
                raise Malformed(f"the objective's sigmoid is {value!r}")
        else:
            raise Malformed(f"the objective has an unknown parameter {token!r}")


def _trees(lines, start: int, n_features: int, limits) -> tuple[list[int], int]:
    """The byte size of each tree block, checking every tree; and where they end."""
    sizes: list[int] = []
    number = start
    while True:
        line = lines[number].rstrip("\r") if number < len(lines) else None
        if line is None:
            raise Malformed("it has no 'end of trees' line: the file is cut short")
        if line == "end of trees":
            return sizes, number
        if not line:
            number += 1
            continue
        if line != f"Tree={len(sizes)}":
            raise Malformed(
                f"line {number + 1} is {line[:40]!r}, not Tree={len(sizes)}"
            )
        if len(sizes) == limits.max_trees:
            raise ModelFileError(
                f"the model has more trees than this service's limit of "
                f"{limits.max_trees}"
            )
        block = number
        fields, number = _tree_fields(lines, number + 1, len(sizes))
        try:
            _tree(fields, n_features, limits)
        except Malformed as exc:
            raise Malformed(f"tree {len(sizes)}: {exc}") from None
        while number < len(lines) and not lines[number].rstrip("\r"):
            number += 1
        sizes.append(sum(len(s.encode()) + 1 for s in lines[block:number]))


def _tree_fields(lines, number: int, index: int) -> tuple[dict[str, str], int]:
    fields: dict[str, str] = {}
    while number < len(lines) and lines[number].rstrip("\r"):
        key, sep, value = lines[number].rstrip("\r").partition("=")
        if not sep or key not in TREE_KEYS:
            raise Malformed(f"tree {index}: line {number + 1} is not a tree field")
        if key in fields:
            raise Malformed(f"tree {index} has {key!r} twice")
        fields[key] = value
        number += 1
    return fields, number


def _ints(value: str, what: str, count: int | None) -> np.ndarray:
    if not _INTS.fullmatch(value):
        raise Malformed(f"{what} is not a list of integers")
    values = np.array(value.split(), dtype=np.int64)
    if count is not None and len(values) != count:
        raise Malformed(f"{what} has {len(values)} entries, not {count}")
    return values


def _floats(value: str, what: str, count: int) -> np.ndarray:
    if not _FLOATS.fullmatch(value):
        raise Malformed(f"{what} is not a list of numbers")
    values = np.array(value.split(), dtype=np.float64)
    if len(values) != count:
        raise Malformed(f"{what} has {len(values)} entries, not {count}")
    return values


def _tree(fields: dict[str, str], n_features: int, limits) -> None:
    for key in ("num_leaves", "num_cat", "leaf_value"):
        if key not in fields:
            raise Malformed(f"it has no {key}")
    n_leaves = _integer(fields["num_leaves"], "num_leaves", 1, _INT32 - 1)
    if 2 * n_leaves - 1 > limits.max_nodes:
        raise over_limit(2 * n_leaves - 1, "nodes in a tree", limits.max_nodes)
    n_splits = n_leaves - 1
    num_cat = _integer(fields["num_cat"], "num_cat", 0, n_splits)
    _floats(fields["leaf_value"], "leaf_value", n_leaves)
    if "shrinkage" in fields:
        _floats(fields["shrinkage"], "shrinkage", 1)
    linear = _integer(fields.get("is_linear", "0"), "is_linear", 0, 1)
    if n_splits == 0 and not linear:
        return  # one leaf: LightGBM reads nothing else
    for key in ("left_child", "right_child", "split_feature", "threshold"):
        if key not in fields:
            raise Malformed(f"it has no {key}")
    for key, count in (
        ("split_gain", n_splits),
        ("internal_value", n_splits),
        ("internal_weight", n_splits),
        ("leaf_weight", n_leaves),
    ):
        if key in fields:
            _floats(fields[key], key, count)
    for key, count in (("internal_count", n_splits), ("leaf_count", n_leaves)):
        if key in fields:
            _ints(fields[key], key, count)
    _shape(fields, n_leaves, limits.max_depth)
    threshold = _floats(fields["threshold"], "threshold", n_splits)
    features = _ints(fields["split_feature"], "split_feature", n_splits)
    wrong = np.flatnonzero((features < 0) | (features >= n_features))
    if wrong.size:
        raise Malformed(
            f"split {wrong[0]} is on feature {features[wrong[0]]}; the model "
            f"has {n_features} (0..{n_features - 1})"
        )
    _categories(fields, threshold, num_cat)
    if linear:
        _linear(fields, n_leaves, n_features)


def _shape(fields: dict[str, str], n_leaves: int, max_depth: int) -> None:
    """The splits and leaves form one tree; LightGBM writes leaf ``k`` as ``~k``."""
    n_splits = n_leaves - 1
    children = [_ints(fields[k], k, n_splits) for k in ("left_child", "right_child")]
    for key, child in zip(("left_child", "right_child"), children, strict=True):
        wrong = np.flatnonzero((child >= n_splits) | (child < -n_leaves) | (child == 0))
        if wrong.size:
            raise Malformed(
                f"{key}[{wrong[0]}] is {child[wrong[0]]}, neither a split other "
                f"than the root (1..{n_splits - 1}) nor a leaf (-1..-{n_leaves})"
            )
    values, counts = np.unique(np.concatenate(children), return_counts=True)
    if (counts > 1).any():
        child = values[counts > 1][0]
        what = f"split {child}" if child >= 0 else f"leaf {~child}"
        raise Malformed(f"{what} is the child of more than one split")
    # Splits keep their numbers, leaf k becomes node n_splits + k.
    left, right = (np.where(c >= 0, c, n_splits + ~c) for c in children)
    leaf = np.full(n_leaves, -1)
    _, reached = tree_depth(
        np.concatenate([left, leaf]),
        np.concatenate([right, leaf]),
        max_depth=max_depth,
    )
    if not reached.all():
        node = np.flatnonzero(~reached)[0]
        what = f"split {node}" if node < n_splits else f"leaf {node - n_splits}"
        raise Malformed(f"{what} is not reachable from the root")


def _categories(fields: dict[str, str], threshold: np.ndarray, num_cat: int) -> None:
    """Categorical splits name a set of categories in ``cat_threshold``."""
    n_splits = len(threshold)
    decision = _ints(
        fields.get("decision_type", "0 " * n_splits), "decision_type", n_splits
    )
    if ((decision < 0) | (decision > _MAX_DECISION)).any():
        raise Malformed("decision_type holds a value LightGBM does not write")
    categorical = np.flatnonzero(decision & _CATEGORICAL)
    if not categorical.size and not num_cat:
        return
    threshold = threshold[categorical]
    wrong = np.flatnonzero(
        (threshold != np.floor(threshold)) | (threshold < 0) | (threshold >= num_cat)
    )
    if wrong.size:
        raise Malformed(
            f"categorical split {categorical[wrong[0]]} names category set "
            f"{threshold[wrong[0]]:g}; the tree has {num_cat}"
        )
    for key in ("cat_boundaries", "cat_threshold"):
        if key not in fields:
            raise Malformed(f"it has num_cat={num_cat} but no {key}")
    bounds = _ints(fields["cat_boundaries"], "cat_boundaries", num_cat + 1)
    words = _ints(fields["cat_threshold"], "cat_threshold", None)
    if bounds[0] != 0 or (np.diff(bounds) < 0).any() or bounds[-1] != len(words):
        raise Malformed(
            f"cat_boundaries must rise from 0 to the length of cat_threshold "
            f"({len(words)})"
        )
    if ((words < 0) | (words >= 2 * _INT32)).any():
        raise Malformed("cat_threshold holds a number out of range")


def _linear(fields: dict[str, str], n_leaves: int, n_features: int) -> None:
    if "leaf_const" in fields:
        _floats(fields["leaf_const"], "leaf_const", n_leaves)
    if "num_features" not in fields:
        return
    counts = _ints(fields["num_features"], "num_features", n_leaves)
    if (counts < 0).any() or counts.sum() > n_leaves * n_features:
        raise Malformed("num_features holds a count out of range")
    total = int(counts.sum())
    if "leaf_features" in fields:
        used = _ints(fields["leaf_features"], "leaf_features", total)
        if ((used < 0) | (used >= n_features)).any():
            raise Malformed(
                f"leaf_features names a feature outside 0..{n_features - 1}"
            )
    if "leaf_coeff" in fields:
        _floats(fields["leaf_coeff"], "leaf_coeff", total)


def _pandas_categorical(lines: list[str], end: int) -> None:
    """The line LightGBM's Python package reads back with ``json.loads``."""
    trailer = [line.strip() for line in lines[end:] if line.strip()]
    if not trailer or not trailer[-1].startswith(_PANDAS_KEY):
        return
    try:
        value = json.loads(trailer[-1][len(_PANDAS_KEY) :])
    except (ValueError, RecursionError):
        raise Malformed("its pandas_categorical line is not JSON") from None
    if value not in (None, []):
        raise ModelFileError(
            "the LightGBM model was trained on pandas categorical columns; "
            "responsiveness jobs give models numeric features only"
        )
