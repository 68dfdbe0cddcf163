"""Ready action sets for the bundled credit data."""

from __future__ import annotations

from featimp.recourse._action_set import ActionSet
from featimp.recourse._constraints import DirectionalLinkage, ThermometerEncoding

_GERMAN_IMMUTABLE_PARTS = (
    "Age",
    "Job_is",
    "Housing_is_",
    "CreditAmt_geq_",
    "LoanDuration_",
    "LoanRate",
)
_GERMAN_IMMUTABLE = (
    "Male",
    "Single",
    "ForeignWorker",
    "LiablePersons",
    "NoCreditHistory",
    "HistoryOfLatePayments",
    "HistoryOfDelinquency",
    "LoanRequiredForCar",
    "LoanRequiredForHome",
    "LoanRequiredForEducation",
    "LoanRequiredForBusiness",
)
_GERMAN_INCREASE_ONLY = (
    "YearsAtResidence",
    "HasGuarantor",
    "HistoryOfBankInstallments",
    "HistoryOfStoreInstallments",
)


def german_action_set(X) -> ActionSet:
    """The paper's action set ("complex_nD") for :func:`load_german_recourse`.

    Immutable: anything about age, job, housing, the loan's amount, duration,
    rate and purpose, sex, marital status, foreign worker, liable persons and
    credit history. YearsAtResidence in [0, 7], at most +2; increase-only:
    age, residence, guarantor, installment history, employment, savings and
    checking. Linkages: YearsAtResidence and YearsEmployed_geq_1 each move
    Age one for one. Checking and savings dummies are increasing
    thermometers.

    Examples
    --------
    >>> from featimp.datasets import load_german_recourse
    >>> X, _ = load_german_recourse()
    >>> A = german_action_set(X)
    >>> len(A.actionable_names), len(A.constraints)
    (9, 4)
    >>> A.validate(X).empty
    True
    """
    A = ActionSet.from_data(X)
    names = A.names
    immutable = [n for n in names if any(p in n for p in _GERMAN_IMMUTABLE_PARTS)]
    A[immutable + list(_GERMAN_IMMUTABLE)].actionable = False
    A["YearsAtResidence"].lb = 0
    A["YearsAtResidence"].ub = 7
    A["YearsAtResidence"].step_ub = 2
    increase = [n for n in names if "Age" in n] + list(_GERMAN_INCREASE_ONLY)
    increase += [
        n
        for n in names
        if n.startswith(("YearsEmployed_", "SavingsAcct_", "CheckingAcct_"))
    ]
    A[increase].step_direction = 1
    A.add_constraint(DirectionalLinkage(["YearsAtResidence", "Age"], scales=[1]))
    A.add_constraint(DirectionalLinkage(["YearsEmployed_geq_1", "Age"], scales=[1]))
    for prefix in ("CheckingAcct_", "SavingsAcct_"):
        group = [n for n in names if n.startswith(prefix)]
        A.add_constraint(ThermometerEncoding(group, step_direction=1))
    return A


TAIWAN_AMOUNTS = (
    "MaxBillAmountOverLast6Months",
    "MaxPaymentAmountOverLast6Months",
    "MostRecentBillAmount",
    "MostRecentPaymentAmount",
)


def taiwan_action_set(X) -> ActionSet:
    """An action set for :func:`load_taiwan_recourse`.

    The four bill and payment amount columns are actionable integers over
    their observed range (step 1, so up to ~50,000 values each); the months
    of zero balance and of low or high spending are actionable counts in
    [0, 6]; education can only rise; age, marital status and the overdue
    history are immutable.

    Examples
    --------
    >>> from featimp.datasets import load_taiwan_recourse
    >>> X, _ = load_taiwan_recourse()
    >>> A = taiwan_action_set(X)
    >>> A["MostRecentBillAmount"].kind, A["Married"].actionable
    ('int', False)
    """
    A = ActionSet.from_data(X)
    fixed = [n for n in A.names if n.startswith("Age_")] + [
        "Married",
        "Single",
        "TotalOverdueCounts",
        "TotalMonthsOverdue",
        "HistoryOfOverduePayments",
    ]
    A[fixed].actionable = False
    A["EducationLevel"].step_direction = 1
    for name in TAIWAN_AMOUNTS:
        A[name].kind = "int"
    return A
