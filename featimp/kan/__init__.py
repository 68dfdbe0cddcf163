"""Kolmogorov-Arnold networks as sklearn estimators, and KAN importances.

Nothing here imports torch until a network is trained: torch is the
optional ``kan`` extra (``pip install 'featimp-toolkit[kan]'``).
"""

from featimp.kan._estimators import KANClassifier, KANRegressor
from featimp.kan._selector import (
    KANSelector,
    kan_fit_importances,
    kan_importance_variants,
    kan_importances,
)

__all__ = [
    "KANClassifier",
    "KANRegressor",
    "KANSelector",
    "kan_fit_importances",
    "kan_importance_variants",
    "kan_importances",
]
