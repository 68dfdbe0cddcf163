"""Uploaded models as a job loads them (service/model_files/_loading.py)."""

import numpy as np
import pytest

from featimp.recourse._thresholds import used_thresholds
from service.model_files import LIGHTGBM_TEXT
from service.model_files._loading import load_model

lightgbm = pytest.importorskip("lightgbm")


def test_an_uploaded_lightgbm_model_exposes_its_split_thresholds(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 4))
    y = (X[:, 0] + X[:, 2] > 0).astype(int)
    model = lightgbm.LGBMClassifier(n_estimators=20, verbose=-1).fit(X, y)
    path = tmp_path / "model.txt"
    model.booster_.save_model(str(path))
    loaded = load_model(path, LIGHTGBM_TEXT)
    ours, theirs = used_thresholds(loaded), used_thresholds(model)
    assert ours is not None and ours.keys() == theirs.keys()
    for j in theirs:
        np.testing.assert_array_equal(ours[j], theirs[j])
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
