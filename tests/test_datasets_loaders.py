"""The bundled datasets and their copies with missing values
(featimp/datasets/_loaders.py)."""

import pandas as pd
import pytest

from featimp.datasets import (
    dataset_names,
    load_dataset,
    load_german_credit,
    load_taiwan_credit,
)

from .conftest import SHARED_DATA


@pytest.mark.parametrize("name", dataset_names())
def test_every_bundled_dataset_loads(name):
    X, y = load_dataset(name)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert len(X) == len(y) > 100
    assert y.name not in X.columns


def test_bundled_copies_match_shared_data():
    if not (SHARED_DATA / "german_credit.csv").exists():
        pytest.skip("shared data folder not beside the checkout")
    shared = pd.read_csv(SHARED_DATA / "german_credit.csv")
    X, y = load_german_credit()
    pd.testing.assert_frame_equal(X, shared.drop(columns="creditability"))
    assert (y == shared["creditability"]).all()


def test_unknown_dataset():
    with pytest.raises(ValueError, match="unknown dataset 'nope'"):
        load_dataset("nope")


MISSING_DATASETS = {
    "german_credit_missing": (
        load_german_credit,
        {
            "duration_in_month": "MCAR",
            "credit_amount": "MAR",
            "installment_rate_in_percentage_of_disposable_income": "MCAR",
            "purpose": "MCAR",
            "savings_account_and_bonds": "MAR",
            "present_employment_since": "MAR",
        },
    ),
    "taiwan_credit_missing": (
        load_taiwan_credit,
        {
            "EducationLevel": "MAR",
            "MaxBillAmountOverLast6Months": "MCAR",
            "MostRecentBillAmount": "MAR",
            "MostRecentPaymentAmount": "MCAR",
        },
    ),
}


@pytest.mark.parametrize("name", MISSING_DATASETS)
def test_missing_datasets_blank_ten_percent_of_the_named_columns(name):
    load_raw, mechanisms = MISSING_DATASETS[name]
    X_raw, y_raw = load_raw()
    X, y = load_dataset(name)
    assert X.shape == X_raw.shape and list(X.columns) == list(X_raw.columns)
    pd.testing.assert_series_equal(y, y_raw)
    rates = X.isna().mean()
    assert rates[list(mechanisms)].tolist() == [0.1] * len(mechanisms)
    assert rates.drop(list(mechanisms)).eq(0).all()
    recorded = X.attrs["missing"]
    assert {c: recorded[c].mechanism for c in recorded} == mechanisms
    # Observed cells are the raw ones; numeric columns stay numeric.
    observed = X.notna()
    for column in mechanisms:
        kept = observed[column]
        assert (X.loc[kept, column] == X_raw.loc[kept, column]).all()
        numeric = pd.api.types.is_numeric_dtype(X_raw[column])
        assert pd.api.types.is_numeric_dtype(X[column]) == numeric


@pytest.mark.parametrize("name", MISSING_DATASETS)
def test_missing_datasets_are_deterministic_and_mar_follows_its_driver(name):
    X, _ = load_dataset(name)
    pd.testing.assert_frame_equal(X, load_dataset(name)[0])
    for column, entry in X.attrs["missing"].items():
        if entry.mechanism == "MAR":
            missing = X[column].isna()
            driver = X[entry.driver]
            assert driver.notna().all()
            assert driver[missing].mean() > driver[~missing].mean()
