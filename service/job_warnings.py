"""The warnings each job raises, kept apart when jobs share a process.

:func:`warnings.catch_warnings` swaps process-wide state, so two jobs running
on threads of one Dask worker would record each other's warnings (and one
could restore the other's filters). :func:`capture` instead routes each
warning to the job of the thread that raised it. A warning from a thread no
job owns (joblib threads inside a job) goes to the only running job when
there is one, and to the process's usual handler when there are several.
"""

from __future__ import annotations

import threading
import warnings
from contextlib import contextmanager

_owned = threading.local()
_lock = threading.Lock()
_active: list[list] = []
_fallback = warnings.showwarning


@contextmanager
def capture():
    """Collect this thread's warnings (every ``UserWarning``, even repeats)."""
    _install()
    caught: list[warnings.WarningMessage] = []
    previous = getattr(_owned, "caught", None)
    _owned.caught = caught
    with _lock:
        _active.append(caught)
    try:
        yield caught
    finally:
        with _lock:
            _active.remove(caught)
        _owned.caught = previous


def _install() -> None:
    """Route warnings through :func:`_route`; again whenever something (a
    ``catch_warnings`` block that ended) put the process's handler back."""
    global _fallback
    with _lock:
        if warnings.showwarning is not _route:
            _fallback = warnings.showwarning
            warnings.showwarning = _route
        # "always": a job must see a warning that an earlier job in this
        # process already raised from the same line.
        warnings.filterwarnings("always", category=UserWarning)


def _route(message, category, filename, lineno, file=None, line=None):
    caught = getattr(_owned, "caught", None)
    if caught is None:
        with _lock:
            caught = _active[0] if len(_active) == 1 else None
    if caught is None:
        _fallback(message, category, filename, lineno, file, line)
        return
    caught.append(
        warnings.WarningMessage(message, category, filename, lineno, file, line)
    )
