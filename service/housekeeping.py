"""Keep the data directory tidy: expired jobs, stray results, file modes.

With ``FEATIMP_RESULT_RETENTION_DAYS`` set, jobs that ended longer ago than
that are deleted with their result files, as ``DELETE /v1/jobs/{id}`` deletes
one: at startup, then every ``FEATIMP_RETENTION_SWEEP_SECONDS``. Selectors
fitted by those jobs stay until deleted. Each sweep, and the one at startup
without a retention, also removes result files no job owns any more (a job
deleted while a Dask worker was still writing its result) and makes what an
earlier version left readable by others the service's alone.
"""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.concurrency import run_in_threadpool

from service.store import Store
from service.store import jobs as job_store
from service.store.db import DIR_MODE, FILE_MODE

log = logging.getLogger("service")


def expire_jobs(store: Store, *, retention_days: float) -> list[str]:
    """Delete the jobs that ended more than ``retention_days`` ago."""
    cutoff = datetime.now(UTC) - timedelta(days=retention_days)
    return job_store.delete_jobs_finished_before(
        store=store, cutoff=cutoff.isoformat(timespec="milliseconds")
    )


def remove_stray_results(store: Store) -> list[Path]:
    """Result and report files of jobs that no longer exist, and partial
    files of jobs that no longer run."""
    removed = []
    paths = [
        p for kind in job_store.OUTPUT_KINDS for p in (store.data_dir / kind).iterdir()
    ]
    for path in paths:
        job = job_store.get_job(store=store, job_id=path.stem)
        partial = path.suffix == ".partial"
        if job is None or (partial and job.status not in job_store.ACTIVE):
            path.unlink(missing_ok=True)
            removed.append(path)
    return removed


def restrict_modes(data_dir: Path) -> int:
    """Folders 0700 and files 0600 under ``data_dir``; returns how many changed."""
    changed = 0
    for root, folders, files in os.walk(data_dir):
        wanted = [(f, DIR_MODE) for f in folders] + [(f, FILE_MODE) for f in files]
        for name, mode in wanted:
            changed += _restrict(os.path.join(root, name), mode)
    return changed


def _restrict(path: str, mode: int) -> bool:
    try:
        info = os.lstat(path)
    except FileNotFoundError:  # removed meanwhile
        return False
    if stat.S_ISLNK(info.st_mode) or stat.S_IMODE(info.st_mode) == mode:
        return False
    os.chmod(path, mode)
    return True


def sweep(store: Store, *, retention_days: float | None) -> None:
    """One round of housekeeping; logs what it did."""
    expired = []
    if retention_days is not None:
        expired = expire_jobs(store, retention_days=retention_days)
    strays = remove_stray_results(store)
    changed = restrict_modes(store.data_dir)
    if expired or strays or changed:
        log.info(
            "housekeeping",
            extra={
                "expired_jobs": len(expired),
                "stray_results": len(strays),
                "modes_restricted": changed,
            },
        )


async def run_housekeeping(
    store: Store, *, retention_days: float | None, interval: float
) -> None:
    """Sweep now and, with a retention, every ``interval`` seconds."""
    while True:
        try:
            await run_in_threadpool(sweep, store, retention_days=retention_days)
        except Exception:
            log.exception("housekeeping failed; trying again later")
        if retention_days is None:
            return
        await asyncio.sleep(interval)
