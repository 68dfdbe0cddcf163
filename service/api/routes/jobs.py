"""``/v1/jobs``: submit, watch, cancel, and read results."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Header, Query, Response
from fastapi.responses import FileResponse, StreamingResponse

from service import results, runner
from service.api.deps import (
    ExecutorDep,
    LimitQuery,
    OffsetQuery,
    OwnerDep,
    SettingsDep,
    StoreDep,
)
from service.api.uploads import JSONBodyRoute
from service.problems import Problem, not_found
from service.schemas import (
    JobPublic,
    JobRequest,
    JobsPublic,
    JobStatus,
    JobSummary,
    ResultPage,
)
from service.store import jobs as job_store
from service.store.datasets import get_dataset

router = APIRouter(prefix="/jobs", tags=["jobs"], route_class=JSONBodyRoute)

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="Replaying a request with the same key returns the same job.",
    ),
]


def _public(job: job_store.JobRecord, schema=JobPublic):
    links = {"self": f"/v1/jobs/{job.id}"}
    if job.status == "succeeded":
        links["result"] = f"/v1/jobs/{job.id}/result"
    if job.selector_id:
        links["selector"] = f"/v1/selectors/{job.selector_id}"
    data = {k: v for k, v in vars(job).items() if k in schema.model_fields}
    return schema(**data, links=links)


def _get_owned(store, owner: str, job_id: str) -> job_store.JobRecord:
    job = job_store.get_job(store=store, owner=owner, job_id=job_id)
    if job is None:
        raise not_found("job", job_id)
    return job


def _request_hash(request: dict) -> str:
    return hashlib.sha256(json.dumps(request, sort_keys=True).encode()).hexdigest()


def _replay(store, owner: str, key: str | None, digest: str):
    job = job_store.find_by_idempotency_key(
        store=store, owner=owner, idempotency_key=key
    )
    if job is not None and job.request_hash != digest:
        raise Problem(409, "this Idempotency-Key was used with a different request")
    return job


@router.post(
    "",
    status_code=202,
    response_model=JobPublic,
    responses={
        400: {"description": "The body is not UTF-8 or nested too deeply"},
        409: {"description": "The Idempotency-Key was used with another request"},
        413: {"description": "The body is larger than FEATIMP_MAX_JSON_BYTES"},
        415: {"description": "The body is not application/json"},
        422: {"description": "The request names a bad field"},
    },
    summary="Start a rank, select or responsiveness job",
)
def create_job(
    job_in: Annotated[JobRequest, Body()],
    response: Response,
    store: StoreDep,
    executor: ExecutorDep,
    owner: OwnerDep,
    idempotency_key: IdempotencyKey = None,
) -> JobPublic:
    request = job_in.model_dump()
    digest = _request_hash(request)
    job = _replay(store, owner, idempotency_key, digest)
    if job is None:
        dataset = get_dataset(store=store, owner=owner, dataset_id=job_in.dataset_id)
        if dataset is None:
            raise Problem(
                422, f"no dataset with id {job_in.dataset_id!r}", field="dataset_id"
            )
        try:
            runner.validate_job(store=store, dataset=dataset, request=request)
        except runner.JobRejected as exc:
            raise Problem(422, exc.detail, field=exc.field) from None
        try:
            job, created = job_store.create_job(
                store=store,
                owner=owner,
                job_type=job_in.type,
                dataset_id=job_in.dataset_id,
                request=request,
                idempotency_key=idempotency_key,
                request_hash=digest,
                requires=job_store.input_datasets(request),
            )
        except job_store.DatasetGone as exc:
            field = (
                "dataset_id"
                if exc.dataset_id == job_in.dataset_id
                else "rows.dataset_id"
            )
            raise Problem(
                422, f"dataset {exc.dataset_id!r} was deleted meanwhile", field=field
            ) from None
        if created:
            executor.submit(job.id)
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return _public(job)


@router.get("", response_model=JobsPublic, summary="List jobs (without requests)")
def list_jobs(
    store: StoreDep,
    owner: OwnerDep,
    status: JobStatus | None = None,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> JobsPublic:
    """The jobs of this key, oldest first. Each comes without its `request`,
    which may be large: `GET /v1/jobs/{id}` has it."""
    records, count = job_store.list_jobs(
        store=store, owner=owner, limit=limit, offset=offset, status=status
    )
    return JobsPublic(data=[_public(r, JobSummary) for r in records], count=count)


@router.get("/{job_id}", response_model=JobPublic)
def get_job(job_id: str, store: StoreDep, owner: OwnerDep) -> JobPublic:
    return _public(_get_owned(store, owner, job_id))


@router.delete(
    "/{job_id}",
    response_model=JobPublic,
    responses={409: {"description": "The job has ended already"}},
)
def cancel_job(
    job_id: str, store: StoreDep, executor: ExecutorDep, owner: OwnerDep
) -> JobPublic:
    job = _get_owned(store, owner, job_id)
    if job.status not in job_store.ACTIVE:
        raise Problem(
            409,
            f"job {job_id!r} already {job.status}: only queued or "
            "running jobs can be canceled",
        )
    job = job_store.cancel_job(store=store, owner=owner, job_id=job_id)
    executor.cancel(job_id)
    return _public(job)


@router.get(
    "/{job_id}/result",
    response_model=ResultPage,
    responses={
        200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}},
        409: {"description": "The job has not succeeded (yet)"},
        422: {"description": "A cursor this service did not issue"},
    },
)
def get_result(
    job_id: str,
    store: StoreDep,
    owner: OwnerDep,
    settings: SettingsDep,
    format: Literal["json", "csv", "parquet"] = "json",
    limit: Annotated[int, Query(ge=1)] = 1000,
    cursor: str | None = None,
):
    job = _get_owned(store, owner, job_id)
    if job.status != "succeeded":
        raise Problem(
            409,
            f"job {job_id!r} is {job.status}: no result",
            title="Result not available",
        )
    path = store.path("results", job.id)
    if format == "parquet":
        return FileResponse(
            path,
            media_type="application/vnd.apache.parquet",
            filename=f"{job.id}.parquet",
        )
    if format == "csv":
        return StreamingResponse(
            results.iter_csv(path),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{job.id}.csv"'},
        )
    try:
        offset = results.decode_cursor(cursor)
    except ValueError as exc:
        raise Problem(422, str(exc), field="cursor") from None
    columns, rows, count, next_cursor = results.read_page(
        path, offset=offset, limit=min(limit, settings.max_page_size)
    )
    return ResultPage(
        job_id=job.id, columns=columns, data=rows, count=count, next_cursor=next_cursor
    )
