"""A job's progress, moved by the library's tracked loops.

Inside :func:`following`, every loop featimp tracks (KAN networks, stability
and consensus resamples, significance refits, mRMR steps, batches of
explained rows: ``featimp.listen_progress``) moves the job's progress
between two fractions, with the loop's stage in the job's ``stage``. A
report is a database write, so they are at most :data:`REPORT_EVERY`
seconds apart; the job's progress callable raises ``JobStopped`` for a job
that was canceled meanwhile, which stops the fit at its next step.
"""

from __future__ import annotations

import time
from contextlib import contextmanager

from featimp import listen_progress

#: Seconds between two progress writes of one job.
REPORT_EVERY = 0.5


@contextmanager
def following(progress, start: float, end: float, label: str):
    """Map the library's progress inside the block onto ``[start, end]`` of
    the job's, as ``progress(fraction, "label: stage")``."""
    last = -float("inf")

    def report(step) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last < REPORT_EVERY and step.fraction < 1:
            return
        last = now
        stage = f"{label}: {step.describe()}" if step.stage else label
        progress(start + (end - start) * step.fraction, stage)

    with listen_progress(report):
        yield
