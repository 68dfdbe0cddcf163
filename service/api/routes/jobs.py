"""``/v1/jobs``: submit, watch, cancel, and read results."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Header, Query, Response
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    StreamingResponse,
)

from service import jobs, quotas, results
from service.api.deps import (
    ExecutorDep,
    LimitQuery,
    OffsetQuery,
    OwnerDep,
    SettingsDep,
    StoreDep,
)
from service.api.uploads import JSONBodyRoute
from service.problems import Problem, not_found, problem_responses
from service.schemas import (
    JobPublic,
    JobRequest,
    JobsPublic,
    JobStatus,
    JobSummary,
    ResultPage,
)
from service.store import jobs as job_store

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
        if job.type == "responsiveness":
            links["report"] = f"/v1/jobs/{job.id}/report"
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
    responses=problem_responses(
        400,
        413,
        507,
        described={
            409: "The Idempotency-Key was used with another request",
            415: "The body is not application/json",
            422: "The request names a bad field, or a dataset that does not exist",
            429: "Too many requests, or queued jobs, for this key; retry later",
        },
    ),
    summary="Start a rank, select or responsiveness job",
)
def create_job(
    job_in: Annotated[JobRequest, Body()],
    response: Response,
    store: StoreDep,
    executor: ExecutorDep,
    owner: OwnerDep,
    settings: SettingsDep,
    idempotency_key: IdempotencyKey = None,
) -> JobPublic:
    request = job_in.model_dump()
    digest = _request_hash(request)
    job = _replay(store, owner, idempotency_key, digest)
    if job is None:
        quotas.check_job(settings=settings, store=store, owner=owner, request=request)
        try:
            job = jobs.submit_job(
                store=store,
                executor=executor,
                owner=owner,
                request=request,
                idempotency_key=idempotency_key,
                request_hash=digest,
                max_queued=settings.max_queued_jobs_per_key,
            )
        except jobs.JobRejected as exc:
            raise Problem(422, exc.detail, field=exc.field) from None
        except job_store.QueueFull as exc:
            raise quotas.queue_full(exc.limit) from None
    response.headers["Location"] = f"/v1/jobs/{job.id}"
    return _public(job)


@router.get(
    "",
    response_model=JobsPublic,
    responses=problem_responses(),
    summary="List jobs (without requests)",
)
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


@router.get(
    "/{job_id}",
    response_model=JobPublic,
    responses=problem_responses(described={404: "No such job"}),
)
def get_job(job_id: str, store: StoreDep, owner: OwnerDep) -> JobPublic:
    return _public(_get_owned(store, owner, job_id))


@router.delete(
    "/{job_id}",
    response_model=JobPublic,
    responses={
        200: {"description": "The job was queued or running: it is canceled"},
        204: {"description": "The job had ended: it is deleted, with its result"},
        **problem_responses(described={404: "No such job"}),
    },
    summary="Cancel a queued or running job; delete one that has ended",
)
def delete_job(
    job_id: str, store: StoreDep, executor: ExecutorDep, owner: OwnerDep
) -> JobPublic | Response:
    """A queued or running job is canceled (its worker stopped) and stays,
    with status `canceled`, until it is deleted: answered with 200 and the
    job. A job that has ended (succeeded, failed or canceled) is deleted with
    its result file: answered with 204, and from then on the job is a 404.
    A selector fitted by a `select` job is not deleted with it (see
    `DELETE /v1/selectors/{id}`). So one DELETE stops a job, a second one
    removes it. When FEATIMP_RESULT_RETENTION_DAYS is set, jobs that ended
    longer ago than that are deleted the same way.
    """
    job = _get_owned(store, owner, job_id)
    if job.status in job_store.ACTIVE:
        # A job that ends meanwhile is answered as it ended, not deleted.
        job = job_store.cancel_job(store=store, owner=owner, job_id=job_id)
        executor.cancel(job_id)
        if job is None:  # deleted by another request meanwhile
            raise not_found("job", job_id)
        return _public(job)
    if not job_store.delete_job(store=store, owner=owner, job_id=job_id):
        raise not_found("job", job_id)  # deleted by another request meanwhile
    return Response(status_code=204)


@router.get(
    "/{job_id}/result",
    response_model=ResultPage,
    responses={
        200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}}},
        **problem_responses(
            described={
                404: "No such job",
                409: "The job has not succeeded (yet)",
                422: "A cursor this service did not issue, or a bad parameter",
            }
        ),
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
    try:
        return _result(
            job,
            format=format,
            limit=limit,
            cursor=cursor,
            store=store,
            settings=settings,
        )
    except FileNotFoundError:  # the job was deleted meanwhile
        raise not_found("job", job_id) from None


def _result(job, *, format: str, limit: int, cursor, store, settings):
    path = store.path("results", job.id)
    if format == "parquet":
        if not path.exists():
            raise FileNotFoundError(path)
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


@router.get(
    "/{job_id}/report",
    responses={
        200: {
            "description": "The report (schema `featimp.recourse.report/1`)",
            "content": {"application/json": {}, "text/html": {}},
        },
        **problem_responses(
            described={
                404: "No such job, or no such row in its report",
                409: "The job has not succeeded (yet), or is not a responsiveness job",
                422: "A bad parameter",
            }
        ),
    },
)
def get_report(
    job_id: str,
    store: StoreDep,
    owner: OwnerDep,
    format: Literal["json", "html"] = "json",
    row: Annotated[str | None, Query(max_length=200)] = None,
):
    """The per-applicant report of a succeeded responsiveness job.

    Per explained row: its status, its principal reasons (the features
    whose single changes most often flip the prediction, each with an
    action sentence) and its cheapest options, with a batch summary; the
    same report `featimp explain --report` writes for the same table,
    model and action set. `format=html` gives one static page (no
    JavaScript). `row` (a row label of the result) narrows it to that
    applicant: in JSON, `people` holds that one person; in HTML, the page
    is theirs alone.
    """
    job = _get_owned(store, owner, job_id)
    if job.type != "responsiveness":
        raise Problem(
            409,
            f"job {job_id!r} is a {job.type} job: only responsiveness jobs "
            "have a report",
            title="Report not available",
        )
    if job.status != "succeeded":
        raise Problem(
            409,
            f"job {job_id!r} is {job.status}: no report",
            title="Report not available",
        )
    try:
        data = jobs.read_report(store, job.id)
    except FileNotFoundError:  # the job was deleted meanwhile
        raise not_found("job", job_id) from None
    if row is not None:
        people = [p for p in data["people"] if str(p["row"]) == row]
        if not people:
            raise Problem(
                404,
                f"row {row!r} is not in the report of job {job_id!r}",
            )
        data = {**data, "people": people}
    if format == "html":
        title = f"Recourse report of job {job_id}"
        return HTMLResponse(jobs.report_page(data, title=title, row=row))
    return JSONResponse(data)
