"""The split thresholds tree models use: the same scores, fewer predictions.

Each score with the used thresholds is compared with the data-grid path
(the threshold reader patched to return None, so every candidate value is
predicted).
"""

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import (
    BaggingClassifier,
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    GradientBoostingRegressor,
    HistGradientBoostingClassifier,
    HistGradientBoostingRegressor,
    RandomForestClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LinearRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.tree import DecisionTreeClassifier, DecisionTreeRegressor
from threadpoolctl import threadpool_limits

from featimp.datasets import load_german_credit_missing
from featimp.datasets._recourse import load_taiwan_recourse
from featimp.recourse import (
    ActionSet,
    _scores,
    responsiveness_scores,
    taiwan_action_set,
)
from featimp.recourse._cases import TAIWAN_AMOUNTS
from featimp.recourse._thresholds import used_thresholds


def _xgboost(**params):
    xgb = pytest.importorskip("xgboost")
    return xgb.XGBClassifier(
        n_estimators=10, max_depth=3, n_jobs=1, random_state=0, **params
    )


def _lightgbm(**params):
    lgb = pytest.importorskip("lightgbm")
    return lgb.LGBMClassifier(
        n_estimators=10, num_leaves=8, n_jobs=1, random_state=0, verbose=-1, **params
    )


MODELS = {
    "hist_gradient_boosting": lambda: HistGradientBoostingClassifier(
        max_iter=10, random_state=0
    ),
    "random_forest": lambda: RandomForestClassifier(
        n_estimators=10, max_depth=5, random_state=0
    ),
    "extra_trees": lambda: ExtraTreesClassifier(
        n_estimators=5, max_depth=5, random_state=0
    ),
    "decision_tree": lambda: DecisionTreeClassifier(max_depth=6, random_state=0),
    "gradient_boosting": lambda: GradientBoostingClassifier(
        n_estimators=10, max_depth=3, random_state=0
    ),
    "bagging": lambda: BaggingClassifier(
        DecisionTreeClassifier(max_depth=4),
        n_estimators=5,
        max_features=0.6,
        random_state=0,
    ),
    "xgboost": _xgboost,
    "lightgbm": _lightgbm,
}
#: Every family on complete data, and those that fit on NaN on data with
#: missing values.
FITS = [(family, False) for family in MODELS] + [
    (family, True)
    for family in (
        "hist_gradient_boosting",
        "random_forest",
        "extra_trees",
        "decision_tree",
        "xgboost",
        "lightgbm",
    )
]


@pytest.fixture(autouse=True)
def _one_thread():
    # At these sizes OpenMP threads only add overhead, the more so on a busy
    # machine.
    with threadpool_limits(1):
        yield


def _both_paths(model, X, A, monkeypatch, **kwargs):
    """Scores and number of predicted points, used thresholds then data grid."""
    sizes = []
    predict = model.predict

    def counting(Z):
        sizes.append(len(Z))
        return predict(Z)

    monkeypatch.setattr(model, "predict", counting)
    fast = responsiveness_scores(model, X, A, **kwargs)
    n_fast = sum(sizes)
    sizes.clear()
    with monkeypatch.context() as patch:
        patch.setattr(_scores, "used_thresholds", lambda estimator: None)
        grid = responsiveness_scores(model, X, A, **kwargs)
    return fast, grid, n_fast, sum(sizes)


@pytest.fixture(scope="module")
def taiwan():
    X, y = load_taiwan_recourse()
    X, y = X.iloc[:2000], y.iloc[:2000]
    A = taiwan_action_set(X)
    # Shorter amount ranges keep the data grid quick.
    A[list(TAIWAN_AMOUNTS)].ub = 3000
    A[list(TAIWAN_AMOUNTS)].step_lb = -1500
    rows = X[(X[list(TAIWAN_AMOUNTS)] <= 3000).all(axis=1)].iloc[:8]
    return X, y, A, rows


def _with_missing(X, seed=0):
    rng = np.random.default_rng(seed)
    X = X.astype(float)
    for name in [*TAIWAN_AMOUNTS, "EducationLevel"]:
        X.loc[rng.random(len(X)) < 0.1, name] = np.nan
    return X


@pytest.mark.parametrize(
    ("family", "missing"), FITS, ids=[f + "-nan" * m for f, m in FITS]
)
def test_taiwan_used_thresholds_give_the_data_grid_scores(
    taiwan, family, missing, monkeypatch
):
    X, y, A, rows = taiwan
    model = MODELS[family]().fit(_with_missing(X) if missing else X, y)
    fast, grid, n_fast, n_grid = _both_paths(model, rows, A, monkeypatch)
    np.testing.assert_allclose(fast, grid, rtol=0, atol=1e-12)
    assert grid.max() > 0
    assert n_fast < n_grid / 10


@pytest.mark.parametrize("family", MODELS)
def test_grid_on_the_thresholds_and_their_float_neighbours(taiwan, family, monkeypatch):
    # Candidate values at, just below and just above each split, in float64
    # and float32 steps: the comparison at value == threshold must match.
    X, y, A, rows = taiwan
    name = "MostRecentBillAmount"
    X = X.assign(**{name: X[name] + 0.25 * (np.arange(len(X)) % 4)})
    model = MODELS[family]().fit(X, y)
    cuts = used_thresholds(model)[A.names.index(name)]
    c32 = cuts.astype(np.float32)
    grid = np.concatenate(
        [
            cuts,
            np.nextafter(cuts, -np.inf),
            np.nextafter(cuts, np.inf),
            c32,
            np.nextafter(c32, np.float32(-np.inf)),
            np.nextafter(c32, np.float32(np.inf)),
            np.round(cuts * 4) / 4,
        ]
    ).astype(float)
    A = ActionSet.from_dict(A.to_dict())
    A[name].kind = "float"
    A[name].grid = sorted(set(grid[(grid >= 0) & (grid <= 3000)].tolist()))
    fast, grid_scores, n_fast, n_grid = _both_paths(
        model, rows.assign(**{name: rows[name] + 0.25}), A, monkeypatch
    )
    np.testing.assert_allclose(fast, grid_scores, rtol=0, atol=1e-12)
    assert n_fast < n_grid


@pytest.mark.parametrize(
    "family", ["hist_gradient_boosting", "random_forest", "xgboost", "lightgbm"]
)
def test_german_text_columns_and_missing_values(family, monkeypatch):
    X, y = load_german_credit_missing()
    A = ActionSet.from_data(X)
    encoded = A.encode(X)
    # XGBoost and LightGBM refuse names like "x=<missing>": fit on arrays.
    if family in ("xgboost", "lightgbm"):
        encoded = encoded.to_numpy()
    model = MODELS[family]().fit(encoded, (y == "good").astype(int))
    fast, grid, n_fast, n_grid = _both_paths(model, X.iloc[:6], A, monkeypatch)
    np.testing.assert_allclose(fast, grid, rtol=0, atol=1e-12)
    assert grid.max() > 0
    assert n_fast < n_grid


def test_hist_gradient_boosting_uses_a_subset_of_its_bins(taiwan):
    X, y, _, _ = taiwan
    model = HistGradientBoostingClassifier(max_iter=10, random_state=0).fit(X, y)
    used = used_thresholds(model)
    bins = model._bin_mapper.bin_thresholds_
    assert used and all(np.isin(t, bins[j]).all() for j, t in used.items())
    assert sum(map(len, used.values())) < sum(map(len, bins))


def test_categorical_hist_gradient_boosting_split_falls_back(taiwan, monkeypatch):
    X, y, A, rows = taiwan
    education = A.names.index("EducationLevel")
    model = HistGradientBoostingClassifier(
        max_iter=10, categorical_features=[education], random_state=0
    ).fit(X, y)
    used = used_thresholds(model)
    assert education in used and used[education] is None
    assert used[A.names.index("MostRecentBillAmount")] is not None
    fast, grid, _, _ = _both_paths(model, rows, A, monkeypatch)
    np.testing.assert_allclose(fast, grid, rtol=0, atol=1e-12)


def _stumps():
    lgb = pytest.importorskip("lightgbm")
    xgb = pytest.importorskip("xgboost")
    return [
        DecisionTreeRegressor(max_depth=1),
        RandomForestRegressor(n_estimators=1, max_depth=1, bootstrap=False),
        GradientBoostingRegressor(n_estimators=1, max_depth=1),
        HistGradientBoostingRegressor(max_iter=1, max_leaf_nodes=2),
        xgb.XGBRegressor(n_estimators=1, max_depth=1),
        lgb.LGBMRegressor(n_estimators=1, num_leaves=2, verbose=-1),
    ]


@pytest.mark.parametrize("k", range(6))
def test_a_stump_goes_left_up_to_its_cut_and_right_after(k):
    rng = np.random.default_rng(k)
    x = rng.normal(size=(300, 1)) * 1e3
    model = _stumps()[k].fit(x, x[:, 0] > 123.456)
    (cut,) = used_thresholds(model)[0]
    left, at, after, right = model.predict(
        [[x.min()], [cut], [np.nextafter(cut, np.inf)], [x.max()]]
    )
    assert at == left != right == after


def test_lightgbm_zero_as_missing_keeps_zero_apart(monkeypatch):
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.integers(-3, 4, 400) * 1e-36, "b": rng.normal(size=400)})
    X.loc[rng.random(400) < 0.3, "a"] = 0.0
    y = ((X["a"] > 0) | (X["b"] > 1)).astype(int)
    model = _lightgbm(zero_as_missing=True, min_child_samples=5).fit(X, y)
    A = ActionSet.from_data(X)
    A["a"].grid = sorted(
        {
            0.0,
            -0.0,
            *np.arange(-4, 5) * 1e-36,
            1e-35,
            -1e-35,
            *np.nextafter([1e-35, -1e-35], 0),
        }
    )
    A["b"].grid = np.linspace(-3, 3, 61).tolist()
    fast, grid, n_fast, n_grid = _both_paths(model, X.iloc[:20], A, monkeypatch)
    np.testing.assert_allclose(fast, grid, rtol=0, atol=1e-12)
    assert n_fast < n_grid


def test_readers_fall_back_for_models_they_cannot_read(taiwan):
    X, y, _, _ = taiwan
    init = GradientBoostingRegressor(n_estimators=3, init=LinearRegression())
    scaled = Pipeline(
        [("scale", StandardScaler()), ("tree", DecisionTreeClassifier(max_depth=3))]
    )
    for model in (init, scaled, StandardScaler()):
        assert used_thresholds(model.fit(X, y)) is None
    tree = DecisionTreeClassifier(max_depth=3, random_state=0).fit(X, y)
    passthrough = Pipeline([("none", "passthrough"), ("tree", tree)])
    assert used_thresholds(passthrough).keys() == used_thresholds(tree).keys()


def test_tree_compression_equals_full_enumeration():
    X, y = load_taiwan_recourse()
    X, y = X.iloc[:3000], y.iloc[:3000]
    A = taiwan_action_set(X)
    # Shorter amount ranges keep the full enumeration quick.
    A[list(TAIWAN_AMOUNTS)].ub = 3000
    A[list(TAIWAN_AMOUNTS)].step_lb = -1500
    hgb = HistGradientBoostingClassifier(max_iter=5, random_state=0).fit(X, y)
    rf = RandomForestClassifier(n_estimators=5, max_depth=4, random_state=0).fit(X, y)
    rows = X[(X[list(TAIWAN_AMOUNTS)] <= 3000).all(axis=1)].iloc[:3]
    for model in (hgb, rf):
        fast = responsiveness_scores(model, rows, A)
        slow = responsiveness_scores(
            lambda Z, m=model: m.predict(pd.DataFrame(Z, columns=X.columns)), rows, A
        )
        np.testing.assert_allclose(fast, slow)
