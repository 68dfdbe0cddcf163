"""Job metadata and the job state machine.

``queued -> running -> succeeded | failed``, and ``canceled`` from either of
the first two. A job process holds a *lease* (a random token set when it
starts): its progress and final updates only apply while the job is still
running under that lease, so a job canceled, or failed by a restart, cannot
be brought back by a worker that is still finishing. A running job also
records the *replica* (``featimp serve`` process) that holds it; when that
replica is gone, another fails the job (:func:`fail_orphaned_jobs`, see
:mod:`service.store.replicas`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from service.problem_details import problem
from service.store.backend import IntegrityError
from service.store.db import Store, new_id, now, page

ACTIVE = ("queued", "running")
FINISHED = ("succeeded", "failed", "canceled")
#: Every column but ``request``: a listing neither reads nor sends requests.
_SUMMARY_COLUMNS = (
    "id, owner, type, dataset_id, status, progress, stage, error, executor, "
    "lease, idempotency_key, request_hash, result_rows, selector_id, "
    "created_at, started_at, finished_at, warnings, replica"
)
_COLUMNS = f"{_SUMMARY_COLUMNS}, request"
#: Why a job whose replica is gone failed.
INTERRUPTED = problem(
    503,
    "Job interrupted",
    "the service stopped while this job was running; submit it again",
    type="about:blank#interrupted",
)


def reads_dataset(store: Store) -> str:
    """SQL: a job reads dataset ``:dataset``, its own or its rows'
    (responsiveness)."""
    rows = store.backend.json_text("request", "rows", "dataset_id")
    return f"(dataset_id = :dataset OR {rows} = :dataset)"


class QueueFull(Exception):
    """The owner has ``limit`` queued jobs already."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


class DatasetGone(LookupError):
    """A dataset a new job reads was deleted while the job was being checked."""

    def __init__(self, dataset_id: str):
        super().__init__(dataset_id)
        self.dataset_id = dataset_id


@dataclass(frozen=True)
class JobRecord:
    id: str
    owner: str
    type: str
    dataset_id: str
    #: The request as accepted; None on the records of a listing.
    request: dict | None
    status: str
    progress: float
    stage: str
    error: dict | None
    executor: str | None
    lease: str | None
    idempotency_key: str | None
    request_hash: str | None
    result_rows: int | None
    selector_id: str | None
    created_at: str
    started_at: str | None
    finished_at: str | None
    #: Warnings raised while the job ran, one message each.
    warnings: list[str]
    #: The replica that runs or ran it.
    replica: str | None = None


def _record(row) -> JobRecord:
    data = dict(row)
    data["request"] = json.loads(data["request"]) if "request" in data else None
    data["error"] = json.loads(data["error"]) if data["error"] else None
    data["warnings"] = json.loads(data["warnings"] or "[]")
    return JobRecord(**data)


def create_job(
    *,
    store: Store,
    owner: str,
    job_type: str,
    dataset_id: str,
    request: dict,
    idempotency_key: str | None = None,
    request_hash: str | None = None,
    requires: Sequence[str] = (),
    max_queued: int | None = None,
) -> tuple[JobRecord, bool]:
    """Insert a queued job; with a known idempotency key, return that job.

    The job is only inserted while every dataset in ``requires`` exists and
    belongs to ``owner``, and while the owner has fewer than ``max_queued``
    queued jobs, checked as it is inserted under the owner's lock: it cannot
    race a :func:`~service.store.datasets.delete_dataset` or another
    submission, on any replica.
    Raises :class:`DatasetGone` or :class:`QueueFull` otherwise. Returns
    ``(job, created)``.
    """
    job_id, requires = new_id(), list(dict.fromkeys(requires))
    args = [
        job_id,
        owner,
        job_type,
        dataset_id,
        json.dumps(request),
        idempotency_key,
        request_hash,
        now(),
    ]
    checks = []
    if requires:
        marks = ", ".join("?" * len(requires))
        checks.append(
            f"(SELECT COUNT(*) FROM datasets WHERE owner = ? AND id IN ({marks})) = ?"
        )
        args += [owner, *requires, len(requires)]
    if max_queued is not None:
        checks.append(
            "(SELECT COUNT(*) FROM jobs WHERE owner = ? AND status = 'queued') < ?"
        )
        args += [owner, max_queued]
    query = (
        "INSERT INTO jobs (id, owner, type, dataset_id, request, status, "
        "idempotency_key, request_hash, created_at) "
        "SELECT ?, ?, ?, ?, ?, 'queued', ?, ?, ?"
    )
    if checks:
        query += " WHERE " + " AND ".join(checks)
    try:
        # The owner's lock orders this after (or before) its other
        # submissions and deletes, which the checks above then see.
        with store.transaction() as conn:
            store.backend.lock(conn, owner)
            cursor = conn.execute(query, args)
    except IntegrityError:
        existing = find_by_idempotency_key(
            store=store, owner=owner, idempotency_key=idempotency_key
        )
        if existing is None:  # pragma: no cover - the unique key is the only one
            raise
        return existing, False
    if cursor.rowcount == 0:
        gone = [d for d in requires if not _dataset_exists(store, owner, d)]
        if gone or max_queued is None:
            raise DatasetGone(gone[0] if gone else requires[0])
        raise QueueFull(max_queued)
    return get_job(store=store, owner=owner, job_id=job_id), True


def _dataset_exists(store: Store, owner: str, dataset_id: str) -> bool:
    with store.connect() as conn:
        row = conn.execute(
            "SELECT 1 FROM datasets WHERE id = ? AND owner = ?", (dataset_id, owner)
        ).fetchone()
    return row is not None


def input_datasets(request: dict) -> list[str]:
    """The datasets a job reads: its own and, for responsiveness, its rows'."""
    rows = (request.get("rows") or {}).get("dataset_id")
    return list(dict.fromkeys(d for d in (request.get("dataset_id"), rows) if d))


def find_by_idempotency_key(
    *, store: Store, owner: str, idempotency_key: str | None
) -> JobRecord | None:
    if idempotency_key is None:
        return None
    with store.connect() as conn:
        row = conn.execute(
            f"SELECT {_COLUMNS} FROM jobs WHERE owner = ? AND idempotency_key = ?",
            (owner, idempotency_key),
        ).fetchone()
    return None if row is None else _record(row)


def get_job(*, store: Store, job_id: str, owner: str | None = None) -> JobRecord | None:
    """The job; with ``owner``, only if it belongs to that owner."""
    query, args = f"SELECT {_COLUMNS} FROM jobs WHERE id = ?", [job_id]
    if owner is not None:
        query, args = query + " AND owner = ?", [*args, owner]
    with store.connect() as conn:
        row = conn.execute(query, args).fetchone()
    return None if row is None else _record(row)


def list_jobs(
    *, store: Store, owner: str, limit: int, offset: int = 0, status: str | None = None
) -> tuple[list[JobRecord], int]:
    """A page of jobs, oldest first, without their requests, and the total."""
    where, args = "owner = ?", [owner]
    if status is not None:
        where, args = where + " AND status = ?", [*args, status]
    with store.connect() as conn:
        rows = conn.execute(
            f"SELECT {_SUMMARY_COLUMNS} FROM jobs WHERE {where} "
            "ORDER BY created_at, id LIMIT ? OFFSET ?",
            [*args, *page(limit, offset)],
        ).fetchall()
        (count,) = conn.execute(
            f"SELECT COUNT(*) FROM jobs WHERE {where}", args
        ).fetchone()
    return [_record(r) for r in rows], count


def start_job(
    *, store: Store, job_id: str, lease: str, executor: str, replica: str | None = None
) -> bool:
    """Move a queued job to running under ``lease`` (held by ``replica``);
    False if it is not queued."""
    with store.connect() as conn:
        cursor = conn.execute(
            "UPDATE jobs SET status = 'running', lease = ?, executor = ?, "
            "replica = ?, started_at = ?, stage = 'starting' "
            "WHERE id = ? AND status = 'queued'",
            (lease, executor, replica, now(), job_id),
        )
    return cursor.rowcount == 1


@dataclass(frozen=True)
class OwnerQueue:
    """An owner with queued jobs: its oldest one and how many of its run."""

    owner: str
    oldest: str
    running: int


def queued_owners(*, store: Store) -> list[OwnerQueue]:
    """The owners with queued jobs."""
    with store.connect() as conn:
        rows = conn.execute(
            "SELECT owner, MIN(created_at), (SELECT COUNT(*) FROM jobs r "
            "WHERE r.status = 'running' AND r.owner = q.owner) "
            "FROM jobs q WHERE status = 'queued' GROUP BY owner"
        ).fetchall()
    return [OwnerQueue(*row) for row in rows]


def claim_job(
    *,
    store: Store,
    owner: str,
    lease: str,
    executor: str,
    replica: str | None = None,
    max_running: int | None = None,
) -> str | None:
    """Start the oldest queued job of ``owner`` under ``lease``; its id.

    The job then runs under that lease, as after :func:`start_job`. One
    statement picks and starts it: on PostgreSQL the pick skips rows that
    another claim has locked, so replicas claiming at once take different
    jobs. With ``max_running``, only while the owner runs fewer jobs.
    """
    backend = store.backend
    query = (
        "UPDATE jobs SET status = 'running', lease = ?, executor = ?, replica = ?, "
        "started_at = ?, stage = 'starting' WHERE id = (SELECT id FROM jobs "
        "WHERE owner = ? AND status = 'queued' ORDER BY created_at, "
        f"{backend.insertion_order} LIMIT 1{backend.skip_locked}) "
        "AND status = 'queued'"
    )
    args = [lease, executor, replica, now(), owner]
    if max_running is None:
        with store.connect() as conn:
            rows = conn.execute(f"{query} RETURNING id", args).fetchall()
    else:
        # The count and the claim wait for the owner's other claims.
        with store.transaction() as conn:
            backend.lock(conn, owner)
            rows = conn.execute(
                f"{query} AND (SELECT COUNT(*) FROM jobs WHERE owner = ? "
                "AND status = 'running') < ? RETURNING id",
                [*args, owner, max_running],
            ).fetchall()
    return rows[0][0] if rows else None


def requeue_job(*, store: Store, job_id: str, lease: str) -> bool:
    """Put a job running under ``lease`` back in the queue, as never started."""
    with store.connect() as conn:
        cursor = conn.execute(
            "UPDATE jobs SET status = 'queued', stage = 'queued', progress = 0, "
            "lease = NULL, executor = NULL, replica = NULL, started_at = NULL "
            "WHERE id = ? AND status = 'running' AND lease = ?",
            (job_id, lease),
        )
    return cursor.rowcount == 1


def count_active(*, store: Store, owner: str | None = None) -> dict[str, int]:
    """How many jobs are queued and running (of ``owner``, or in all)."""
    where, args = "status IN ('queued', 'running')", []
    if owner is not None:
        where, args = where + " AND owner = ?", [owner]
    with store.connect() as conn:
        rows = conn.execute(
            f"SELECT status, COUNT(*) FROM jobs WHERE {where} GROUP BY status", args
        ).fetchall()
    return {"queued": 0, "running": 0, **dict(rows)}


def running_since(*, store: Store, executor: str, before: str) -> list[JobRecord]:
    """Jobs of ``executor`` running since before ``before`` (an ISO time)."""
    with store.connect() as conn:
        rows = conn.execute(
            f"SELECT {_SUMMARY_COLUMNS} FROM jobs WHERE status = 'running' "
            "AND executor = ? AND started_at < ?",
            (executor, before),
        ).fetchall()
    return [_record(r) for r in rows]


def report_progress(
    *, store: Store, job_id: str, lease: str, progress: float, stage: str
) -> bool:
    """Record progress; False when the job is no longer running under ``lease``."""
    with store.connect() as conn:
        cursor = conn.execute(
            "UPDATE jobs SET progress = ?, stage = ? "
            "WHERE id = ? AND status = 'running' AND lease = ?",
            (progress, stage, job_id, lease),
        )
    return cursor.rowcount == 1


def finish_job(
    *,
    store: Store,
    job_id: str,
    lease: str,
    result_rows: int,
    selector_id: str | None = None,
    warnings: Sequence[str] = (),
) -> bool:
    with store.connect() as conn:
        cursor = conn.execute(
            "UPDATE jobs SET status = 'succeeded', progress = 1, stage = 'done', "
            "result_rows = ?, selector_id = ?, warnings = ?, finished_at = ? "
            "WHERE id = ? AND status = 'running' AND lease = ?",
            (
                result_rows,
                selector_id,
                json.dumps(list(warnings)),
                now(),
                job_id,
                lease,
            ),
        )
    return cursor.rowcount == 1


def fail_job(
    *, store: Store, job_id: str, error: dict, lease: str | None = None
) -> bool:
    """Mark an active job failed with a problem-details ``error``.

    With ``lease``, only if the job is still running under it.
    """
    query = (
        "UPDATE jobs SET status = 'failed', stage = 'failed', error = ?, "
        "finished_at = ? WHERE id = ? AND status IN ('queued', 'running')"
    )
    args = [json.dumps(error), now(), job_id]
    if lease is not None:
        query, args = query + " AND lease = ?", [*args, lease]
    with store.connect() as conn:
        cursor = conn.execute(query, args)
    return cursor.rowcount == 1


def cancel_job(*, store: Store, owner: str, job_id: str) -> JobRecord | None:
    """Cancel a queued or running job; finished jobs are left as they are."""
    with store.connect() as conn:
        conn.execute(
            "UPDATE jobs SET status = 'canceled', stage = 'canceled', finished_at = ? "
            "WHERE id = ? AND owner = ? AND status IN ('queued', 'running')",
            (now(), job_id, owner),
        )
    return get_job(store=store, owner=owner, job_id=job_id)


def fail_orphaned_jobs(*, store: Store, unowned: bool = False) -> list[str]:
    """Fail the running jobs whose replica is no longer registered; their ids.

    With ``unowned``, also those no replica holds (started by a version
    without replicas, or by a bare executor): at startup, nothing else can
    still run them.
    """
    orphaned = "replica NOT IN (SELECT id FROM replicas)"
    if unowned:
        orphaned = f"(replica IS NULL OR {orphaned})"
    with store.connect() as conn:
        rows = conn.execute(
            "UPDATE jobs SET status = 'failed', stage = 'failed', error = ?, "
            f"finished_at = ? WHERE status = 'running' AND {orphaned} RETURNING id",
            (json.dumps(INTERRUPTED), now()),
        ).fetchall()
    return sorted(r[0] for r in rows)


def recover_jobs(*, store: Store) -> tuple[list[str], list[str]]:
    """At startup: fail the jobs that were running under a replica that is
    gone, keep the queued ones.

    Such a job's process died with its replica, so it is reported failed
    with the reason; a queued job never started and is returned to be
    submitted again. The replicas that are gone were removed first
    (:func:`service.store.replicas.remove_dead`). Returns
    ``(failed_ids, queued_ids)``.
    """
    failed = fail_orphaned_jobs(store=store, unowned=True)
    with store.connect() as conn:
        queued = [
            r[0]
            for r in conn.execute(
                "SELECT id FROM jobs WHERE status = 'queued' ORDER BY created_at, id"
            ).fetchall()
        ]
    return failed, queued


def active_jobs_reading(*, store: Store, dataset_id: str) -> list[str]:
    """Ids of the queued or running jobs that read the dataset, oldest first."""
    with store.connect() as conn:
        rows = conn.execute(
            "SELECT id FROM jobs WHERE status IN ('queued', 'running') "
            f"AND {reads_dataset(store)} ORDER BY created_at, id",
            {"dataset": dataset_id},
        ).fetchall()
    return [r[0] for r in rows]


def delete_job(*, store: Store, owner: str, job_id: str) -> bool:
    """Delete a finished job and its result file; False if there is no such
    finished job (a queued or running one is canceled, not deleted)."""
    with store.connect() as conn:
        cursor = conn.execute(
            "DELETE FROM jobs WHERE id = ? AND owner = ? "
            "AND status IN ('succeeded', 'failed', 'canceled')",
            (job_id, owner),
        )
    if cursor.rowcount == 0:
        return False
    remove_outputs(store, job_id)
    return True


def delete_jobs_finished_before(*, store: Store, cutoff: str) -> list[str]:
    """Delete the jobs that ended before ``cutoff`` (an ISO time, as
    :func:`~service.store.db.now` writes them) and their result files."""
    with store.connect() as conn:
        rows = conn.execute(
            "DELETE FROM jobs WHERE status IN ('succeeded', 'failed', 'canceled') "
            "AND finished_at < ? RETURNING id",
            (cutoff,),
        ).fetchall()
    for (job_id,) in rows:
        remove_outputs(store, job_id)
    return [job_id for (job_id,) in rows]


#: The files a finished job leaves: its result table, and a responsiveness
#: job's per-applicant report.
OUTPUT_KINDS = ("results", "reports")


def remove_outputs(store: Store, job_id: str) -> None:
    """Delete the result and report files of ``job_id`` (absent ones are fine)."""
    for kind in OUTPUT_KINDS:
        store.path(kind, job_id).unlink(missing_ok=True)
