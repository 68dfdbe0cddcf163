"""The paper's action sets (featimp/recourse/_cases.py) on its German credit
encoding."""

import pytest


def test_german_encoding_and_action_set(german_recourse):
    X, y, A, _ = german_recourse
    assert X.shape == (1000, 36) and y.mean() == pytest.approx(0.7)
    assert A.actionable_names == [
        "YearsAtResidence",
        "YearsEmployed_geq_1",
        "HasGuarantor",
        "HistoryOfBankInstallments",
        "HistoryOfStoreInstallments",
        "CheckingAcct_exists",
        "CheckingAcct_geq_0",
        "SavingsAcct_exists",
        "SavingsAcct_geq_100",
    ]
    assert A.validate(X).empty
