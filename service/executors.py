"""Where jobs run: a local process pool (default) or a Dask cluster.

Both take job ids; the job itself (:func:`service.runner.run_job`) reads its
request from the store and records its own progress and outcome, so the web
process only hands out ids and cancels.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor

from service import runner
from service.store import Store
from service.store import jobs as job_store

log = logging.getLogger("service.executors")


class LocalProcessExecutor:
    """At most ``workers`` jobs at once, each in its own process.

    Processes come from a forkserver that has already imported featimp, so a
    job starts in milliseconds; one process per job means a job can be
    canceled by terminating it, and a job that crashes takes nothing else
    with it.
    """

    name = "local"

    def __init__(self, *, store: Store, workers: int):
        self.store = store
        self.workers = workers
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["service.runner"])
        self._threads = ThreadPoolExecutor(workers, thread_name_prefix="featimp-job")
        self._processes: dict[str, multiprocessing.Process] = {}
        self._lock = threading.Lock()
        # Boot the forkserver now, so that the first job does not wait for it.
        self._threads.submit(self._warm_up)

    def _warm_up(self) -> None:
        process = self._context.Process(target=runner.warm_up, name="featimp-warm-up")
        process.start()
        process.join()

    def submit(self, job_id: str) -> None:
        self._threads.submit(self._run, job_id)

    def _run(self, job_id: str) -> None:
        job = job_store.get_job(store=self.store, job_id=job_id)
        if job is None or job.status != "queued":
            return
        lease = uuid.uuid4().hex
        process = self._context.Process(
            target=runner.run_job,
            args=(job_id, str(self.store.data_dir), lease, self.name, os.getpid()),
            name=f"featimp-job-{job_id[:8]}",
        )
        with self._lock:
            self._processes[job_id] = process
        try:
            process.start()
            process.join()
        except Exception as exc:  # pragma: no cover - the OS refused a process
            log.exception("could not run job %s", job_id)
            _fail_lost(self.store, job_id, f"could not start a worker: {exc}")
            return
        finally:
            with self._lock:
                self._processes.pop(job_id, None)
        if process.exitcode != 0:
            _fail_lost(
                self.store,
                job_id,
                f"the worker process exited with code {process.exitcode}",
            )

    def cancel(self, job_id: str) -> None:
        """Stop a running job now; a queued one is skipped when its turn comes."""
        with self._lock:
            process = self._processes.get(job_id)
        if process is not None and process.is_alive():
            process.terminate()

    def shutdown(self) -> None:
        with self._lock:
            running = list(self._processes.values())
        for process in running:
            if process.is_alive():
                process.terminate()
        self._threads.shutdown(wait=True, cancel_futures=True)


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
    return LocalProcessExecutor(store=store, workers=settings.workers)
