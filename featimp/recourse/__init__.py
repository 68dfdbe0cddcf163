"""Recourse: action sets, reachable sets and feature responsiveness scores.

Implements "Feature Responsiveness Scores: Model-Agnostic Explanations for
Recourse" (Cheon, Wernerfelt, Friedler, Ustun; ICLR 2025) without a MIP
solver for enumeration, with ``scipy.optimize.milp`` certifying linear models.
"""

from featimp.recourse._action_set import ActionSet, FeatureAction
from featimp.recourse._batch import (
    RESULT_COLUMNS,
    ROW_FILTERS,
    result_table,
    select_rows,
)
from featimp.recourse._cases import german_action_set, taiwan_action_set
from featimp.recourse._constraints import (
    Constraint,
    DirectionalLinkage,
    IfThen,
    OneHotEncoding,
    OrdinalEncoding,
    ThermometerEncoding,
)
from featimp.recourse._explainer import (
    ResponsivenessExplainer,
    ResponsivenessResult,
)
from featimp.recourse._milp import best_linear_action
from featimp.recourse._reachable import reachable_set
from featimp.recourse._reasons import STATUSES, compare_reasons
from featimp.recourse._report import REPORT_SCHEMA, report_html
from featimp.recourse._scores import responsiveness_scores
from featimp.recourse._selector import (
    ResponsivenessSelector,
    responsiveness_importances,
)

__all__ = [
    "REPORT_SCHEMA",
    "RESULT_COLUMNS",
    "ROW_FILTERS",
    "STATUSES",
    "ActionSet",
    "Constraint",
    "DirectionalLinkage",
    "FeatureAction",
    "IfThen",
    "OneHotEncoding",
    "OrdinalEncoding",
    "ResponsivenessExplainer",
    "ResponsivenessResult",
    "ResponsivenessSelector",
    "ThermometerEncoding",
    "best_linear_action",
    "compare_reasons",
    "german_action_set",
    "reachable_set",
    "report_html",
    "responsiveness_importances",
    "responsiveness_scores",
    "result_table",
    "select_rows",
    "taiwan_action_set",
]
