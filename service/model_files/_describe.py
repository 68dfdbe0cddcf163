"""Check an upload: its format, its structure, then a trial in the sandbox."""

from __future__ import annotations

from pathlib import Path

from service.model_files._common import (
    LIGHTGBM_TEXT,
    XGBOOST_JSON,
    ModelDescription,
    ModelFileError,
    ModelLimits,
)
from service.model_files._lightgbm import check_lightgbm_text
from service.model_files._sandbox import probe_model
from service.model_files._xgboost import check_xgboost_json


def describe_model(
    path: Path, *, limits: ModelLimits | None = None
) -> ModelDescription:
    """Check that ``path`` is an XGBoost JSON or LightGBM text classifier.

    The format is read from the content, and the structure is checked in
    pure Python within ``limits`` (by default those of the settings); only
    then does the model's library load it, once, in a sandbox process
    that also predicts a few rows, so that a file that passes is one a job
    can use. Raises :class:`ModelFileError` (``status`` 413, 415 or 422).
    """
    if limits is None:
        from service.config import get_settings

        limits = ModelLimits.from_settings(get_settings())
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise ModelFileError(
            f"the model file has {size} bytes, more than this service's limit "
            f"of {limits.max_bytes}",
            status=413,
        )
    data = path.read_bytes()
    if model_format(data) == XGBOOST_JSON:
        description = check_xgboost_json(data, limits)
    else:
        description = check_lightgbm_text(data, limits)
    del data
    probe_model(path, description, limits)
    return description


def model_format(data: bytes) -> str:
    """:data:`XGBOOST_JSON` or :data:`LIGHTGBM_TEXT`, read from the start of
    a model file's content; a ModelFileError (415) for anything else.

    Examples
    --------
    >>> model_format(b'  {"learner": {}}')
    'xgboost-json'
    """
    head = data.lstrip()[:4]
    if not head:
        raise ModelFileError("the model file is empty")
    if head.startswith(b"{"):
        return XGBOOST_JSON
    if head.startswith(b"tree"):
        return LIGHTGBM_TEXT
    raise ModelFileError(
        "not a model this service reads: an XGBoost model saved as JSON "
        "(save_model('model.json')) or a LightGBM model saved as text "
        "(booster_.save_model('model.txt'))",
        status=415,
    )
