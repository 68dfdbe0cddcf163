"""The training loop (featimp/kan/_train.py): early stopping, sparsity,
progress."""

import numpy as np
import pytest

pytest.importorskip("torch")

from featimp.kan import KANClassifier, KANRegressor
from tests._kan import TINY


def test_early_stopping_stops_and_keeps_best(diabetes):
    X, y = diabetes
    reg = KANRegressor(
        **{**TINY, "max_iter": 200}, early_stopping=True, n_iter_no_change=3
    ).fit(X, y)
    assert reg.n_iter_ < 200
    assert len(reg.loss_curve_) == reg.n_iter_


def test_sparsity_shrinks_unused_inputs(cancer):
    X, y = cancer
    X = X.iloc[:, :5].assign(noise=np.random.default_rng(0).normal(size=len(X)))
    norms = []
    for sparsity in (0.0, 0.05):
        clf = KANClassifier(**{**TINY, "sparsity": sparsity}).fit(X, y)
        norms.append(clf.network_.layers[0].group_norms().detach().numpy())
    assert norms[1][-1] < norms[0][-1]


def test_verbose_shows_progress(cancer, capsys):
    X, y = cancer
    KANClassifier(**{**TINY, "max_iter": 2, "verbose": True}).fit(X, y)
    assert "KAN" in capsys.readouterr().err
