import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.utils import get_tags

from featimp import SignificanceSelector
from featimp._significance import (
    permutation_pvalues,
    pooled_pvalues,
    with_shadows,
)
from featimp.cli import main
from featimp.datasets import make_ground_truth
from featimp.methods import get_method


def _bh_reference(p, dependent=False):
    """q_(i) = min over k >= i of min(1, m c(m) p_(k) / k) (BH 1995, BY 2001)."""
    p = np.asarray(p, dtype=float)
    m = p.size
    c = np.sum(1.0 / np.arange(1, m + 1)) if dependent else 1.0
    q = np.empty(m)
    for i in range(m):
        q[i] = min(
            min(1.0, m * c * p[k] / np.sum(p <= p[k])) for k in range(m) if p[k] >= p[i]
        )
    return q


@pytest.fixture(scope="module")
def planted():
    X, y, truth = make_ground_truth(300, n_noise=6, random_state=0)
    return X, y, truth


def _noise(seed, n=120, d=8):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.standard_normal((n, d)), columns=[f"x{j}" for j in range(d)])
    return X, pd.Series(rng.integers(0, 2, n))


@pytest.mark.parametrize(
    ("estimator", "null"),
    [("mi", "permutation"), ("mi", "shadow"), ("lasso", "shadow")],
)
def test_pvalues_are_valid_on_pure_noise(estimator, null):
    pvalues, any_selected = [], []
    for seed in range(15):
        X, y = _noise(seed)
        sel = SignificanceSelector(
            estimator,
            null=null,
            n_permutations=19 if null == "permutation" else 10,
            n_refits=2,
            random_state=seed,
        ).fit(X, y)
        pvalues.append(sel.pvalues_)
        any_selected.append(sel.get_support().any())
    pvalues = np.concatenate(pvalues)
    assert ((pvalues > 0) & (pvalues <= 1)).all()
    # Valid: P(p <= u) <= u, up to the noise of 120 p-values. A lasso scores
    # most noise exactly 0 (p = 1): its mean over refits must not beat shadows.
    for u in (0.1, 0.25, 0.5, 0.75):
        assert np.mean(pvalues <= u) <= u + 0.08
    assert np.mean(any_selected) <= 0.2  # alpha = 0.1, 15 runs


def test_permutation_pvalue_formula():
    observed = np.array([3.0, 1.0, 0.0])
    null = np.array([[1.0, 1.0, 0.0], [2.0, 0.5, 0.0], [4.0, 2.0, 0.0]])
    np.testing.assert_allclose(permutation_pvalues(observed, null), [2 / 4, 3 / 4, 1])
    # Each feature against all 9 pooled values.
    np.testing.assert_allclose(pooled_pvalues(observed, null), [2 / 10, 6 / 10, 1])


def test_planted_features_are_found_and_p_values_match_the_null(planted):
    X, y, truth = planted
    sel = SignificanceSelector("mi", random_state=0).fit(X, y)
    assert sel.null_ == "permutation" and sel.n_permutations_ == 199
    assert sel.null_importances_.shape == (199, X.shape[1])
    expected = (1 + (sel.null_importances_ >= sel.importances_).sum(axis=0)) / 200
    np.testing.assert_allclose(sel.pvalues_, expected)
    assert set(sel.get_feature_names_out()) == set(truth.relevant)


@pytest.mark.parametrize("correction", ["bh", "by"])
def test_qvalues_equal_a_reference_computation(planted, correction):
    X, y, _ = planted
    sel = SignificanceSelector(
        "lasso", correction=correction, n_permutations=4, n_refits=1, random_state=0
    ).fit(X, y)
    assert sel.null_ == "shadow"
    np.testing.assert_allclose(
        sel.qvalues_, _bh_reference(sel.pvalues_, dependent=correction == "by")
    )


def test_shadow_pvalues_pool_every_shadow(planted):
    X, y, _ = planted
    sel = SignificanceSelector("lasso", n_permutations=4, n_refits=2, random_state=0)
    sel.fit(X, y)
    d = X.shape[1]
    assert sel.null_importances_.shape == (4, d) and sel.n_refits_ == 2
    pool = sel.null_importances_.ravel()
    expected = [(1 + np.sum(pool >= t)) / (1 + 4 * d) for t in sel.importances_]
    np.testing.assert_allclose(sel.pvalues_, expected)


def test_a_model_is_tested_by_permuting_its_columns_not_the_target():
    # A target permutation tests a model only against the global null: the
    # cross-validated lasso fitted on real signal gives noise features more
    # weight than on any permuted target, so noise looked significant
    # (false discovery rate 0.61 at alpha 0.1 in bench_significance).
    X, y, truth = make_ground_truth(400, n_noise=8, random_state=1)
    sel = SignificanceSelector(
        "lasso", null="permutation", n_permutations=10, random_state=0, n_jobs=2
    ).fit(X, y)
    d = X.shape[1]
    assert sel.null_ == "permutation" and sel.n_refits_ == 10 * d
    assert sel.null_importances_.shape == (10, d)
    pool = sel.null_importances_.ravel()
    expected = [(1 + np.sum(pool >= t)) / (1 + 10 * d) for t in sel.importances_]
    np.testing.assert_allclose(sel.pvalues_, expected)
    selected = set(sel.get_feature_names_out())
    assert set(truth.signal) <= selected
    assert len(selected - set(truth.relevant)) <= 1


def test_a_permuted_column_keeps_the_others_and_the_tables_dtypes():
    from featimp._significance import column_permutation_round

    class Spy(LogisticRegression):
        def fit(self, X, y):
            Spy.seen = X
            self.feature_importances_ = np.zeros(X.shape[1])
            return self

    X = pd.DataFrame(
        {"a": np.arange(6.0), "b": list("uvwxyz"), "c": pd.Categorical(list("ppqqrr"))}
    )
    column_permutation_round(Spy(), X, np.zeros(6), 1, 0, None)
    seen = Spy.seen
    assert list(seen.columns) == list(X.columns) and (seen.dtypes == X.dtypes).all()
    pd.testing.assert_frame_equal(seen.drop(columns="b"), X.drop(columns="b"))
    assert sorted(seen["b"]) == sorted(X["b"]) and list(seen["b"]) != list(X["b"])
    assert list(X["b"]) == list("uvwxyz")  # the caller's table is untouched


def test_shadow_copies_default_to_one_over_alpha_and_seeded_models_fit_once():
    X, y = _noise(0, n=60, d=3)
    forest = RandomForestClassifier(n_estimators=5, random_state=0)
    sel = SignificanceSelector(forest, alpha=0.05, random_state=0).fit(X, y)
    assert sel.null_importances_.shape == (20, 3)
    assert sel.n_refits_ == 1  # the forest has its own seed: refits would agree
    forest.set_params(random_state=None)
    assert SignificanceSelector(forest, n_refits=3).fit(X, y).n_refits_ == 3


def test_selection_follows_alpha_without_refitting(planted):
    X, y, _ = planted
    sel = SignificanceSelector("mi", n_permutations=39, random_state=0).fit(X, y)
    np.testing.assert_array_equal(sel.get_support(), sel.qvalues_ <= 0.1)
    assert sel.set_params(alpha=1.0).get_support().all()
    strict = sel.set_params(alpha=0.01).get_support()
    np.testing.assert_array_equal(strict, sel.qvalues_ <= 0.01)
    # A count or threshold selects among the significant features.
    sel.set_params(alpha=0.1, n_features_to_select=2)
    assert sel.get_support().sum() == 2
    assert (sel.qvalues_[sel.get_support()] <= 0.1).all()


def test_null_is_chosen_per_method():
    X, y = _noise(0, n=60, d=3)
    for estimator, null in [
        ("mi", "permutation"),
        (("mi", {"estimator": "knn"}), "permutation"),
        ("lasso", "shadow"),
        (RandomForestClassifier(n_estimators=5, random_state=0), "shadow"),
    ]:
        sel = SignificanceSelector(
            estimator, n_permutations=2, n_refits=1, random_state=0
        )
        assert sel.fit(X, y).null_ == null


def test_shadows_keep_dtypes_and_permute_each_column():
    X = pd.DataFrame(
        {
            "a": np.arange(50.0),
            "b": pd.Categorical(np.tile(["u", "v"], 25)),
            "shadow0_a": np.arange(50.0) * 2,
        }
    )
    out = with_shadows(X, np.random.default_rng(0), copies=2)
    assert list(out.columns) == [
        "a",
        "b",
        "shadow0_a",
        "_shadow0_a",
        "shadow0_b",
        "shadow0_shadow0_a",
        "shadow1_a",
        "shadow1_b",
        "shadow1_shadow0_a",
    ]
    assert out["shadow1_b"].dtype == X["b"].dtype
    assert sorted(out["_shadow0_a"]) == sorted(X["a"])
    assert not np.array_equal(out["_shadow0_a"], out["shadow1_a"])
    values = X[["a", "shadow0_a"]].to_numpy()
    arrays = with_shadows(values, np.random.default_rng(0), copies=3)
    assert arrays.shape == (50, 8)
    np.testing.assert_array_equal(np.sort(arrays[:, 7]), values[:, 1])


@pytest.mark.parametrize("kind", ["pandas", "polars"])
@pytest.mark.parametrize("null", ["permutation", "shadow"])
def test_mixed_tables_are_read_as_the_wrapped_selector_reads_them(kind, null):
    X, y, truth = make_ground_truth(
        500, n_noise=4, n_categorical=2, missing_rate=0.1, random_state=0
    )
    if kind == "polars":
        X = pytest.importorskip("polars").from_pandas(X)
    sel = SignificanceSelector(
        "mi",
        null=null,
        n_permutations=99 if null == "permutation" else 10,
        n_refits=1,
        random_state=0,
    )
    sel.fit(X, y)
    assert np.isfinite(sel.pvalues_).all()
    assert set(truth.categorical) <= set(sel.get_feature_names_out())
    reduced = sel.transform(X)
    assert type(reduced) is type(X) and reduced.shape[1] == sel.get_support().sum()


def test_input_tags_follow_the_wrapped_estimator():
    assert get_tags(SignificanceSelector()).input_tags.string
    assert get_tags(SignificanceSelector("lasso")).input_tags.allow_nan
    forest = SignificanceSelector(RandomForestClassifier(n_estimators=5))
    assert not get_tags(forest).input_tags.string
    X, y, _ = make_ground_truth(100, n_noise=2, n_categorical=1, random_state=0)
    with pytest.raises(ValueError, match=r"informative_4.*encode them first"):
        forest.fit(X, y)


def test_bad_estimators_are_named():
    X, y = _noise(0, n=40, d=3)
    with pytest.raises(TypeError, match="LogisticRegression has no feature_imp"):
        SignificanceSelector(LogisticRegression(), n_permutations=2).fit(X, y)
    with pytest.raises(ValueError, match="unknown method 'nope'; choose one of"):
        get_method("significance").make_selector(estimator="nope")
    with pytest.raises(ValueError, match=r"estimator 'mi'.*n_trees"):
        get_method("significance").make_selector(estimator=("mi", {"n_trees": 3}))


def test_clone_joblib_round_trip_and_determinism(planted, tmp_path):
    X, y, _ = planted
    sel = SignificanceSelector("lasso", n_permutations=4, n_refits=2, random_state=0)
    fitted = clone(sel).fit(X, y)
    assert not hasattr(clone(fitted), "pvalues_")
    path = tmp_path / "significance.joblib"
    joblib.dump(fitted, path)
    loaded = joblib.load(path)
    np.testing.assert_array_equal(loaded.qvalues_, fitted.qvalues_)
    pd.testing.assert_frame_equal(loaded.transform(X), fitted.transform(X))
    parallel = clone(sel).set_params(n_jobs=2).fit(X, y)
    np.testing.assert_array_equal(parallel.pvalues_, fitted.pvalues_)
    np.testing.assert_array_equal(parallel.importances_, fitted.importances_)


def test_rounds_run_on_dask_with_progress(planted, capsys):
    distributed = pytest.importorskip("distributed")
    X, y, _ = planted
    sel = SignificanceSelector("mi", n_permutations=9, random_state=0)
    expected = clone(sel).fit(X, y).pvalues_
    with (
        distributed.Client(processes=False, n_workers=1, dashboard_address=None),
        joblib.parallel_config("dask"),
    ):
        sel.set_params(n_jobs=-1, verbose=True).fit(X, y)
    np.testing.assert_array_equal(sel.pvalues_, expected)
    assert "significance (permutation)" in capsys.readouterr().err


def test_cli_significance_adds_p_and_q_columns(capsys, tmp_path):
    out = tmp_path / "ranking.csv"
    code = main(
        [
            "rank",
            "--dataset",
            "breast_cancer",
            "--method",
            "lasso",
            "--param",
            "n_grid=3",
            "--param",
            "random_state=0",
            "--significance",
            "0.05",
            "--output",
            str(out),
            "--quiet",
        ]
    )
    printed, err = capsys.readouterr()
    assert code == 0, err
    assert printed.splitlines()[0].endswith("alpha=0.05 null=shadow")
    ranking = pd.read_csv(out)
    assert list(ranking.columns) == [
        "rank",
        "feature",
        "importance",
        "p_value",
        "q_value",
        "selected",
    ]
    np.testing.assert_array_equal(ranking["selected"], ranking["q_value"] <= 0.05)
    assert ranking["selected"].any()


def test_cli_select_with_significance_and_double_wrapping(capsys, tmp_path):
    out = tmp_path / "reduced.csv"
    code = main(
        [
            "select",
            "--dataset",
            "breast_cancer",
            "--method",
            "mi",
            "--param",
            "random_state=0",
            "--significance",
            "0.1",
            "-k",
            "3",
            "--output",
            str(out),
            "--quiet",
        ]
    )
    assert code == 0, capsys.readouterr().err
    assert pd.read_csv(out).shape[1] == 3 + 1  # 3 features and the target
    capsys.readouterr()
    code = main(
        [
            "rank",
            "--dataset",
            "breast_cancer",
            "--method",
            "significance",
            "--significance",
            "0.1",
            "--quiet",
        ]
    )
    assert code == 2
    assert "--param alpha" in capsys.readouterr().err
    code = main(
        [
            "rank",
            "--dataset",
            "breast_cancer",
            "--method",
            "mi",
            "--significance",
            "5",
            "--quiet",
        ]
    )
    assert code == 2
    assert "--significance must be in (0, 1], got 5" in capsys.readouterr().err
