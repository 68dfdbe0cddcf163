"""Apply fitted selectors in worker processes, never in the web process.

A selector's joblib file is a pickle, and loading a pickle runs whatever code
it names. The service writes these files itself (a ``select`` job's worker)
and never accepts one uploaded, but the web process holds the API keys and
every open request: it should not unpickle anything, and a selector that
crashes or exhausts memory while it loads or transforms must not take the
service with it. So ``POST /v1/selectors/{id}/transform`` hands the work to
a :class:`TransformPool`: long-lived processes, forked from the forkserver
that job workers come from, each of which loads the selector, reduces the
dataset and writes the CSV or Parquet file that the route then sends.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from service.pools import LazyProcessPool
from service.rlimits import clear_wall, limit_wall
from service.store import Store
from service.store.datasets import DatasetRecord
from service.store.selectors import SelectorRecord

log = logging.getLogger("service.transforms")

#: A transform worker is replaced after this many transforms (memory).
MAX_TRANSFORMS_PER_WORKER = 100
_WATCHDOG_SECONDS = 0.5


class TransformRejected(ValueError):
    """The dataset does not fit the selector; ``field`` names the field."""

    def __init__(self, field: str, detail: str):
        super().__init__(detail)
        self.field = field
        self.detail = detail


class TransformFailed(RuntimeError):
    """The worker process died while it applied the selector."""


class TransformPool(LazyProcessPool):
    """Up to ``workers`` transforms at once, each in a worker process.

    Workers start with the first transform, and a pool whose worker died
    (killed, out of memory, a crash in a library, past ``seconds`` of
    wall-clock time: the job deadline, 0 or None for none) is replaced for
    the next.
    """

    def __init__(self, *, workers: int = 1, seconds: float | None = None):
        self.workers = workers
        self.seconds = seconds or None
        super().__init__()

    def _make(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("forkserver"),
            initializer=_exit_with_parent,
            initargs=(os.getpid(),),
            max_tasks_per_child=MAX_TRANSFORMS_PER_WORKER,
        )

    def transform(
        self,
        *,
        store: Store,
        selector: SelectorRecord,
        dataset: DatasetRecord,
        fmt: str,
    ) -> Path:
        """Write the dataset reduced by the selector to a temporary file.

        Raises :class:`TransformRejected` when the dataset lacks the
        selector's columns, FileNotFoundError when either was deleted
        meanwhile, and :class:`TransformFailed` when the worker died.
        """
        path = store.temp_path(f".{fmt}")
        pool = self._current()
        try:
            outcome = pool.submit(
                transform_in_worker,
                str(store.data_dir),
                selector,
                dataset,
                fmt,
                str(path),
                self.seconds,
            ).result()
        except BrokenProcessPool:
            log.error("a transform worker died applying selector %s", selector.id)
            path.unlink(missing_ok=True)
            self._discard(pool)
            limit = ""
            if self.seconds:
                limit = f" (or ran past the {self.seconds:g} s job deadline)"
            raise TransformFailed(
                f"the worker process applying the selector died{limit}; see the logs"
            ) from None
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        if outcome is not None:
            path.unlink(missing_ok=True)
            kind, *details = outcome
            if kind == "gone":
                raise FileNotFoundError(details[0])
            raise TransformRejected(*details)
        return path


def transform_in_worker(
    data_dir: str,
    selector: SelectorRecord,
    dataset: DatasetRecord,
    fmt: str,
    out: str,
    seconds: float | None = None,
) -> tuple | None:
    """In a worker: reduce the dataset and write it to ``out``, within
    ``seconds`` of wall-clock time (the worker ends past them).

    Returns None, or what went wrong as plain data: ``("rejected", field,
    detail)`` or ``("gone", what)``. (The jobs' exceptions do not survive
    pickling back to the web process.)
    """
    from service import jobs

    if seconds:
        limit_wall(seconds)
    try:
        store = Store(Path(data_dir))
        try:
            frame = jobs.transform_dataset(
                store=store, selector=selector, dataset=dataset
            )
        except jobs.JobRejected as exc:
            return ("rejected", exc.field, exc.detail)
        except FileNotFoundError:
            return ("gone", "the dataset or the selector")
        if fmt == "csv":
            frame.to_csv(out, index=False)
        else:
            frame.to_parquet(out, index=False)
        return None
    finally:
        clear_wall()


def _exit_with_parent(parent_pid: int) -> None:
    """Exit when the service process is gone, so no worker outlives it
    (its parent is the forkserver, which does not stop its children)."""

    def watch():
        while True:
            time.sleep(_WATCHDOG_SECONDS)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(3)

    threading.Thread(target=watch, daemon=True, name="featimp-watchdog").start()
