"""Load a checked model file with its library, as jobs and the sandbox do.

Both libraries are imported lazily; they come with the ``boost`` extra.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from service.model_files._common import (
    LIGHTGBM_TEXT,
    XGBOOST_JSON,
    ModelFileError,
    reason,
)


def load_model(path: Path, fmt: str):
    """A classifier with ``predict`` and ``classes_`` from a checked file.

    Only for files that passed :func:`~service.model_files.describe_model`:
    the libraries crash on malformed ones.
    """
    if fmt == XGBOOST_JSON:
        xgboost = import_booster("xgboost")
        model = xgboost.XGBClassifier()
        try:
            model.load_model(bytearray(path.read_bytes()))
        except xgboost.core.XGBoostError as exc:
            raise ModelFileError(
                f"XGBoost cannot load the model: {reason(exc)}"
            ) from None
        return model
    if fmt == LIGHTGBM_TEXT:
        lightgbm = import_booster("lightgbm")
        try:
            booster = lightgbm.Booster(model_str=path.read_text(encoding="utf-8"))
        except lightgbm.basic.LightGBMError as exc:
            raise ModelFileError(
                f"LightGBM cannot load the model: {reason(exc)}"
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

    @property
    def booster_(self):
        """The booster under ``LGBMClassifier``'s name, so that featimp reads
        its split thresholds (and scores responsiveness on them alone)."""
        return self.booster

    def predict(self, X) -> np.ndarray:
        proba = self.booster.predict(X)
        if proba.ndim == 1:  # binary: the probability of class 1
            return (proba > 0.5).astype(np.int64)
        return np.argmax(proba, axis=1)


def import_booster(name: str):
    """``xgboost`` or ``lightgbm``, or an ImportError naming the extra."""
    try:
        return __import__(name)
    except ImportError as exc:
        raise ImportError(
            f"{name} models need the 'boost' extra: "
            "pip install 'featimp-toolkit[boost]'"
        ) from exc
