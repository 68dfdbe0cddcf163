"""Where jobs run: a local process pool (default) or a Dask cluster.

Both take job ids; the job itself (:func:`service.runner.run_job`) reads its
request from the store and records its own progress and outcome, so the web
process only hands out ids and cancels.
"""

from __future__ import annotations

import ctypes
import logging
import multiprocessing
import os
import queue
import signal
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from service import runner
from service.store import Store, open_store
from service.store import jobs as job_store

log = logging.getLogger("service.executors")

_WATCHDOG_SECONDS = 0.5
# glibc's mallopt parameters, and how much freed memory a worker may keep.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_RETAIN_BYTES = 256 * 1024**2


class LocalProcessExecutor:
    """At most ``workers`` jobs at once, each in a worker process of its own.

    Workers are long-lived: a forkserver that has imported featimp starts
    them once, and each runs one job after another. A fresh process per job
    paid for its start, its first SQLite connection and the first touch of
    every page a fit allocates: the 100,000 x 50 MI job of the benchmark took
    0.4-0.9 s in a fresh process and 0.2 s in a warm worker. Isolation
    stays: canceling a running job terminates its worker, a worker that
    crashes fails only its own job, and either is replaced by a new one.
    Workers also retire after ``max_jobs_per_worker`` jobs, which gives back
    whatever memory a library keeps.
    """

    name = "local"

    def __init__(self, *, store: Store, workers: int, max_jobs_per_worker: int = 100):
        self.store = store
        self.workers = workers
        self.max_jobs_per_worker = max_jobs_per_worker
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["service.runner", "service.executors"])
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="featimp-job")
        # Last in, first out: the next job goes to the worker whose memory
        # the last job has already faulted in.
        self._idle: queue.LifoQueue[_Worker] = queue.LifoQueue()
        self._running: dict[str, _Worker] = {}
        self._lock = threading.Lock()
        self._closed = False
        # Start the workers now, so that the first job does not wait for them.
        for _ in range(workers):
            self._threads.submit(self._add_worker)

    def _add_worker(self) -> None:
        try:
            self._idle.put(_Worker(self._context, self.store.data_dir))
        except Exception:  # pragma: no cover - the OS refused a process
            log.exception("could not start a worker process")

    def submit(self, job_id: str) -> None:
        self._threads.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        job = job_store.get_job(store=self.store, job_id=job_id)
        if job is None or job.status != "queued":
            return
        worker = self._take_worker()
        if worker is None:  # shutting down: the job stays queued for a restart
            return
        with self._lock:
            self._running[job_id] = worker
        try:
            outcome = worker.run(job_id, uuid.uuid4().hex, self.name)
        finally:
            with self._lock:
                self._running.pop(job_id, None)
        if outcome is None:
            # Canceled (terminated) or crashed: a failed job stays canceled.
            _fail_lost(self.store, job_id, _exit_reason(worker.exitcode()))
        if outcome is None or worker.jobs >= self.max_jobs_per_worker:
            worker.stop()
            if not self._closed:
                self._add_worker()
        else:
            self._idle.put(worker)

    def _take_worker(self) -> _Worker | None:
        while not self._closed:
            try:
                worker = self._idle.get(timeout=1)
            except queue.Empty:
                continue
            if worker.process.is_alive():
                return worker
            worker.stop()  # died while idle (say, the OOM killer): replace it
            self._add_worker()
        return None

    def cancel(self, job_id: str) -> None:
        """Stop a running job now; a queued one is skipped when its turn comes."""
        # Under the lock: the worker cannot move on to another job meanwhile.
        with self._lock:
            worker = self._running.get(job_id)
            if worker is not None:
                worker.terminate()

    def shutdown(self) -> None:
        self._closed = True
        with self._lock:
            running = list(self._running.values())
        for worker in running:
            worker.terminate()
        self._threads.shutdown(wait=True, cancel_futures=True)
        while not self._idle.empty():
            self._idle.get().stop()


class _Worker:
    """One worker process and the pipe that hands it job ids."""

    def __init__(self, context, data_dir: Path):
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=serve_jobs,
            args=(child, str(data_dir), os.getpid()),
            name="featimp-worker",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.jobs = 0

    def run(self, job_id: str, lease: str, executor: str) -> str | None:
        """The job's final status; None if the worker died before answering."""
        self.jobs += 1
        try:
            self._conn.send((job_id, lease, executor))
            return self._conn.recv()
        except (EOFError, OSError):
            return None

    def exitcode(self) -> int | None:
        self.process.join(timeout=5)
        return self.process.exitcode

    def terminate(self) -> None:
        if self.process.is_alive():
            self.process.terminate()

    def stop(self) -> None:
        """Let the worker leave its loop; terminate it if it does not."""
        try:
            self._conn.close()
        finally:
            self.process.join(timeout=5)
            self.terminate()


def serve_jobs(conn, data_dir: str, parent_pid: int) -> None:
    """The loop of a worker process: run each job id it is sent, in turn."""
    _watch_parent(parent_pid)
    _keep_freed_memory()
    store = open_store(data_dir)
    while True:
        try:
            job_id, lease, executor = conn.recv()
        except EOFError:  # the service closed the pipe: retire
            return
        conn.send(runner.run_job(job_id, data_dir, lease, executor, store=store))


def _keep_freed_memory() -> None:
    """Let glibc keep up to ``_RETAIN_BYTES`` of freed memory for the next job.

    By default glibc maps every array over 32 MiB afresh and unmaps it when
    freed, so each job faulted in again every page it touched: a fifth of a
    100,000 x 50 MI fit. Workers are replaced after ``max_jobs_per_worker``
    jobs, which bounds what fragmentation can hold on to.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc: its allocator needs no help here
        return
    libc.mallopt(_M_MMAP_THRESHOLD, _RETAIN_BYTES)
    libc.mallopt(_M_TRIM_THRESHOLD, _RETAIN_BYTES)


def _watch_parent(parent_pid: int) -> None:
    """Exit when the service process is gone, so no job outlives it."""

    def watch():
        while True:
            time.sleep(_WATCHDOG_SECONDS)
            try:
                os.kill(parent_pid, 0)
            except ProcessLookupError:
                os._exit(3)

    threading.Thread(target=watch, daemon=True, name="featimp-watchdog").start()


class DaskExecutor:
    """Jobs as tasks on a Dask cluster through ``distributed.Client``.

    ``address="local"`` starts a ``LocalCluster`` in the service. The data
    directory must be on a filesystem the workers see. Inside a job, joblib
    work runs on the cluster through joblib's Dask backend.
    """

    name = "dask"

    def __init__(self, *, store: Store, address: str, workers: int):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on extras
            raise ImportError(
                "FEATIMP_DASK_ADDRESS needs the 'dask' extra: "
                "pip install 'featimp-toolkit[dask]'"
            ) from exc
        self.store = store
        self.workers = workers
        self._cluster = None
        if address == "local":
            self._cluster = LocalCluster(
                n_workers=workers,
                threads_per_worker=1,
                host="127.0.0.1",
                dashboard_address=None,
            )
            address = self._cluster.scheduler_address
        self._client = Client(address, set_as_default=False)
        self._futures: dict[str, object] = {}
        self._lock = threading.Lock()

    def submit(self, job_id: str) -> None:
        lease = uuid.uuid4().hex
        future = self._client.submit(
            runner.run_job_on_dask,
            job_id,
            str(self.store.data_dir),
            lease,
            key=f"featimp-job-{job_id}-{lease[:8]}",
            pure=False,
        )
        with self._lock:
            self._futures[job_id] = future
        future.add_done_callback(lambda f: self._done(job_id, f))

    def _done(self, job_id: str, future) -> None:
        with self._lock:
            self._futures.pop(job_id, None)
        if future.status == "error":
            _fail_lost(
                self.store, job_id, f"the Dask task failed: {future.exception()!r}"
            )

    def cancel(self, job_id: str) -> None:
        """Drop a pending task; a running one stops at its next progress report."""
        with self._lock:
            future = self._futures.get(job_id)
        if future is not None:
            future.cancel()

    def shutdown(self) -> None:
        self._client.close()
        if self._cluster is not None:
            self._cluster.close()


def _exit_reason(code: int | None) -> str:
    """Why a worker ended, e.g. killed by SIGSEGV (a model crashing XGBoost).

    Examples
    --------
    >>> _exit_reason(-11)
    'the worker process was killed by SIGSEGV'
    >>> _exit_reason(3)
    'the worker process exited with code 3'
    """
    if code is not None and code < 0:
        try:
            return f"the worker process was killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"the worker process was killed by signal {-code}"
    return f"the worker process exited with code {code}"


def _fail_lost(store: Store, job_id: str, detail: str) -> None:
    """Fail a job whose worker died; a job that recorded its end is left alone."""
    job_store.fail_job(
        store=store,
        job_id=job_id,
        error={
            "type": "about:blank",
            "title": "Job failed",
            "status": 500,
            "detail": detail,
        },
    )


def make_executor(settings, store: Store):
    """The executor the settings ask for."""
    if settings.dask_address:
        return DaskExecutor(
            store=store, address=settings.dask_address, workers=settings.workers
        )
    return LocalProcessExecutor(
        store=store,
        workers=settings.workers,
        max_jobs_per_worker=settings.max_jobs_per_worker,
    )
