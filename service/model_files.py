"""Uploaded models: XGBoost JSON and LightGBM text, checked and loaded.

Nothing here unpickles: an XGBoost model is parsed as JSON and a LightGBM
model as text before either library sees it, and a file that is neither is
refused with a :class:`ModelFileError` (a 4xx for the API). Both libraries
are imported lazily; they come with the ``boost`` extra.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

XGBOOST_JSON, LIGHTGBM_TEXT = "xgboost-json", "lightgbm-text"
_XGBOOST_CLASSIFIERS = (
    "binary:logistic",
    "binary:logitraw",
    "binary:hinge",
    "multi:softprob",
    "multi:softmax",
)
_LIGHTGBM_CLASSIFIERS = ("binary", "multiclass", "multiclassova")
_LIGHTGBM_KEYS = ("version", "num_class", "max_feature_idx", "objective")


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


def describe_model(path: Path) -> ModelDescription:
    """Check that ``path`` is an XGBoost JSON or LightGBM text classifier.

    The format is read from the content; the model is then loaded once by
    its library, so that a file that passes is one a job can use.
    """
    with path.open("rb") as f:
        head = f.read(64).lstrip()
    if not head:
        raise ModelFileError("the uploaded model file is empty")
    if head.startswith(b"{"):
        description = _describe_xgboost(path)
    elif head.startswith(b"tree"):
        description = _describe_lightgbm(path)
    else:
        raise ModelFileError(
            "not a model this service reads: upload an XGBoost model saved as "
            "JSON (save_model('model.json')) or a LightGBM model saved as text "
            "(booster_.save_model('model.txt'))",
            status=415,
        )
    load_model(path, description.format)
    return description


def _describe_xgboost(path: Path) -> ModelDescription:
    try:
        learner = json.loads(path.read_bytes())["learner"]
        objective = learner["objective"]["name"]
        params = learner["learner_model_param"]
        n_features = int(params["num_feature"])
        n_classes = max(int(params.get("num_class", "0")), 2)
    except (ValueError, KeyError, TypeError) as exc:
        raise ModelFileError(
            f"not an XGBoost JSON model: {_reason(exc)}"
        ) from None
    if objective not in _XGBOOST_CLASSIFIERS:
        raise ModelFileError(
            f"the XGBoost model's objective {objective!r} is not a classifier; "
            f"expected one of {', '.join(_XGBOOST_CLASSIFIERS)}"
        )
    names = learner.get("feature_names") or None
    return ModelDescription(XGBOOST_JSON, objective, n_classes, n_features, names)


def _describe_lightgbm(path: Path) -> ModelDescription:
    header = _lightgbm_header(path)
    missing = [k for k in _LIGHTGBM_KEYS if k not in header]
    if missing:
        raise ModelFileError(
            f"not a LightGBM text model: its header lacks {', '.join(missing)}"
        )
    objective = header["objective"].split()[0] if header["objective"] else ""
    if objective not in _LIGHTGBM_CLASSIFIERS:
        raise ModelFileError(
            f"the LightGBM model's objective {objective!r} is not a classifier; "
            f"expected one of {', '.join(_LIGHTGBM_CLASSIFIERS)}"
        )
    try:
        n_features = int(header["max_feature_idx"]) + 1
        n_classes = max(int(header["num_class"]), 2)
    except ValueError as exc:
        raise ModelFileError(f"not a LightGBM text model: {exc}") from None
    names = header.get("feature_names", "").split() or None
    if names and all(n == f"Column_{i}" for i, n in enumerate(names)):
        names = None  # trained on an array: LightGBM made the names up
    return ModelDescription(LIGHTGBM_TEXT, objective, n_classes, n_features, names)


def _lightgbm_header(path: Path) -> dict[str, str]:
    """The ``key=value`` lines before the first tree."""
    header = {}
    try:
        with path.open(encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line.startswith("Tree="):
                    break
                key, sep, value = line.partition("=")
                if sep:
                    header[key] = value
    except UnicodeDecodeError:
        raise ModelFileError("not a LightGBM text model: it is not UTF-8") from None
    return header


def load_model(path: Path, fmt: str):
    """A classifier with ``predict`` and ``classes_`` from a checked file."""
    if fmt == XGBOOST_JSON:
        xgboost = _import("xgboost")
        model = xgboost.XGBClassifier()
        try:
            model.load_model(bytearray(path.read_bytes()))
        except xgboost.core.XGBoostError as exc:
            raise ModelFileError(
                f"XGBoost cannot load the model: {_reason(exc)}"
            ) from None
        return model
    if fmt == LIGHTGBM_TEXT:
        lightgbm = _import("lightgbm")
        try:
            booster = lightgbm.Booster(model_str=path.read_text(encoding="utf-8"))
        except lightgbm.basic.LightGBMError as exc:
            raise ModelFileError(
                f"LightGBM cannot load the model: {_reason(exc)}"
            ) from None
        return LightGBMTextModel(booster)
    raise ValueError(f"unknown model format {fmt!r}")


class LightGBMTextModel:
    """A LightGBM booster read from text, predicting like ``LGBMClassifier``.

    The text format does not keep the original labels, so the classes are
    ``0 .. n_classes - 1``.
    """

    def __init__(self, booster):
        self.booster = booster
        n_classes = max(booster.num_model_per_iteration(), 2)
        self.classes_ = np.arange(n_classes)
        names = booster.feature_name()
        if not all(n == f"Column_{i}" for i, n in enumerate(names)):
            self.feature_names_in_ = np.asarray(names, dtype=object)

    def predict(self, X) -> np.ndarray:
        proba = self.booster.predict(X)
        if proba.ndim == 1:  # binary: the probability of class 1
            return (proba > 0.5).astype(np.int64)
        return np.argmax(proba, axis=1)


def _import(name: str):
    try:
        return __import__(name)
    except ImportError as exc:
        raise ImportError(
            f"{name} models need the 'boost' extra: "
            "pip install 'featimp-toolkit[boost]'"
        ) from exc


def _reason(exc: Exception) -> str:
    """The first line of a library's message, without its stack trace."""
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
