"""From a job request to a queued job: what ``POST /v1/jobs`` does once the
request has passed its idempotency and quota checks."""

from __future__ import annotations

from typing import TYPE_CHECKING

from service.jobs.validate import JobRejected, validate_job
from service.store import Store
from service.store import jobs as job_store
from service.store.datasets import get_dataset

if TYPE_CHECKING:
    from service.executors import Executor


def submit_job(
    *,
    store: Store,
    executor: Executor,
    owner: str,
    request: dict,
    idempotency_key: str | None,
    request_hash: str,
    max_queued: int | None,
) -> job_store.JobRecord:
    """Check the request, queue the job and hand it to ``executor``.

    Raises :class:`JobRejected` for a request that cannot run (a dataset
    deleted meanwhile too), and :class:`~service.store.jobs.QueueFull`. A
    request replayed under its idempotency key returns the job it made.
    """
    dataset_id = request["dataset_id"]
    dataset = get_dataset(store=store, owner=owner, dataset_id=dataset_id)
    if dataset is None:
        raise JobRejected("dataset_id", f"no dataset with id {dataset_id!r}")
    validate_job(store=store, dataset=dataset, request=request)
    try:
        job, created = job_store.create_job(
            store=store,
            owner=owner,
            job_type=request["type"],
            dataset_id=dataset_id,
            request=request,
            idempotency_key=idempotency_key,
            request_hash=request_hash,
            requires=job_store.input_datasets(request),
            max_queued=max_queued,
        )
    except job_store.DatasetGone as exc:
        field = "dataset_id" if exc.dataset_id == dataset_id else "rows.dataset_id"
        raise JobRejected(
            field, f"dataset {exc.dataset_id!r} was deleted meanwhile"
        ) from None
    if created:
        executor.submit(job.id)
    return job
