"""Runs a job to its end, in a worker process or on a Dask worker.

The executors call :func:`run_job` with a job id: it takes the job under its
lease, runs it (:mod:`service.jobs.rank` or
:mod:`service.jobs.responsiveness`), writes the result as Parquet beside the
database and records the outcome. Warnings raised during a job (such as
columns that cannot be used, which score 0) are kept on the job, one
message each.
"""

from __future__ import annotations

import json
import logging
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import joblib
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from featimp.methods import ranking_table
from service import job_warnings
from service.diskspace import HOW_TO_FREE, is_disk_full, release_reserve
from service.jobs import rank, responsiveness
from service.problem_details import problem
from service.schemas import MAX_JOB_WARNINGS
from service.store import Store
from service.store import jobs as job_store
from service.store.datasets import get_dataset
from service.store.db import redact_paths

log = logging.getLogger("service.jobs")


class JobStopped(Exception):
    """The job was canceled (or failed by a restart) while it ran."""


@dataclass
class _Progress:
    """Reports progress; raises JobStopped once the job is no longer ours."""

    store: Store
    job_id: str
    lease: str

    def __call__(self, fraction: float, stage: str) -> None:
        if not job_store.report_progress(
            store=self.store,
            job_id=self.job_id,
            lease=self.lease,
            progress=fraction,
            stage=stage,
        ):
            raise JobStopped(self.job_id)


def run_job(
    job_id: str,
    data_dir: str,
    lease: str,
    executor: str = "local",
    *,
    store: Store | None = None,
    claimed: bool = False,
    memory_limit: int | None = None,
    database_url: str | None = None,
    replica: str | None = None,
) -> str:
    """Run one job to its end and record the outcome; returns the final status.

    Every error of the job is recorded on it as problem details, never
    raised: a bad job cannot take its worker down. Only when even that
    record cannot be written (a full disk) does the error go to the caller.
    A worker that runs many jobs passes its open ``store`` (else the one of
    ``data_dir`` and ``database_url`` is used, which the service made); a
    ``claimed`` job was started under ``lease`` by the executor already,
    else it is started here, held by ``replica``.
    ``memory_limit`` (bytes) is named when the job runs out of memory.
    """
    store = store or Store(Path(data_dir), database_url)
    job = _take(store, job_id, lease, executor, claimed, replica)
    if job is None:
        return "skipped"
    started = time.perf_counter()
    try:
        with job_warnings.capture() as caught:
            result_rows, selector_id = _fit_and_write(
                store, job, _Progress(store, job_id, lease), executor
            )
    except JobStopped:
        return "canceled"
    except Exception as exc:
        error = job_problem(exc, store.data_dir, memory_limit=memory_limit)
        job_store.fail_job(store=store, job_id=job_id, lease=lease, error=error)
        return "failed"
    job_store.finish_job(
        store=store,
        job_id=job_id,
        lease=lease,
        result_rows=result_rows,
        selector_id=selector_id,
        warnings=warning_messages(caught),
    )
    log.info("job %s done in %.3fs", job_id, time.perf_counter() - started)
    return "succeeded"


def _take(store: Store, job_id: str, lease: str, executor: str, claimed, replica):
    """The job, started under ``lease`` (or checked to run under it); None
    if it is no longer ours to run."""
    if not claimed and not job_store.start_job(
        store=store, job_id=job_id, lease=lease, executor=executor, replica=replica
    ):
        return None
    job = job_store.get_job(store=store, job_id=job_id)
    if job is None or job.status != "running" or job.lease != lease:
        return None
    return job


def run_job_on_dask(
    job_id: str,
    data_dir: str,
    lease: str,
    replica: str | None = None,
    database_key: str | None = None,
) -> str:
    """:func:`run_job` on a Dask worker; joblib work inside goes to the cluster.

    ``database_key`` names the database URL the service registered on the
    workers (:mod:`service.dask_secrets`): the URL, with its password, is
    never a task argument.
    """
    from service.dask_secrets import database_url

    with joblib.parallel_config(backend="dask"):
        return run_job(
            job_id,
            data_dir,
            lease,
            executor="dask",
            database_url=database_url(database_key),
            replica=replica,
        )


def job_problem(
    exc: BaseException, data_dir: Path, *, memory_limit: int | None = None
) -> dict:
    """The problem details a job failed with."""
    if is_disk_full(exc):
        # Let the outcome of this job, and deletes, be written.
        release_reserve(data_dir)
        return problem(
            507,
            "Job failed: disk full",
            "no space left on the disk of the service while the job "
            f"ran; {HOW_TO_FREE}, then submit the job again",
        )
    if isinstance(exc, MemoryError):
        limit = (
            f"the memory limit of {memory_limit // 1024**2} MiB (FEATIMP_JOB_MEMORY_MB)"
            if memory_limit
            else "the memory of the service"
        )
        return problem(
            422,
            "Job failed: memory limit exceeded",
            f"the job exceeded {limit}; give it fewer rows or "
            "features, or lighter parameters",
        )
    # A message naming a file (a dataset deleted under the job, say) must not
    # show where the service keeps its files.
    message = redact_paths(" ".join(str(exc).split()), data_dir)
    if isinstance(exc, ValueError | TypeError):
        return problem(422, "Job failed: invalid input", message)
    log.error("job failed", exc_info=exc)
    return problem(500, "Job failed", f"{type(exc).__name__}: {message}")


def warning_messages(caught: list[warnings.WarningMessage]) -> list[str]:
    """One line per distinct warning, after its category unless plain.

    A method fitted on several folds or resamples warns on each: the job
    keeps the message once, and at most :data:`MAX_JOB_WARNINGS` of them.
    """
    lines = []
    for record in caught:
        message = " ".join(str(record.message).split())
        if record.category is not UserWarning:
            message = f"{record.category.__name__}: {message}"
        lines.append(message)
    lines = list(dict.fromkeys(lines))
    if len(lines) > MAX_JOB_WARNINGS:
        more = len(lines) - MAX_JOB_WARNINGS + 1
        lines = [*lines[: MAX_JOB_WARNINGS - 1], f"... and {more} more warning(s)"]
    return lines


def _fit_and_write(store: Store, job, progress, executor) -> tuple[int, str | None]:
    dataset = get_dataset(store=store, owner=job.owner, dataset_id=job.dataset_id)
    if dataset is not None and dataset.streamed:
        table = rank.rank_streamed(job, dataset, progress, executor)
        _write_parquet_atomic(table, store.path("results", job.id))
        return len(table), None
    if job.type == "responsiveness":
        table, report = responsiveness.run(store, job, progress)
        text = json.dumps(report).encode()
        _write_atomic(store.path("reports", job.id), lambda tmp: tmp.write_bytes(text))
        _write_parquet_atomic(table, store.path("results", job.id))
        return len(table), None
    selector, features = rank.fit(store, job, progress)
    table = ranking_table(selector, features)
    _write_parquet_atomic(table, store.path("results", job.id))
    selector_id = None
    if job.type == "select":
        selector_id = rank.store_selector(store, job, selector, features)
    return len(table), selector_id


def _write_atomic(path: Path, write) -> None:
    """``write(tmp)`` into a partial file, then move it to ``path``."""
    tmp = path.with_suffix(".partial")
    try:
        write(tmp)
        tmp.replace(path)
    finally:  # a full disk leaves no half-written file behind
        tmp.unlink(missing_ok=True)


def _write_parquet_atomic(frame: pd.DataFrame, path: Path) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    _write_atomic(path, lambda tmp: pq.write_table(table, tmp))
