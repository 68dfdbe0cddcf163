"""Baseline importance methods users already trust, on the featimp selector API.

Each module holds one method: a pure ``<name>_importances(X, y, ...)`` score
function and a thin selector around it. The boosted models and SHAP are
optional dependencies, imported only when used (extras ``boost`` and
``shap``).
"""

from featimp.baselines._gain import GainSelector, gain_importances
from featimp.baselines._lasso import LassoSelector, lasso_importances
from featimp.baselines._permutation import (
    PermutationSelector,
    permutation_importances,
)
from featimp.baselines._shap import ShapSelector, mean_abs_shap, shap_importances
from featimp.baselines._svm_rfe import SVMRFESelector, svm_rfe_importances

__all__ = [
    "GainSelector",
    "LassoSelector",
    "PermutationSelector",
    "SVMRFESelector",
    "ShapSelector",
    "gain_importances",
    "lasso_importances",
    "mean_abs_shap",
    "permutation_importances",
    "shap_importances",
    "svm_rfe_importances",
]
