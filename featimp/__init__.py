"""featimp: feature importance and selection for tabular data.

Each method is a pure score function returning one importance per feature
(bigger is more important) and a scikit-learn selector wrapping it.
"""

from featimp import _streamed_fit  # noqa: F401  (selectors fit datasets by streaming)
from featimp._base import BaseImportanceSelector
from featimp._centrality import (
    EigenvectorCentralitySelector,
    InfFSSelector,
    eigenvector_centrality_importances,
    inffs_importances,
)
from featimp._consensus import (
    ConsensusSelector,
    aggregate_ranks,
    consensus_importances,
)
from featimp._function import FunctionSelector
from featimp._mutual_info import (
    MRMRSelector,
    MutualInfoSelector,
    mrmr_importances,
    mutual_info_importances,
)
from featimp._progress import Progress, listen_progress
from featimp._significance import SignificanceSelector, significance_importances
from featimp._stability import (
    StabilityResult,
    bootstrap_stability,
    kuncheva_index,
    mean_jaccard,
)
from featimp._streaming import rank_dataset
from featimp.baselines import (
    GainSelector,
    LassoSelector,
    PermutationSelector,
    ShapSelector,
    SVMRFESelector,
)
from featimp.kan import KANClassifier, KANRegressor, KANSelector, kan_importances
from featimp.recourse import (
    ActionSet,
    ResponsivenessExplainer,
    ResponsivenessSelector,
    responsiveness_scores,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "ActionSet",
    "BaseImportanceSelector",
    "ConsensusSelector",
    "EigenvectorCentralitySelector",
    "FunctionSelector",
    "GainSelector",
    "InfFSSelector",
    "KANClassifier",
    "KANRegressor",
    "KANSelector",
    "LassoSelector",
    "MRMRSelector",
    "MutualInfoSelector",
    "PermutationSelector",
    "Progress",
    "ResponsivenessExplainer",
    "ResponsivenessSelector",
    "SVMRFESelector",
    "ShapSelector",
    "SignificanceSelector",
    "StabilityResult",
    "__version__",
    "aggregate_ranks",
    "bootstrap_stability",
    "consensus_importances",
    "eigenvector_centrality_importances",
    "inffs_importances",
    "kan_importances",
    "kuncheva_index",
    "listen_progress",
    "mean_jaccard",
    "mrmr_importances",
    "mutual_info_importances",
    "rank_dataset",
    "responsiveness_scores",
    "significance_importances",
]
