"""Where jobs run: a local process pool (default) or a Dask cluster.

Both take job ids; the job itself (:func:`service.jobs.run_job`) reads its
request from the store and records its own progress and outcome, so the web
process only hands out ids, watches the limits and cancels.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import signal
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from service import jobs
from service.diskspace import is_disk_full, release_reserve
from service.problem_details import problem
from service.scheduling import FairQueue
from service.store import Store
from service.store import jobs as job_store

log = logging.getLogger("service.executors")

_WATCHDOG_SECONDS = 0.5
#: How often a slot looks at its running job (deadline, memory, cancel).
_TICK_SECONDS = 0.1
#: How long an idle slot waits before it looks at the queue again anyway.
_POLL_SECONDS = 1.0
#: After a slot could not start a worker: the first and the longest wait.
_BACKOFF_SECONDS = (0.5, 10.0)
_WORKER_START_SECONDS = 120
#: How often failures that could not be written are tried again.
_RECORD_RETRY_SECONDS = 1.0
# glibc's mallopt parameters, and how much freed memory a worker may keep.
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_RETAIN_BYTES = 256 * 1024**2
_PENDING = object()


@dataclass(frozen=True)
class JobLimits:
    """What a job may take, and how long a worker told to stop has."""

    deadline_seconds: float | None = None
    memory_bytes: int | None = None
    cancel_grace_seconds: float = 5.0

    @classmethod
    def from_settings(cls, settings) -> JobLimits:
        return cls(
            deadline_seconds=settings.job_deadline_seconds or None,
            memory_bytes=settings.job_memory_mb * 1024**2 or None,
            cancel_grace_seconds=settings.cancel_grace_seconds,
        )

    def deadline_error(self) -> dict:
        return problem(
            422,
            "Job failed: deadline exceeded",
            f"the job exceeded its deadline of {self.deadline_seconds:g} s "
            "(FEATIMP_JOB_DEADLINE_SECONDS) and was stopped; give it fewer "
            "rows or features, or lighter parameters",
        )

    def memory_error(self, used: int) -> dict:
        return problem(
            422,
            "Job failed: memory limit exceeded",
            f"the job exceeded the memory limit of {self.memory_bytes // 1024**2} "
            f"MiB (FEATIMP_JOB_MEMORY_MB; it had taken {used // 1024**2} MiB) and "
            "was stopped; give it fewer rows or features, or lighter parameters",
        )


@dataclass(frozen=True)
class Capacity:
    """What an executor can run now, for ``/healthz`` and ``/readyz``."""

    workers: int
    workers_alive: int
    draining: bool


class Executor(Protocol):
    """What the service asks of an executor: :class:`LocalProcessExecutor`
    or :class:`DaskExecutor`."""

    name: str
    workers: int

    def submit(self, job_id: str) -> None:
        """Run a job that is queued in the store already."""

    def cancel(self, job_id: str) -> None:
        """Stop a job that the store has marked canceled."""

    def capacity(self) -> Capacity: ...

    def shutdown(self) -> None:
        """Drain: no job starts any more; the rest go back to the queue."""


class LocalProcessExecutor:
    """At most ``workers`` jobs at once, each in a worker process of its own.

    Workers are long-lived: a forkserver that has imported featimp starts
    them once, and each runs one job after another. A fresh process per job
    paid for its start, its first SQLite connection and the first touch of
    every page a fit allocates: the 100,000 x 50 MI job of the benchmark took
    0.4-0.9 s in a fresh process and 0.2 s in a warm worker.

    Each worker has a *slot*: a thread that claims the next queued job (keys
    take turns, see :class:`~service.scheduling.FairQueue`), hands it to its
    worker and watches it. Whatever ends a worker (a cancel, a crash, the
    OOM killer, a full disk), its slot records why and starts another one,
    retrying with a backoff while the OS refuses; a slot never dies. The slot
    stops a job past its deadline or memory limit (``limits``), and a
    canceled one, with SIGTERM, then SIGKILL after the grace period. Workers
    also retire after ``max_jobs_per_worker`` jobs, which gives back whatever
    memory a library keeps.

    :meth:`shutdown` drains: no job starts any more, running ones have
    ``drain_seconds`` to finish, and the rest go back to the queue.
    """

    name = "local"

    def __init__(
        self,
        *,
        store: Store,
        workers: int,
        max_jobs_per_worker: int = 100,
        limits: JobLimits | None = None,
        max_running_per_owner: int | None = None,
        drain_seconds: float = 0.0,
        replica: str | None = None,
    ):
        self.store = store
        self.workers = workers
        self.replica = replica
        self.max_jobs_per_worker = max_jobs_per_worker
        self.limits = limits or JobLimits()
        self.drain_seconds = drain_seconds
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(["service.jobs", "service.executors"])
        self._queue = FairQueue(store, max_running_per_owner=max_running_per_owner)
        self._wake = threading.Condition()
        self._submitted = 0
        self._draining = threading.Event()
        self._unrecorded: dict[str, tuple[str, dict]] = {}
        self._unrecorded_lock = threading.Lock()
        self._last_record_try = 0.0
        self._slots = [_Slot(self, i) for i in range(workers)]
        for slot in self._slots:
            slot.thread.start()

    def submit(self, job_id: str) -> None:
        """Wake a free slot: the job is queued in the store already."""
        self._notify()

    def _notify(self) -> None:
        with self._wake:
            self._submitted += 1
            self._wake.notify_all()

    def cancel(self, job_id: str) -> None:
        """Stop a running job now; a queued one is skipped when its turn comes."""
        for slot in self._slots:
            slot.stop_job(job_id)

    def capacity(self) -> Capacity:
        alive = sum(slot.alive for slot in self._slots)
        return Capacity(self.workers, alive, self._draining.is_set())

    def shutdown(self) -> None:
        """Drain: start nothing, wait for running jobs, requeue the rest."""
        self._draining.set()
        self._notify()
        deadline = time.monotonic() + self.drain_seconds
        for slot in self._slots:
            slot.thread.join(max(0.0, deadline - time.monotonic()))
        for slot in self._slots:
            slot.requeue_job()
        for slot in self._slots:
            slot.thread.join(self.limits.cancel_grace_seconds + 10)
        self._record_failures(force=True)

    # -- used by the slots --------------------------------------------------

    def _claim(self) -> tuple[str, str] | None:
        if self._draining.is_set():
            return None
        lease = uuid.uuid4().hex
        job_id = self._queue.claim(
            lease=lease, executor=self.name, replica=self.replica
        )
        return None if job_id is None else (job_id, lease)

    def _wait_for_work(self, seen: int) -> None:
        with self._wake:
            if self._submitted == seen and not self._draining.is_set():
                self._wake.wait(_POLL_SECONDS)

    def _fail(self, job_id: str, lease: str, error: dict) -> None:
        """Fail a job running under ``lease``; if that cannot be written
        (the disk is full), keep trying until it can."""
        try:
            job_store.fail_job(
                store=self.store, job_id=job_id, lease=lease, error=error
            )
        except Exception as exc:
            if is_disk_full(exc):
                release_reserve(self.store.data_dir)
            log.warning("could not record the end of job %s yet: %s", job_id, exc)
            with self._unrecorded_lock:
                self._unrecorded[job_id] = (lease, error)

    def _record_failures(self, *, force: bool = False) -> None:
        now = time.monotonic()
        with self._unrecorded_lock:
            if not self._unrecorded or (
                not force and now - self._last_record_try < _RECORD_RETRY_SECONDS
            ):
                return
            self._last_record_try = now
            pending, self._unrecorded = self._unrecorded, {}
        for job_id, (lease, error) in pending.items():
            self._fail(job_id, lease, error)


@dataclass
class _Running:
    job_id: str
    lease: str
    started: float
    #: When a worker told to stop (SIGTERM) gets SIGKILL.
    kill_at: float | None = None


class _Slot:
    """One place for a job: a thread, its worker process, the job it runs."""

    def __init__(self, executor: LocalProcessExecutor, index: int):
        self.executor = executor
        self.worker: _Worker | None = None
        #: Whether the worker runs, as this slot's thread last saw it.
        self.alive = False
        self.job: _Running | None = None
        self._lock = threading.Lock()
        self.thread = threading.Thread(
            target=self._loop, name=f"featimp-slot-{index}", daemon=True
        )

    def _loop(self) -> None:
        executor = self.executor
        backoff = _BACKOFF_SECONDS[0]
        while not executor._draining.is_set():
            try:
                executor._record_failures()
                # Only this thread polls the process: two pollers could
                # each read half of its exit status.
                self.alive = self.worker is not None and self.worker.process.is_alive()
                if not self.alive:
                    self._replace_worker()
                seen = executor._submitted
                claimed = executor._claim()
                if claimed is None:
                    executor._wait_for_work(seen)
                    continue
                self._run_claimed(*claimed)
                backoff = _BACKOFF_SECONDS[0]
            except Exception:
                log.exception("job slot: retrying in %.1f s", backoff)
                executor._draining.wait(backoff)
                backoff = min(2 * backoff, _BACKOFF_SECONDS[1])
        self.alive = False
        if self.worker is not None:
            self.worker.stop()

    def _run_claimed(self, job_id: str, lease: str) -> None:
        try:
            self._run(job_id, lease)
        except Exception as exc:
            # Whatever went wrong here, the job must not stay running.
            detail = f"the service could not run the job ({type(exc).__name__})"
            self.executor._fail(job_id, lease, problem(500, "Job failed", detail))
            self.alive = False
            raise

    def _replace_worker(self) -> None:
        if self.worker is not None:
            self.worker.stop()
            self.worker = None
        executor = self.executor
        self.worker = _Worker(executor._context, executor.store, executor.limits)
        self.alive = True

    def _run(self, job_id: str, lease: str) -> None:
        executor, worker = self.executor, self.worker
        running = _Running(job_id, lease, time.monotonic())
        with self._lock:
            self.job = running
        try:
            if not worker.send(job_id, lease, executor.name):
                # The worker died while idle: the job never started.
                job_store.requeue_job(store=executor.store, job_id=job_id, lease=lease)
                return
            reply = self._watch(worker, running)
        finally:
            with self._lock:
                self.job = None
        if reply is None:
            # Canceled, stopped or crashed: a job that ended already stays so.
            reason = _exit_reason(worker.exitcode())
            executor._fail(job_id, lease, problem(500, "Job failed", reason))
            self.alive = False
            worker.stop()
            return
        _status, unrecorded = reply
        if unrecorded is not None:  # the worker could not write it
            executor._fail(job_id, lease, unrecorded)
        if worker.jobs >= executor.max_jobs_per_worker:
            self.alive = False
            worker.stop()

    def _watch(self, worker: _Worker, running: _Running):
        """The worker's reply; None if it died. Enforces the limits meanwhile."""
        limits = self.executor.limits
        baseline = worker.memory() if limits.memory_bytes else None
        while True:
            reply = worker.receive(_TICK_SECONDS)
            if reply is not _PENDING:
                return reply
            self.executor._record_failures()
            now = time.monotonic()
            if running.kill_at is not None:
                if now >= running.kill_at:
                    worker.kill()
                continue
            if (
                limits.deadline_seconds
                and now - running.started > limits.deadline_seconds
            ):
                self._stop(running, limits.deadline_error())
            elif baseline is not None:
                used = (worker.memory() or baseline) - baseline
                if used > limits.memory_bytes:
                    self._stop(running, limits.memory_error(used))

    def _stop(self, running: _Running, error: dict) -> None:
        """Fail the job first, so that its worker's end does not say why."""
        self.executor._fail(running.job_id, running.lease, error)
        with self._lock:
            self._terminate(running)

    def _terminate(self, running: _Running) -> None:
        # Under the lock: the worker cannot move on to another job meanwhile.
        if running.kill_at is None:
            self.worker.terminate()
            running.kill_at = (
                time.monotonic() + self.executor.limits.cancel_grace_seconds
            )

    def stop_job(self, job_id: str) -> None:
        with self._lock:
            if self.job is not None and self.job.job_id == job_id:
                self._terminate(self.job)

    def requeue_job(self) -> None:
        """Shutting down: put the running job back in the queue, then stop."""
        with self._lock:
            running = self.job
            if running is None:
                return
            try:
                job_store.requeue_job(
                    store=self.executor.store,
                    job_id=running.job_id,
                    lease=running.lease,
                )
                log.warning("job %s queued again for the next start", running.job_id)
            except Exception:  # pragma: no cover - the next start fails it
                log.exception("could not queue job %s again", running.job_id)
            self._terminate(running)


class _Worker:
    """One worker process and the pipe that hands it job ids.

    The process says it is ready once it runs; until then it is not counted.
    """

    def __init__(self, context, store: Store, limits: JobLimits):
        self._conn, child = context.Pipe()
        self.process = context.Process(
            target=serve_jobs,
            args=(
                child,
                str(store.data_dir),
                os.getpid(),
                limits.memory_bytes,
                store.database_url,
            ),
            name="featimp-worker",
            daemon=True,
        )
        self.process.start()
        child.close()
        self.jobs = 0
        if self.receive(_WORKER_START_SECONDS) != "ready":
            self.stop()
            raise RuntimeError(
                f"a worker process did not start ({_exit_reason(self.exitcode())})"
            )

    def send(self, job_id: str, lease: str, executor: str) -> bool:
        self.jobs += 1
        try:
            self._conn.send((job_id, lease, executor))
        except OSError:
            return False
        return True

    def receive(self, timeout: float):
        """The next message; ``_PENDING`` if none came, None if the worker died."""
        try:
            if self._conn.poll(timeout):
                return self._conn.recv()
        except (EOFError, OSError):
            return None
        # A process that ended with its pipe still open elsewhere is dead too.
        return _PENDING if self.process.is_alive() else None

    def memory(self) -> int | None:
        return _tree_rss(self.process.pid)

    def exitcode(self) -> int | None:
        self.process.join(timeout=5)
        return self.process.exitcode

    # Neither polls the process (its slot's thread does): a process already
    # reaped has its returncode, and is left alone.
    def terminate(self) -> None:
        self.process.terminate()

    def kill(self) -> None:
        self.process.kill()

    def stop(self) -> None:
        """Let the worker leave its loop; kill it if it does not."""
        try:
            self._conn.close()
        finally:
            self.process.join(timeout=5)
            self.kill()
            self.process.join(timeout=5)


def serve_jobs(
    conn,
    data_dir: str,
    parent_pid: int,
    memory_bytes: int | None = None,
    database_url: str | None = None,
) -> None:
    """The loop of a worker process: run each job id it is sent, in turn.

    Replies ``(status, error)``: ``error`` is the job's failure when the
    worker could not write it (a full disk), for the service to record.
    """
    # Out of the service's process group: a Ctrl-C is for the service,
    # which drains, not for the jobs.
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)
    _watch_parent(parent_pid)
    _keep_freed_memory()
    _limit_address_space(memory_bytes)
    # The service made the directories; a worker writes nothing to start.
    store = Store(Path(data_dir), database_url)
    conn.send("ready")
    while True:
        try:
            job_id, lease, executor = conn.recv()
        except EOFError:  # the service closed the pipe: retire
            return
        conn.send(_run_one(job_id, store, lease, executor, memory_bytes))


def _run_one(job_id, store: Store, lease, executor, memory_bytes):
    try:
        status = jobs.run_job(
            job_id,
            str(store.data_dir),
            lease,
            executor,
            store=store,
            claimed=True,
            memory_limit=memory_bytes,
        )
    except Exception as exc:  # writing the outcome failed
        return "failed", jobs.job_problem(exc, store.data_dir)
    return status, None


def _limit_address_space(memory_bytes: int | None) -> None:
    """A backstop under the slot's watch of memory: a single allocation far
    past the limit fails at once, as a MemoryError, instead of swapping the
    machine before the next look. Twice the limit, as threads reserve
    address space they never use."""
    if not memory_bytes:
        return
    try:
        import resource

        size = _status_kib(os.getpid(), "VmSize") * 1024 + 2 * memory_bytes
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        if hard != resource.RLIM_INFINITY:
            size = min(size, hard)
        resource.setrlimit(resource.RLIMIT_AS, (size, hard))
    except (ImportError, OSError, ValueError) as exc:  # pragma: no cover - not Linux
        log.warning("cannot limit the address space of a worker: %s", exc)


def _status_kib(pid: int, field: str) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/{pid}/status")


def _tree_rss(pid: int) -> int | None:
    """Resident memory of a process and its descendants (Linux); None elsewhere."""
    total, todo, seen = 0, [pid], set()
    while todo:
        current = todo.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            total += _status_kib(current, "VmRSS") * 1024
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except (OSError, ValueError):
            if current == pid:
                return None
    return total


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

    Keys take turns through task priorities: a key's n-th active job gets
    priority -n. A job past its deadline is failed at once and its task
    canceled; a task already running stops at its next progress report (a
    Dask worker thread cannot be killed), and memory is left to the
    cluster's own limits. :meth:`shutdown` drains as the local pool does.
    """

    name = "dask"

    def __init__(
        self,
        *,
        store: Store,
        address: str,
        workers: int,
        limits: JobLimits | None = None,
        drain_seconds: float = 0.0,
        replica: str | None = None,
    ):
        try:
            from distributed import Client, LocalCluster
        except ImportError as exc:  # pragma: no cover - depends on extras
            raise ImportError(
                "FEATIMP_DASK_ADDRESS needs the 'dask' extra: "
                "pip install 'featimp-toolkit[dask]'"
            ) from exc
        self.store = store
        self.workers = workers
        self.replica = replica
        self.limits = limits or JobLimits()
        self.drain_seconds = drain_seconds
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
        # The URL reaches the workers in a plugin, never in a task's
        # arguments (service/dask_secrets.py).
        self._database_key = None
        if store.database_url:
            from service.dask_secrets import DatabaseURL

            plugin = DatabaseURL(store.database_url)
            self._client.register_plugin(plugin)
            self._database_key = plugin.key
        self._futures: dict[str, tuple[object, str]] = {}
        self._lock = threading.Lock()
        self._draining = threading.Event()
        if self.limits.deadline_seconds:
            threading.Thread(
                target=self._watch_deadlines, name="featimp-dask-deadlines", daemon=True
            ).start()

    def submit(self, job_id: str) -> None:
        lease = uuid.uuid4().hex
        job = job_store.get_job(store=self.store, job_id=job_id)
        active = (
            job_store.count_active(store=self.store, owner=job.owner) if job else {}
        )
        future = self._client.submit(
            jobs.run_job_on_dask,
            job_id,
            str(self.store.data_dir),
            lease,
            replica=self.replica,
            database_key=self._database_key,
            key=f"featimp-job-{job_id}-{lease[:8]}",
            pure=False,
            priority=-sum(active.values()),
        )
        with self._lock:
            self._futures[job_id] = (future, lease)
        future.add_done_callback(lambda f: self._done(job_id, f))

    def _done(self, job_id: str, future) -> None:
        with self._lock:
            _, lease = self._futures.pop(job_id, (None, None))
        if future.status == "error":
            _fail_lost(
                self.store,
                job_id,
                f"the Dask task failed: {future.exception()!r}",
                lease=lease,
            )

    def _watch_deadlines(self) -> None:
        seconds = self.limits.deadline_seconds
        while not self._draining.wait(_WATCHDOG_SECONDS):
            before = datetime.now(UTC) - timedelta(seconds=seconds)
            try:
                overdue = job_store.running_since(
                    store=self.store,
                    executor=self.name,
                    before=before.isoformat(timespec="milliseconds"),
                )
                for job in overdue:
                    job_store.fail_job(
                        store=self.store,
                        job_id=job.id,
                        lease=job.lease,
                        error=self.limits.deadline_error(),
                    )
                    self.cancel(job.id)
            except Exception:
                log.exception("could not check the deadlines of Dask jobs")

    def cancel(self, job_id: str) -> None:
        """Drop a pending task; a running one stops at its next progress report."""
        with self._lock:
            future, _ = self._futures.get(job_id, (None, None))
        if future is not None:
            future.cancel()

    def capacity(self) -> Capacity:
        try:
            info = self._client.scheduler_info(n_workers=-1)
            alive = len(info.get("workers", {}))
        except Exception:  # the scheduler is unreachable
            alive = 0
        return Capacity(self.workers, alive, self._draining.is_set())

    def shutdown(self) -> None:
        """Drain: running tasks have ``drain_seconds``, the rest is requeued."""
        from distributed import wait

        self._draining.set()
        with self._lock:
            pending = dict(self._futures)
        if pending and self.drain_seconds:
            try:
                wait([f for f, _ in pending.values()], timeout=self.drain_seconds)
            except TimeoutError:
                pass
        with self._lock:
            pending = dict(self._futures)
        for job_id, (future, lease) in pending.items():
            # A job still queued stays so; a running one is queued again.
            job_store.requeue_job(store=self.store, job_id=job_id, lease=lease)
            future.cancel()
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


def _fail_lost(
    store: Store, job_id: str, detail: str, lease: str | None = None
) -> None:
    """Fail a job whose worker died; a job that recorded its end is left alone."""
    job_store.fail_job(
        store=store,
        job_id=job_id,
        lease=lease,
        error=problem(500, "Job failed", detail),
    )


def make_executor(settings, store: Store, *, replica: str | None = None):
    """The executor the settings ask for; its jobs are held by ``replica``."""
    limits = JobLimits.from_settings(settings)
    if settings.dask_address:
        return DaskExecutor(
            store=store,
            address=settings.dask_address,
            workers=settings.workers,
            limits=limits,
            drain_seconds=settings.shutdown_grace_seconds,
            replica=replica,
        )
    return LocalProcessExecutor(
        store=store,
        workers=settings.workers,
        max_jobs_per_worker=settings.max_jobs_per_worker,
        limits=limits,
        max_running_per_owner=settings.max_running_jobs_per_key,
        drain_seconds=settings.shutdown_grace_seconds,
        replica=replica,
    )
