"""Loaders for the bundled datasets: sklearn's and the credit data we ship."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources

import pandas as pd
from sklearn import datasets as _skd

from featimp.datasets._missing import MissingColumn, add_missing


@dataclass(frozen=True)
class _Entry:
    description: str
    task: str
    loader: object


def _sklearn_loader(function, **kwargs):
    def load():
        bunch = function(as_frame=True, **kwargs)
        return bunch.data, bunch.target.rename("target")

    return load


def _read_bundled(filename: str) -> pd.DataFrame:
    path = resources.files("featimp.datasets") / "data" / filename
    with resources.as_file(path) as p:
        return pd.read_csv(p)


def _csv_loader(filename: str, target: str):
    def load():
        frame = _read_bundled(filename)
        return frame.drop(columns=target), frame[target]

    return load


def load_german_credit() -> tuple[pd.DataFrame, pd.Series]:
    """Statlog German credit: 1,000 applicants, 20 attributes (13 categorical).

    Target ``creditability`` is ``"good"`` or ``"bad"``. Source: UCI Machine
    Learning Repository, Hans Hofmann (1994), CC BY 4.0.

    Examples
    --------
    >>> X, y = load_german_credit()
    >>> X.shape, sorted(y.unique())
    ((1000, 20), ['bad', 'good'])
    """
    return _DATASETS["german_credit"].loader()


def load_taiwan_credit() -> tuple[pd.DataFrame, pd.Series]:
    """Default of credit card clients (Taiwan, 2005), encoded for recourse.

    30,000 rows, 17 integer features; target ``NoDefaultNextMonth`` (1 =
    repays). Source: UCI Machine Learning Repository, I-Cheng Yeh (2009),
    CC BY 4.0.

    Examples
    --------
    >>> X, y = load_taiwan_credit()
    >>> X.shape
    (30000, 17)
    """
    X, y = _DATASETS["taiwan_credit"].loader()
    return X, y.astype(int)


# Ages and years at the residence stay complete: they are the MAR drivers.
_GERMAN_MISSING = {
    "duration_in_month": MissingColumn(0.1, "MCAR"),
    "credit_amount": MissingColumn(0.1, "MAR", "age_in_years"),
    "installment_rate_in_percentage_of_disposable_income": MissingColumn(0.1, "MCAR"),
    "purpose": MissingColumn(0.1, "MCAR"),
    "savings_account_and_bonds": MissingColumn(0.1, "MAR", "age_in_years"),
    "present_employment_since": MissingColumn(0.1, "MAR", "present_residence_since"),
}
_TAIWAN_MISSING = {
    "EducationLevel": MissingColumn(0.1, "MAR", "MonthsWithZeroBalanceOverLast6Months"),
    "MaxBillAmountOverLast6Months": MissingColumn(0.1, "MCAR"),
    "MostRecentBillAmount": MissingColumn(
        0.1, "MAR", "MaxPaymentAmountOverLast6Months"
    ),
    "MostRecentPaymentAmount": MissingColumn(0.1, "MCAR"),
}


def load_german_credit_missing() -> tuple[pd.DataFrame, pd.Series]:
    """German credit with seeded missing values in six of its columns.

    :func:`load_german_credit` with exactly 10 % of each column's cells (100
    of 1,000) removed, by :func:`add_missing` with ``random_state=0``, in:

    - ``duration_in_month``: MCAR;
    - ``credit_amount``: MAR, more likely the higher ``age_in_years``;
    - ``installment_rate_in_percentage_of_disposable_income``: MCAR;
    - ``purpose`` (text): MCAR;
    - ``savings_account_and_bonds`` (text): MAR, driven by ``age_in_years``;
    - ``present_employment_since`` (text): MAR, driven by
      ``present_residence_since``.

    The drivers stay complete. Missing numeric cells are NaN in float64
    columns; missing text cells are NaN in the loader's text dtype. The
    target is unchanged and the spec is in ``X.attrs["missing"]``.

    Examples
    --------
    >>> X, y = load_german_credit_missing()
    >>> X.shape, int(X.isna().sum().sum())
    ((1000, 20), 600)
    >>> X.attrs["missing"]["credit_amount"].mechanism
    'MAR'
    """
    X, y = load_german_credit()
    return add_missing(X, _GERMAN_MISSING, random_state=0), y


def load_taiwan_credit_missing() -> tuple[pd.DataFrame, pd.Series]:
    """Taiwan credit with seeded missing values in four of its columns.

    :func:`load_taiwan_credit` with exactly 10 % of each column's cells
    (3,000 of 30,000) removed, by :func:`add_missing` with ``random_state=0``, in:

    - ``EducationLevel``: MAR, more likely the higher
      ``MonthsWithZeroBalanceOverLast6Months``;
    - ``MaxBillAmountOverLast6Months``: MCAR;
    - ``MostRecentBillAmount``: MAR, driven by
      ``MaxPaymentAmountOverLast6Months``;
    - ``MostRecentPaymentAmount``: MCAR.

    The drivers stay complete. The four columns become float64 with NaN;
    the target is unchanged and the spec is in ``X.attrs["missing"]``.

    Examples
    --------
    >>> X, y = load_taiwan_credit_missing()
    >>> X.shape, int(X.isna().sum().sum())
    ((30000, 17), 12000)
    """
    X, y = load_taiwan_credit()
    return add_missing(X, _TAIWAN_MISSING, random_state=0), y


_DATASETS: dict[str, _Entry] = {
    "breast_cancer": _Entry(
        "Wisconsin breast cancer (sklearn), 569 x 30, binary",
        "classification",
        _sklearn_loader(_skd.load_breast_cancer),
    ),
    "wine": _Entry(
        "Wine recognition (sklearn), 178 x 13, 3 classes",
        "classification",
        _sklearn_loader(_skd.load_wine),
    ),
    "iris": _Entry(
        "Iris (sklearn), 150 x 4, 3 classes",
        "classification",
        _sklearn_loader(_skd.load_iris),
    ),
    "digits": _Entry(
        "Handwritten digits 0-2 (sklearn, n_class=3), 537 x 64",
        "classification",
        _sklearn_loader(_skd.load_digits, n_class=3),
    ),
    "diabetes": _Entry(
        "Diabetes progression (sklearn), 442 x 10, regression",
        "regression",
        _sklearn_loader(_skd.load_diabetes),
    ),
    "german_credit": _Entry(
        "Statlog German credit (UCI), 1,000 x 20, good/bad",
        "classification",
        _csv_loader("german_credit.csv.gz", "creditability"),
    ),
    "taiwan_credit": _Entry(
        "Taiwan credit card default (UCI), 30,000 x 17, binary",
        "classification",
        _csv_loader("taiwan_credit.csv.gz", "NoDefaultNextMonth"),
    ),
    "german_credit_missing": _Entry(
        "German credit with 10 % MCAR/MAR missing cells in 6 columns",
        "classification",
        load_german_credit_missing,
    ),
    "taiwan_credit_missing": _Entry(
        "Taiwan credit with 10 % MCAR/MAR missing cells in 4 columns",
        "classification",
        load_taiwan_credit_missing,
    ),
}


def dataset_names() -> list[str]:
    """Names accepted by :func:`load_dataset`."""
    return list(_DATASETS)


def describe_datasets() -> pd.DataFrame:
    """One row per bundled dataset: its task and a description."""
    return pd.DataFrame(
        [(n, e.task, e.description) for n, e in _DATASETS.items()],
        columns=["name", "task", "description"],
    ).set_index("name")


def load_dataset(name: str) -> tuple[pd.DataFrame, pd.Series]:
    """Load a bundled dataset as ``(X, y)``: a DataFrame and a Series.

    Examples
    --------
    >>> X, y = load_dataset("breast_cancer")
    >>> X.shape, y.name
    ((569, 30), 'target')
    """
    if name == "taiwan_credit":
        return load_taiwan_credit()
    try:
        entry = _DATASETS[name]
    except KeyError:
        raise ValueError(
            f"unknown dataset {name!r}; choose one of: {', '.join(_DATASETS)}"
        ) from None
    return entry.loader()
