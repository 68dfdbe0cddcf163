"""The German credit data in the encoding of the responsiveness paper.

Cheon, Wernerfelt, Friedler and Ustun, "Feature Responsiveness Scores:
Model-Agnostic Explanations for Recourse" (ICLR 2025) use 33 binary and
integer features built from the one-hot decoded UCI German credit data. We
rebuild that encoding from the bundled ``german_credit_recourse.csv.gz``
(derived from the UCI data, Hans Hofmann 1994, CC BY 4.0).
"""

from __future__ import annotations

import pandas as pd

from featimp.datasets._loaders import _read_bundled, load_taiwan_credit

_CREDIT_AMOUNT_THRESHOLDS = (1000, 2000, 5000, 10000)


def _any(raw: pd.DataFrame, columns) -> pd.Series:
    return raw[list(columns)].astype(bool).any(axis=1)


def _encode_german(raw: pd.DataFrame) -> pd.DataFrame:
    out = {
        "Age": raw["age"],
        "Male": _any(raw, ["male_divorced", "male_single", "male_married"]),
        "Single": _any(raw, ["male_single", "female_single"]),
        "ForeignWorker": raw["is_foreign_worker"],
        "YearsAtResidence": raw["residence_since"],
        "LiablePersons": raw["liable_persons"],
        "Housing_is_Renter": raw["housing_is_renter"],
        "Housing_is_Owner": raw["housing_is_owner"],
        "Housing_is_Free": raw["housing_is_free"],
        "Job_is_Unskilled": raw["job_is_unskilled"],
        "Job_is_Skilled": raw["job_is_skilled"],
        "Job_is_Management": raw["job_is_management"],
        "YearsEmployed_geq_1": _any(
            raw, ["employed_bt_1_4_yr", "employed_bt_4_7_yr", "employed_geq_7_yr"]
        ),
    }
    for t in _CREDIT_AMOUNT_THRESHOLDS:
        out[f"CreditAmt_geq_{t}K"] = raw["credit_amt"] >= t
    out["LoanDuration_leq_6"] = raw["duration"] <= 6
    for t in (12, 24, 36):
        out[f"LoanDuration_geq_{t}"] = raw["duration"] >= t
    out.update(
        {
            "LoanRate": raw["installment_rate"],
            "HasGuarantor": raw["guarantor"],
            "LoanRequiredForBusiness": raw["purpose_is_business"],
            "LoanRequiredForEducation": _any(
                raw, ["purpose_is_education", "purpose_is_retraining"]
            ),
            "LoanRequiredForCar": _any(
                raw, ["purpose_is_car_new", "purpose_is_car_used"]
            ),
            "LoanRequiredForHome": _any(
                raw,
                [
                    "purpose_is_furniture",
                    "purpose_is_radio/tv",
                    "purpose_is_domestic_appliances",
                    "purpose_is_repairs",
                ],
            ),
            "NoCreditHistory": raw["credit_history_no_credits_taken"],
            "HistoryOfLatePayments": raw["credit_history_delay_in_paying_credits"],
            "HistoryOfDelinquency": raw["credit_history_critical_credit_history"],
            "HistoryOfBankInstallments": raw["has_bank_installments"],
            "HistoryOfStoreInstallments": raw["has_store_installments"],
            "CheckingAcct_exists": ~raw["no_checking_acct"].astype(bool),
            "CheckingAcct_geq_0": _any(
                raw, ["checking_acct_bt_0_200", "checking_acct_ge_200"]
            ),
            "SavingsAcct_exists": ~raw["no_savings_acct"].astype(bool),
            "SavingsAcct_geq_100": _any(
                raw,
                [
                    "savings_acct_bt_100_499",
                    "savings_acct_bt_500_999",
                    "savings_acct_ge_1000",
                ],
            ),
        }
    )
    return pd.DataFrame(out).astype(int)


def load_german_recourse() -> tuple[pd.DataFrame, pd.Series]:
    """German credit as encoded in the responsiveness paper.

    Returns ``(X, y)``: 1,000 rows and 36 integer features (Age,
    YearsAtResidence, LiablePersons and LoanRate are counts, the rest 0/1),
    target ``IsCreditRiskGood`` (1 = good). Pair it with
    :func:`featimp.recourse.german_action_set`.

    Examples
    --------
    >>> X, y = load_german_recourse()
    >>> X.shape, y.name, int(y.sum())
    ((1000, 36), 'IsCreditRiskGood', 700)
    """
    raw = _read_bundled("german_credit_recourse.csv.gz")
    y = raw["is_credit_risk_good"].astype(int).rename("IsCreditRiskGood")
    return _encode_german(raw), y


def load_taiwan_recourse() -> tuple[pd.DataFrame, pd.Series]:
    """Taiwan credit (30,000 x 17 integer features), for
    :func:`featimp.recourse.taiwan_action_set`.

    The bundled data is already encoded for recourse; this is
    :func:`featimp.datasets.load_taiwan_credit` under the recourse name.

    Examples
    --------
    >>> X, y = load_taiwan_recourse()
    >>> X.shape, y.name
    ((30000, 17), 'NoDefaultNextMonth')
    """
    return load_taiwan_credit()
