"""Many small searches against one model, one ``predict`` per round.

A *search* is a generator that yields arrays of candidate points, is sent
back which of them the model predicts as the target, and returns its
answer. :func:`run_searches` keeps up to ``window`` searches open and, each
round, predicts the points of all of them in one call (in chunks of
:data:`CHUNK` points). A model with a per-call cost (a fitted pipeline, a
booster behind a DataFrame, HistGradientBoosting's thread start per tree)
pays it once per round instead of once per person and step; every search
sees exactly the hits it would see alone, so the answers are those of
running them one by one.
"""

from __future__ import annotations

import numpy as np

#: Points stacked into one ``predict`` call.
CHUNK = 200_000
#: Searches kept open at once.
WINDOW = 64


def target_hits(predict, target, points: np.ndarray) -> np.ndarray:
    """Which ``points`` ``predict`` gives ``target``, :data:`CHUNK` at a time."""
    out = np.empty(len(points), dtype=bool)
    for start in range(0, len(points), CHUNK):
        sl = slice(start, start + CHUNK)
        out[sl] = np.asarray(predict(points[sl])) == target
    return out


def run_searches(hits, searches, on_start=None) -> list:
    """Run ``searches`` side by side and return what each returns, in order.

    ``hits(points)`` answers the points of one round; ``on_start(i)``, if
    given, is called before the ``i``-th search starts (to bound caches).
    """
    window = WINDOW
    searches = iter(searches)
    results: list = []
    pending: dict[int, np.ndarray] = {}
    live: dict[int, object] = {}

    def advance(i, sent):
        try:
            pending[i] = live[i].send(sent)
        except StopIteration as stop:
            results[i] = stop.value
            del live[i]
            pending.pop(i, None)

    def refill():
        while len(live) < window:
            search = next(searches, None)
            if search is None:
                return
            if on_start is not None:
                on_start(len(results))
            results.append(None)
            live[len(results) - 1] = search
            advance(len(results) - 1, None)

    refill()
    while pending:
        order = list(pending)
        sizes = [len(pending[i]) for i in order]
        hit = hits(np.vstack([pending[i] for i in order]))
        for i, end, size in zip(order, np.cumsum(sizes), sizes, strict=True):
            advance(i, hit[end - size : end])
        refill()
    return results
