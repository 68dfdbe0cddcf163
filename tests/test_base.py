import joblib
import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from featimp._base import BaseImportanceSelector


class VarianceScore(BaseImportanceSelector):
    """A minimal selector: importance = column variance."""

    _requires_y = False

    def _compute_importances(self, X, y):
        return X.var(axis=0)


@pytest.fixture
def X():
    # Column j has standard deviation j + 1: importance grows with the index.
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        rng.standard_normal((50, 6)) * np.arange(1, 7), columns=list("abcdef")
    )


def test_fit_stores_the_contract_attributes(X):
    sel = VarianceScore(n_features_to_select=2).fit(X)
    assert sel.feature_importances_ is sel.importances_
    assert sel.ranking_.tolist() == [6, 5, 4, 3, 2, 1]
    assert sel.n_features_in_ == 6
    assert sel.feature_names_in_.tolist() == list("abcdef")
    assert sel.get_feature_names_out().tolist() == ["e", "f"]


def test_fraction_threshold_and_default(X):
    assert VarianceScore(n_features_to_select=0.5).fit(X).get_support().sum() == 3
    sel = VarianceScore(threshold="median").fit(X)
    assert sel.get_feature_names_out().tolist() == ["d", "e", "f"]
    imp = sel.importances_
    sel = VarianceScore(threshold=float(imp[4])).fit(X)
    assert sel.get_feature_names_out().tolist() == ["e", "f"]
    mean_sel = VarianceScore(threshold="mean").fit(X)
    assert mean_sel.get_support().tolist() == (imp >= imp.mean()).tolist()
    # Neither given: the best half, as RFE does.
    assert VarianceScore().fit(X).get_feature_names_out().tolist() == ["d", "e", "f"]


def test_count_and_threshold_together_must_both_pass(X):
    sel = VarianceScore(n_features_to_select=4, threshold="median").fit(X)
    assert sel.get_feature_names_out().tolist() == ["d", "e", "f"]


def test_pandas_output_clone_and_joblib(X, tmp_path):
    sel = VarianceScore(n_features_to_select=2).set_output(transform="pandas")
    out = sel.fit_transform(X)
    assert list(out.columns) == ["e", "f"]
    assert clone(sel).get_params() == sel.get_params()
    path = tmp_path / "sel.joblib"
    joblib.dump(sel, path)
    again = joblib.load(path)
    pd.testing.assert_frame_equal(again.transform(X), out)


def test_bad_selection_parameters(X):
    with pytest.raises(ValueError, match="n_features_to_select"):
        VarianceScore(n_features_to_select=0).fit(X)
    with pytest.raises(ValueError, match="larger than the number of features"):
        VarianceScore(n_features_to_select=7).fit(X)
    with pytest.raises(ValueError, match="threshold"):
        VarianceScore(threshold="max").fit(X)


def test_named_errors_for_nan_and_strings(X):
    bad = X.assign(c=np.where(np.arange(50) == 3, np.nan, X["c"]), f=np.inf)
    with pytest.raises(ValueError, match=r"'c', 'f'"):
        VarianceScore().fit(bad)
    with pytest.raises(ValueError, match=r"non-numeric column\(s\) 'g'"):
        VarianceScore().fit(X.assign(g="text"))
    arr = X.to_numpy().astype(object)
    arr[0, 2] = "oops"
    with pytest.raises(ValueError, match="'x2'"):
        VarianceScore().fit(arr)


def test_one_row_is_an_error(X):
    with pytest.raises(ValueError, match="1 sample"):
        VarianceScore().fit(X.iloc[:1])


class StableVarianceScore(BaseImportanceSelector):
    """VarianceScore with the ``stability`` parameter every selector has."""

    _requires_y = False

    def __init__(self, *, stability=False, n_features_to_select=None, threshold=None):
        self.stability = stability
        self.n_features_to_select = n_features_to_select
        self.threshold = threshold

    def _compute_importances(self, X, y):
        return X.var(axis=0)


def test_stability_parameter_refits_on_resamples(X):
    sel = StableVarianceScore(stability=8, n_features_to_select=2).fit(X)
    result = sel.stability_
    assert result.selected.shape == (8, 6)
    # The widest column is selected in most resamples, the narrowest in none.
    probability = dict(zip(X.columns, result.selection_probability, strict=True))
    assert probability["f"] >= 0.75 and probability["a"] == 0.0
    again = StableVarianceScore(stability=8, n_features_to_select=2).fit(X)
    np.testing.assert_array_equal(again.stability_.selected, result.selected)
    assert not hasattr(StableVarianceScore().fit(X), "stability_")
    with pytest.raises(ValueError, match="stability"):
        StableVarianceScore(stability=1).fit(X)


def test_stability_on_a_real_selector():
    from sklearn.datasets import load_breast_cancer

    from featimp import MutualInfoSelector

    X, y = load_breast_cancer(return_X_y=True, as_frame=True)
    sel = MutualInfoSelector(n_features_to_select=5, stability=10, random_state=0)
    frame = sel.fit(X, y).stability_.to_frame()
    assert len(frame) == 30
    top = frame["selection_probability"].idxmax()
    assert top in set(sel.get_feature_names_out())
    assert sel.stability_.kuncheva > 0.3


def test_every_method_carries_its_own_fast_test_configuration():
    from featimp.methods import all_methods, get_method

    for spec in all_methods():
        cls = spec.selector_class()
        params = cls.get_test_params()
        assert params is not cls.get_test_params()  # a fresh dict each call
        cls(**params)  # every name is a parameter of the selector
        if "random_state" in cls._get_param_names():
            assert params["random_state"] == 0
    assert get_method("kan").selector_class().get_test_params()["cv"] == 2
