"""Real tables end to end: German credit as published (13 text columns) and
with 10 % missing cells in six columns, as pandas and as polars frames."""

import numpy as np
import pandas as pd
import pytest

from featimp.datasets import load_german_credit, load_german_credit_missing
from featimp.methods import all_methods, get_method
from tests._shared import fast_params

pl = pytest.importorskip("polars")

SPECS = all_methods()
LOADERS = {"raw": load_german_credit, "missing": load_german_credit_missing}


def _frame(data: str, kind: str):
    X, y = LOADERS[data]()
    return (pl.from_pandas(X) if kind == "polars" else X), y


@pytest.fixture(
    scope="module",
    params=[(d, k) for d in LOADERS for k in ("pandas", "polars")],
    ids=lambda p: "-".join(p),
)
def german(request):
    return _frame(*request.param)


def test_the_missing_copy_has_gaps_in_text_and_numeric_columns():
    X, _ = load_german_credit_missing()
    gaps = X.isna().sum()
    blank = gaps[gaps > 0]
    assert len(blank) == 6 and (blank == 100).all()
    kinds = {pd.api.types.is_string_dtype(X[c]) for c in blank.index}
    assert kinds == {True, False}


@pytest.mark.parametrize("spec", SPECS, ids=lambda s: s.name)
def test_every_method_gives_one_finite_importance_per_column(spec, german):
    X, y = german
    selector = spec.make_selector(**fast_params(spec.name)).fit(X, y)
    assert list(selector.feature_names_in_) == list(X.columns)
    assert selector.importances_.shape == (20,)
    assert np.isfinite(selector.importances_).all()
    assert selector.importances_.max() > 0


@pytest.mark.parametrize("kind", ["pandas", "polars"])
def test_transform_keeps_the_frame_and_its_dtypes(kind):
    X, y = _frame("missing", kind)
    selector = get_method("mi").make_selector(n_features_to_select=8, random_state=0)
    reduced = selector.fit(X, y).transform(X)
    kept = [
        c for c, keep in zip(X.columns, selector.get_support(), strict=True) if keep
    ]
    assert type(reduced) is type(X) and list(reduced.columns) == kept
    for column in kept:
        assert reduced[column].dtype == X[column].dtype
    if kind == "pandas":
        pd.testing.assert_frame_equal(reduced, X[kept])
    else:
        assert reduced.equals(X.select(kept))


def test_set_output_pandas_on_a_polars_frame():
    X, y = _frame("raw", "polars")
    selector = get_method("mi").make_selector(n_features_to_select=5, random_state=0)
    reduced = selector.set_output(transform="pandas").fit(X, y).transform(X)
    assert isinstance(reduced, pd.DataFrame)
    assert list(reduced.columns) == list(selector.get_feature_names_out())
    pd.testing.assert_frame_equal(
        reduced, X.to_pandas()[list(reduced.columns)], check_dtype=False
    )


def test_polars_and_pandas_give_the_same_importances():
    for spec in SPECS:
        if spec.name in ("kan", "consensus", "responsiveness", "shap"):
            continue  # covered above; slow or sampled
        params = fast_params(spec.name)
        scores = [
            spec.make_selector(**params).fit(*_frame("missing", kind)).importances_
            for kind in ("pandas", "polars")
        ]
        np.testing.assert_allclose(*scores, rtol=1e-12, atol=1e-12, err_msg=spec.name)
