"""What every part of model checking shares: formats, errors and limits."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

XGBOOST_JSON, LIGHTGBM_TEXT = "xgboost-json", "lightgbm-text"
_XGBOOST_PREFIX = re.compile(r"^\[[\d:]+\] \S+:\d+: ")


class Malformed(ValueError):
    """What is wrong inside a model file; the checkers add where and which library."""


class ModelFileError(ValueError):
    """An upload that is not a usable model; ``status`` is the HTTP code."""

    def __init__(self, detail: str, *, status: int = 422):
        super().__init__(detail)
        self.status = status


@dataclass(frozen=True)
class ModelDescription:
    format: str
    objective: str
    n_classes: int
    n_features: int
    feature_names: list[str] | None


@dataclass(frozen=True)
class ModelLimits:
    """How large an uploaded model may be, and what its check may cost.

    Each field is the setting ``model_<field>`` (``FEATIMP_MODEL_<FIELD>``).

    Examples
    --------
    >>> from service.config import Settings
    >>> limits = ModelLimits.from_settings(Settings(model_max_trees=50))
    >>> limits.max_trees, limits.max_classes
    (50, 1000)
    """

    max_bytes: int
    max_trees: int
    max_nodes: int
    max_depth: int
    max_classes: int
    max_features: int
    sandbox_memory_mb: int
    sandbox_seconds: float

    @classmethod
    def from_settings(cls, settings) -> ModelLimits:
        return cls(
            **{f.name: getattr(settings, f"model_{f.name}") for f in fields(cls)}
        )


def over_limit(count: int, what: str, limit: int) -> ModelFileError:
    """The error for a model larger than a limit of the service."""
    return ModelFileError(
        f"the model has {count} {what}, more than this service's limit of {limit}"
    )


def reason(exc: BaseException) -> str:
    """The first line of a library's message, without its stack trace or
    XGBoost's ``[12:57:06] /path/of/its/source.cc:1078:`` prefix.

    Examples
    --------
    >>> reason(ValueError("[12:57:06] /src/tree_model.cc:1078: Check failed"))
    'Check failed'
    """
    text = str(exc).strip().splitlines()
    if not text:
        return type(exc).__name__
    return _XGBOOST_PREFIX.sub("", text[0])[:300]
