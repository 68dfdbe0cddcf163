"""Uploaded models: XGBoost JSON and LightGBM text, checked and loaded.

Nothing here unpickles, and the web process never hands an upload to a
booster library: :func:`describe_model` checks the structure of the file
in pure Python (sizes, counts, nesting, every index a tree holds, within
:class:`ModelLimits`), then loads it and predicts a few rows in a sandboxed
process with memory and time limits. A file that fails either is refused
with a :class:`ModelFileError` (a 4xx for the API). Jobs load checked files
with :func:`load_model`.
"""

from service.model_files._common import (
    LIGHTGBM_TEXT,
    XGBOOST_JSON,
    ModelDescription,
    ModelFileError,
    ModelLimits,
)
from service.model_files._describe import describe_model, model_format
from service.model_files._loading import LightGBMTextModel, import_booster, load_model

__all__ = [
    "LIGHTGBM_TEXT",
    "XGBOOST_JSON",
    "LightGBMTextModel",
    "ModelDescription",
    "ModelFileError",
    "ModelLimits",
    "describe_model",
    "import_booster",
    "load_model",
    "model_format",
]
