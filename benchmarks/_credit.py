"""The bundled credit data as the KAN benchmarks use it (issue 17): German
credit in the responsiveness paper's 36-column encoding, and a fixed
3,000-row sample of Taiwan credit."""

from __future__ import annotations

import numpy as np

#: Rows of the Taiwan credit sample (the size issue 17 measures on).
TAIWAN_ROWS = 3000


def german_recourse() -> tuple[np.ndarray, np.ndarray]:
    from featimp.datasets import load_german_recourse

    X, y = load_german_recourse()
    return X.to_numpy(float), np.asarray(y)


def taiwan_sample() -> tuple[np.ndarray, np.ndarray]:
    from featimp.datasets import load_taiwan_recourse

    X, y = load_taiwan_recourse()
    rows = np.random.default_rng(0).choice(len(X), TAIWAN_ROWS, replace=False)
    return X.iloc[rows].to_numpy(float), np.asarray(y)[rows]
