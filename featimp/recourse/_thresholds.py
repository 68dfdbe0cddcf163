"""The split thresholds a fitted tree model actually uses, per input column.

Along one column a tree ensemble's prediction only changes where some split
on that column flips, so scoring one value per interval between the used
thresholds gives exactly the scores of scoring every value. Each reader below
returns the splits of one model family as ``(columns, thresholds)`` in one
canonical form, "a float64 ``x`` goes left when ``x <= t``", whatever the
family compares: sklearn trees and XGBoost round ``x`` to float32 first, and
XGBoost goes left on ``x < t``. A split that is not of that form (a
categorical split, a linear leaf) has threshold NaN: its column falls back to
the data grid.
"""

from __future__ import annotations

import json

import numpy as np
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.ensemble import BaseEnsemble
from sklearn.ensemble._gb import BaseGradientBoosting
from sklearn.tree import BaseDecisionTree

#: LightGBM's ``kZeroThreshold``: with ``missing_type`` Zero, values in
#: [-z, z] take the default branch.
_LIGHTGBM_ZERO = float(np.float32(1e-35))


def used_thresholds(estimator) -> dict[int, np.ndarray | None] | None:
    """Sorted split thresholds per model column (``x <= t`` goes left).

    A column the model never splits on is absent (its prediction is
    constant along it); a column it splits in another way maps to None.
    Returns None when ``estimator`` is not a tree model read here.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.tree import DecisionTreeClassifier
    >>> X = np.array([[0, 5], [1, 6], [2, 5], [3, 6]])
    >>> tree = DecisionTreeClassifier(random_state=0).fit(X, [0, 0, 1, 1])
    >>> {j: t.tolist() for j, t in used_thresholds(tree).items()}
    {0: [1.5000000596046448]}

    The tree splits at 1.5 but compares ``float32(x) <= 1.5``, which holds
    up to the float64 midpoint between 1.5 and the next float32.
    """
    model = _final_step(estimator)
    if model is None:
        return None
    for read in (
        _sklearn_splits,
        _hist_gradient_splits,
        _xgboost_splits,
        _lightgbm_splits,
    ):
        splits = read(model)
        if splits is not None:
            return _per_column(*splits)
    return None


def _per_column(columns, thresholds) -> dict[int, np.ndarray | None]:
    columns = np.asarray(columns, dtype=np.int64)
    thresholds = np.asarray(thresholds, dtype=float)
    out: dict[int, np.ndarray | None] = {}
    for j in np.unique(columns):
        t = thresholds[columns == j]
        # x <= inf holds for every finite x: such splits only route NaN.
        out[int(j)] = None if np.isnan(t).any() else np.unique(t[np.isfinite(t)])
    return out


def _final_step(estimator):
    """The last step of a Pipeline whose other steps pass columns through
    unchanged; ``estimator`` itself otherwise."""
    steps = getattr(estimator, "steps", None)
    if not isinstance(steps, list) or not steps:
        return estimator
    if all(step in (None, "passthrough") for _, step in steps[:-1]):
        return steps[-1][1]
    return None


def _sklearn_splits(model):
    """DecisionTree*, RandomForest*, ExtraTrees*, GradientBoosting*,
    AdaBoost and Bagging of trees: they compare ``float32(x) <= t``."""
    if isinstance(model, BaseDecisionTree):
        members, features = [model], [None]
    elif isinstance(model, BaseEnsemble) and _plain_init(model):
        members = list(np.ravel(np.asarray(model.estimators_, dtype=object)))
        features = getattr(model, "estimators_features_", [None] * len(members))
    else:
        return None
    if not all(isinstance(m, BaseDecisionTree) for m in members):
        return None
    columns, thresholds = [], []
    for member, used in zip(members, features, strict=True):
        tree = member.tree_
        split = tree.children_left >= 0
        column = tree.feature[split]
        # Bagging fits each tree on a subset of the columns.
        columns.append(column if used is None else np.asarray(used)[column])
        thresholds.append(tree.threshold[split])
    thresholds = np.concatenate(thresholds)
    return np.concatenate(columns), _float32_cut(_float32_floor(thresholds))


def _plain_init(model) -> bool:
    """Whether a gradient boosting model starts from a constant (an ``init``
    estimator would add its own dependence on the columns)."""
    if not isinstance(model, BaseGradientBoosting):
        return True
    init = getattr(model, "init_", None)
    return init == "zero" or isinstance(init, DummyClassifier | DummyRegressor)


def _hist_gradient_splits(model):
    """HistGradientBoosting*: ``x <= num_threshold`` in float64."""
    predictors = getattr(model, "_predictors", None)
    if predictors is None or not hasattr(model, "_bin_mapper"):
        return None
    nodes = np.concatenate([p.nodes for it in predictors for p in it])
    nodes = nodes[~nodes["is_leaf"].astype(bool)]
    thresholds = np.where(
        nodes["is_categorical"].astype(bool), np.nan, nodes["num_threshold"]
    )
    columns = nodes["feature_idx"]
    if getattr(model, "_preprocessor", None) is not None:
        # The model's preprocessor moves the categorical columns first and
        # passes the numerical ones through as they are.
        categorical = np.asarray(model.is_categorical_, dtype=bool)
        order = np.concatenate(
            [np.flatnonzero(categorical), np.flatnonzero(~categorical)]
        )
        columns = order[columns]
    return columns, thresholds


def _xgboost_splits(model):
    """XGBoost's tree boosters: ``float32(x) < split_condition``."""
    if not hasattr(model, "get_booster") or not _nan_is_missing(model):
        return None
    learner = json.loads(model.get_booster().save_raw(raw_format="json"))["learner"]
    booster = learner["gradient_booster"]
    if booster["name"] == "dart":
        booster = booster["gbtree"]
    if booster["name"] != "gbtree":
        return None
    columns, thresholds = [], []
    for tree in booster["model"]["trees"]:
        split = np.asarray(tree["left_children"]) >= 0
        condition = np.asarray(tree["split_conditions"], dtype=np.float32)[split]
        below = np.nextafter(condition, np.float32(-np.inf))
        categorical = np.asarray(tree["split_type"])[split] != 0
        columns.append(np.asarray(tree["split_indices"])[split])
        thresholds.append(np.where(categorical, np.nan, _float32_cut(below)))
    if not columns:
        return np.empty(0), np.empty(0)
    return np.concatenate(columns), np.concatenate(thresholds)


def _nan_is_missing(model) -> bool:
    """Another ``missing`` value takes the default branch whatever the split."""
    missing = model.get_params().get("missing", np.nan)
    return missing is None or bool(np.isnan(missing))


def _lightgbm_splits(model):
    """LightGBM: ``x <= threshold`` in float64, zero apart for
    ``missing_type`` Zero."""
    booster = getattr(model, "booster_", None)
    if booster is None or not hasattr(booster, "dump_model"):
        return None
    columns, thresholds = [], []
    for tree in booster.dump_model()["tree_info"]:
        stack = [tree["tree_structure"]]
        while stack:
            node = stack.pop()
            # Linear leaves vary along their features.
            for j in node.get("leaf_features", ()):
                columns.append(j)
                thresholds.append(np.nan)
            if "split_feature" not in node:
                continue
            stack += [node["left_child"], node["right_child"]]
            j = node["split_feature"]
            if node["decision_type"] != "<=":
                columns.append(j)
                thresholds.append(np.nan)
                continue
            columns.append(j)
            thresholds.append(node["threshold"])
            if node["missing_type"] == "Zero":
                zero = [np.nextafter(-_LIGHTGBM_ZERO, -np.inf), _LIGHTGBM_ZERO]
                columns += [j, j]
                thresholds += zero
    return columns, thresholds


def _float32_floor(t):
    """The largest float32 at or below each float64 ``t``."""
    t = np.asarray(t, dtype=float)
    c = t.astype(np.float32)
    return np.where(c > t, np.nextafter(c, np.float32(-np.inf)), c)


def _float32_cut(c):
    """The largest float64 ``x`` with ``float32(x) <= c``, for float32 ``c``:
    "``float32(x) <= c``" then reads "``x <= cut``"."""
    c = np.asarray(c, dtype=np.float32)
    up = np.nextafter(c, np.float32(np.inf))
    # Exact: two adjacent float32 values and their midpoint are float64s.
    with np.errstate(over="ignore", invalid="ignore"):
        mid = (c.astype(float) + up.astype(float)) / 2
        rounds_down = mid.astype(np.float32) == c
    return np.where(rounds_down, mid, np.nextafter(mid, -np.inf))
