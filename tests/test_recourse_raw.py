"""Recourse on the user's own tables: text, categories and missing values."""

import json

import numpy as np
import pandas as pd
import polars as pl
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from featimp._encoding import MISSING, encode_table
from featimp.datasets import (
    load_german_credit,
    load_german_credit_missing,
    load_german_recourse,
)
from featimp.recourse import (
    ActionSet,
    OneHotEncoding,
    ResponsivenessExplainer,
    ResponsivenessSelector,
    reachable_set,
    responsiveness_importances,
    responsiveness_scores,
)
from featimp.recourse._scores import linear_form


def _text_columns(X):
    return [c for c in X.columns if not pd.api.types.is_numeric_dtype(X[c])]


@pytest.fixture(scope="module", params=["complete", "missing"])
def german(request):
    load = (
        load_german_credit
        if request.param == "complete"
        else (load_german_credit_missing)
    )
    X, y = load()
    A = ActionSet.from_data(X)
    model = make_pipeline(StandardScaler(), LogisticRegression())
    return X, y, A, model.fit(A.encode(X), y)


# The action set of a raw table.


def test_numeric_complete_frame_keeps_its_columns():
    X, _ = load_german_recourse()
    A = ActionSet.from_data(X)
    assert A.raw_columns is None and A.names == list(X.columns)
    assert set(A.to_dict()) == {"features", "constraints"}
    assert A.columns_of("Age") == ["Age"]
    pd.testing.assert_frame_equal(A.decode(A.encode(X)), X.astype(float))


def test_german_action_set_one_hot_per_text_column(german):
    X, _, A, _ = german
    table = encode_table(X, "onehot")
    assert A.names == table.encoded_names
    assert [c.name for c in A.raw_columns] == list(X.columns)
    text = _text_columns(X)
    assert len(text) == 13
    onehot = {c.names: c for c in A.constraints}
    for column in text:
        dummies = A.columns_of(column)
        assert isinstance(onehot[tuple(dummies)], OneHotEncoding)
        assert onehot[tuple(dummies)].limit_type == "equal"
        assert set(A[dummies].kind) == {"bool"}
    assert len(A.constraints) == len(text)
    for column in X.columns:
        indicator = f"{column}={MISSING}"
        has_missing = bool(X[column].isna().any())
        assert (indicator in A) == has_missing
        if has_missing:
            assert not A[indicator].actionable
    # Everything else is actionable, within the observed range.
    assert len(A.actionable_names) == len(A) - int(X.isna().any().sum())
    assert A["age_in_years"].kind == "int"
    assert (A["age_in_years"].lb, A["age_in_years"].ub) == (19, 75)
    np.testing.assert_array_equal(A.encode(X).to_numpy(), table.values)
    assert A.validate(A.encode(X)).empty


def test_imputed_number_stays_a_feature():
    X, _ = load_german_credit_missing()
    A = ActionSet.from_data(X)
    assert A.columns_of("credit_amount") == [
        "credit_amount",
        f"credit_amount={MISSING}",
    ]
    assert A["credit_amount"].actionable
    encoded = A.encode(X)
    holes = X["credit_amount"].isna()
    median = X["credit_amount"].median()
    assert (encoded.loc[holes, "credit_amount"] == median).all()
    assert (encoded.loc[holes, f"credit_amount={MISSING}"] == 1).all()


def test_columns_of_sets_a_whole_raw_column(german):
    _, _, A, _ = german
    B = ActionSet.from_dict(A.to_dict())
    B[B.columns_of("purpose")].actionable = False
    assert not any(B[B.columns_of("purpose")].actionable)
    assert B.columns_of("duration_in_month")[0] == "duration_in_month"
    with pytest.raises(ValueError, match="unknown column 'nope'"):
        B.columns_of("nope")


def test_encode_decode_round_trip_and_serialisation(german):
    X, _, A, _ = german
    encoded = A.encode(X)
    assert list(encoded.columns) == A.names and encoded.index.equals(X.index)
    pd.testing.assert_frame_equal(A.decode(encoded), X, check_dtype=False)
    B = ActionSet.from_dict(json.loads(json.dumps(A.to_dict())))
    assert B.to_dict() == A.to_dict() and B.constraints == A.constraints
    pd.testing.assert_frame_equal(B.encode(X), encoded)
    pd.testing.assert_frame_equal(B.decode(encoded.to_numpy()), A.decode(encoded))
    pd.testing.assert_frame_equal(A.encode(pl.from_pandas(X)), encoded)


def test_polars_frame_builds_the_same_action_set(german):
    X, _, A, _ = german
    assert ActionSet.from_data(pl.from_pandas(X)).to_dict() == A.to_dict()


def test_encode_refuses_what_the_action_set_does_not_know():
    X, _ = load_german_credit()
    A = ActionSet.from_data(X)
    new = X.head(3).copy()
    new.loc[new.index[1], "purpose"] = "space travel"
    with pytest.raises(ValueError, match=r"'purpose'.*row\(s\) 1.*space travel"):
        A.encode(new)
    new = X.head(3).astype({"duration_in_month": float})
    new.loc[new.index[2], "duration_in_month"] = np.nan
    with pytest.raises(ValueError, match=r"'duration_in_month' has missing.*2"):
        A.encode(new)
    with pytest.raises(ValueError, match=r"missing \['job'\]"):
        A.encode(X.drop(columns="job"))


def test_bool_and_category_columns():
    X = pd.DataFrame(
        {
            "flag": [True, False, True],
            "tier": pd.Categorical(["lo", "hi", None], categories=["lo", "hi"]),
            "n": [1, 2, 3],
        }
    )
    A = ActionSet.from_data(X)
    assert A.names == ["flag", "tier=hi", "tier=lo", f"tier={MISSING}", "n"]
    assert A["flag"].kind == "bool" and A["n"].kind == "int"
    assert A.constraints == [OneHotEncoding(A.columns_of("tier"))]
    decoded = A.decode(A.encode(X))
    assert decoded["tier"].tolist()[:2] == ["lo", "hi"]
    assert pd.isna(decoded["tier"].iloc[2])


def test_many_categories_enumerate_one_point_each():
    levels = [f"c{k:02d}" for k in range(30)]
    A = ActionSet.from_data(pd.DataFrame({"city": levels}))
    x = A.encode(pd.DataFrame({"city": ["c07"]})).to_numpy()[0]
    points = reachable_set(A, x)
    assert points.shape == (30, 30) and (points.sum(axis=1) == 1).all()


# Explaining raw rows.


def test_explain_raw_rows_equals_encoded_rows(german):
    X, _, A, model = german
    rows = X.iloc[:40]
    explainer = ResponsivenessExplainer(model, A, target="good")
    raw = explainer.explain(rows)
    encoded = explainer.explain(A.encode(rows))
    frame = explainer.explain(pl.from_pandas(rows))
    for result in (encoded, frame):
        np.testing.assert_array_equal(result.scores.to_numpy(), raw.scores.to_numpy())
        np.testing.assert_array_equal(result.fixed.to_numpy(), raw.fixed.to_numpy())
        np.testing.assert_array_equal(result.actions.to_numpy(), raw.actions.to_numpy())
    pd.testing.assert_frame_equal(raw.scores, encoded.scores)
    assert list(raw.scores.columns) == A.names
    # The actions found get the target.
    found = raw.fixed.eq(False).fillna(False).to_numpy()
    after = A.encode(rows)[found] + raw.actions[found]
    assert found.any() and (model.predict(after) == "good").all()
    fitted = ResponsivenessExplainer(model, A, target="good").fit(rows)
    assert list(fitted.global_importances_.index) == A.names


def test_row_breaking_its_one_hot_encoding_is_named(german):
    X, _, A, model = german
    bad = A.encode(X.head(5))
    dummies = A.columns_of("purpose")
    bad.iloc[3, A.index(dummies)] = 0.0
    with pytest.raises(ValueError, match=r"row 3: exactly one of purpose=business"):
        ResponsivenessExplainer(model, A, target="good").explain(bad)
    with pytest.raises(ValueError, match=r"row 3: exactly one of purpose="):
        responsiveness_scores(model, bad, A, target="good")


def test_standard_scaler_pipeline_has_a_linear_form(german):
    X, _, A, model = german
    w, b, labels = linear_form(model, A.names)
    values = A.encode(X).to_numpy()
    np.testing.assert_array_equal(
        labels[(values @ w + b > 0).astype(int)], model.predict(A.encode(X))
    )


def test_model_fitted_on_raw_columns_predicts_decoded_points():
    X, y = load_german_credit_missing()
    X = X[
        [
            "status_of_existing_checking_account",
            "purpose",
            "savings_account_and_bonds",
            "duration_in_month",
            "age_in_years",
        ]
    ]
    A = ActionSet.from_data(X)
    A[A.columns_of("age_in_years")].actionable = False
    text = _text_columns(X)
    numbers = [c for c in X.columns if c not in text]
    encode = ColumnTransformer(
        [
            (
                "text",
                make_pipeline(
                    SimpleImputer(strategy="most_frequent"),
                    OneHotEncoder(handle_unknown="ignore"),
                ),
                text,
            ),
            ("numbers", make_pipeline(SimpleImputer(), StandardScaler()), numbers),
        ]
    )
    model = make_pipeline(encode, LogisticRegression()).fit(X, y)
    rows = X.iloc[:8]
    result = ResponsivenessExplainer(model, A, target="good").explain(rows)
    by_hand = ResponsivenessExplainer(
        lambda Z: model.predict(A.decode(Z)), A, target="good"
    ).explain(rows)
    pd.testing.assert_frame_equal(result.scores, by_hand.scores)
    assert result.scores.to_numpy().max() > 0
    found = result.fixed.eq(False).fillna(False).to_numpy()
    after = A.encode(rows).to_numpy()[found] + result.actions.to_numpy()[found]
    assert found.any() and (model.predict(A.decode(after)) == "good").all()


# One importance per raw column.


@pytest.mark.parametrize("load", [load_german_credit, load_german_credit_missing])
def test_selector_on_raw_german_pandas_and_polars(load):
    X, y = load()
    selector = ResponsivenessSelector(random_state=0).fit(X, y)
    assert list(selector.feature_names_in_) == list(X.columns)
    scores = selector.importances_
    assert scores.shape == (20,) and np.isfinite(scores).all()
    assert ((scores >= 0) & (scores <= 1)).all() and scores.max() > 0
    polars = ResponsivenessSelector(random_state=0).fit(pl.from_pandas(X), y)
    np.testing.assert_array_equal(polars.importances_, scores)
    assert list(polars.feature_names_in_) == list(X.columns)
    selected = polars.set_params(n_features_to_select=3).transform(pl.from_pandas(X))
    assert isinstance(selected, pl.DataFrame) and selected.width == 3


def test_importance_of_a_raw_column_is_the_max_over_its_features():
    X, y = load_german_credit_missing()
    A = ActionSet.from_data(X)
    A[A.columns_of("foreign_worker")].actionable = False
    scores = responsiveness_importances(X, y, action_set=A.to_dict())
    assert scores[list(X.columns).index("foreign_worker")] == 0
    # By hand: the default model, the denied rows, per-row max, mean.
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
    encoded = A.encode(X)
    model.fit(encoded.to_numpy(), y)
    denied = encoded[model.predict(encoded.to_numpy()) != "good"]
    rows = responsiveness_scores(model, denied.to_numpy(), A, target="good")
    for j, column in enumerate(X.columns):
        per_row = rows[:, A.index(A.columns_of(column))].max(axis=1)
        assert scores[j] == pytest.approx(per_row.mean(), abs=1e-12)


def test_numeric_table_with_missing_values():
    rng = np.random.default_rng(0)
    X = pd.DataFrame(
        {
            "income": rng.integers(0, 10, 200).astype(float),
            "age": rng.integers(20, 60, 200),
        }
    )
    y = (X["income"] + rng.normal(size=200) > 5).astype(int)
    X.loc[X.index[:20], "income"] = np.nan
    A = ActionSet.from_data(X)
    assert A.names == ["income", f"income={MISSING}", "age"]
    assert A.actionable_names == ["income", "age"]
    scores = responsiveness_importances(X, y)
    assert scores.shape == (2,) and scores[0] > scores[1]
    array = ResponsivenessSelector().fit(X.to_numpy(), y).importances_
    np.testing.assert_array_equal(array, scores)


def test_action_set_must_match_the_columns():
    X, y = load_german_credit()
    A = ActionSet.from_data(X)
    with pytest.raises(ValueError, match="do not match"):
        responsiveness_importances(X.iloc[:, ::-1], y, action_set=A)
