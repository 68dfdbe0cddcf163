"""Parse uploaded tables in worker processes with hard limits.

An upload is untrusted bytes, and Arrow decodes whatever they describe: a
Parquet file of a few hundred KB can decode to gigabytes, a CSV header to a
hundred thousand columns. :mod:`service.tables` checks the limits before
and while it reads, and this module makes sure that whatever those checks
miss costs one upload, not the service: the web process never parses an
upload. A :class:`ParsePool` hands each to a long-lived worker, spawned (a
fresh interpreter that imports Arrow, not a fork of the threaded web
process) on the first upload, whose address space is capped
(``RLIMIT_AS``), whose CPU time is limited per upload (``RLIMIT_CPU``) and
whose wall-clock time per upload is :data:`WALL_FACTOR` times that (a
parse that blocks uses no CPU). Out of memory there is a 413; a worker that
dies (either time limit, a crash) is replaced, and the uploads it took with
it are tried once more.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict
from pathlib import Path

import pyarrow as pa

from service import tables
from service.pools import LazyProcessPool
from service.rlimits import clear_wall, limit_cpu, limit_memory, limit_wall
from service.tables import Limits, TableDescription, TableError
from service.transforms import _exit_with_parent

log = logging.getLogger("service.parsing")

#: A worker is replaced after this many uploads (memory fragmentation).
MAX_UPLOADS_PER_WORKER = 200
#: A parse's wall-clock limit, in multiples of its CPU limit: room for a
#: loaded machine, while a parse that hangs still ends.
WALL_FACTOR = 2
#: Arrow's threads in a worker: each reserves address space under the cap.
_ARROW_THREADS = 4


class ParsePool(LazyProcessPool):
    """Up to ``workers`` uploads parsed at once, each in a worker process.

    ``memory_mb`` caps a worker's address space, ``seconds`` the CPU time
    of one upload's parse (and :data:`WALL_FACTOR` times it its wall-clock
    time, counted from when the worker starts it).
    """

    def __init__(
        self, *, workers: int = 1, memory_mb: int = 2048, seconds: float = 120
    ):
        self.workers = workers
        self.memory_mb = memory_mb
        self.seconds = seconds
        super().__init__()

    @classmethod
    def from_settings(cls, settings) -> ParsePool:
        return cls(
            workers=settings.upload_workers,
            memory_mb=settings.upload_sandbox_memory_mb,
            seconds=settings.upload_sandbox_seconds,
        )

    def describe_and_store(
        self,
        upload: Path,
        dest: Path,
        *,
        max_rows: int,
        max_columns: int,
        max_bytes: int | None = None,
    ) -> TableDescription:
        """:func:`service.tables.describe_and_store` in a worker.

        Raises :class:`~service.tables.TableError` for a table refused there
        and for a worker that died parsing it (twice: a worker that dies
        takes the uploads of the others with it, so each gets a second try).
        """
        limits = Limits(max_rows, max_columns, max_bytes)
        for _ in range(2):
            pool = self._current()
            try:
                return pool.submit(
                    _parse_in_worker, upload, dest, limits, self.seconds, self.memory_mb
                ).result()
            except BrokenProcessPool:
                log.error("a worker died parsing an upload")
                tables.partial_path(dest).unlink(missing_ok=True)
                self._discard(pool)
        raise TableError(
            "the process parsing the upload died: it used more than this "
            f"service's limit of {self.seconds:g} s of CPU time, "
            f"{WALL_FACTOR * self.seconds:g} s of wall-clock time or "
            f"{self.memory_mb} MB of memory, or the file crashed the parser",
            status=413,
            title="Dataset too large",
        )

    def _make(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_start_worker,
            initargs=(os.getpid(), self.memory_mb),
            max_tasks_per_child=MAX_UPLOADS_PER_WORKER,
        )


def _start_worker(parent_pid: int, memory_mb: int) -> None:
    _exit_with_parent(parent_pid)
    pa.set_cpu_count(min(pa.cpu_count(), _ARROW_THREADS))
    pa.set_io_thread_count(_ARROW_THREADS)
    limit_memory(memory_mb)


def _parse_in_worker(
    upload: Path, dest: Path, limits: Limits, seconds: float, memory_mb: int
) -> TableDescription:
    limit_cpu(seconds, renewable=True)
    limit_wall(WALL_FACTOR * seconds)
    try:
        return tables.describe_and_store(upload, dest, **asdict(limits))
    except MemoryError:
        raise tables.too_large(
            f"parsing the upload needed more memory than this service's limit "
            f"of {memory_mb} MB"
        ) from None
    finally:
        clear_wall()
