"""A process pool started on first use and replaced after a worker dies."""

from __future__ import annotations

import threading
from concurrent.futures import ProcessPoolExecutor


class LazyProcessPool:
    """Holds one :class:`ProcessPoolExecutor`, made by :meth:`_make` when
    first needed; :meth:`_discard` drops a broken one so the next call
    starts afresh, and :meth:`shutdown` stops it for good."""

    def __init__(self) -> None:
        self._pool: ProcessPoolExecutor | None = None
        self._lock = threading.Lock()

    def _make(self) -> ProcessPoolExecutor:  # pragma: no cover - abstract
        raise NotImplementedError

    def _current(self) -> ProcessPoolExecutor:
        with self._lock:
            if self._pool is None:
                self._pool = self._make()
            return self._pool

    def _discard(self, pool: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is pool:
                self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def shutdown(self) -> None:
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)
