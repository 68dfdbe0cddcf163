"""``/v1/datasets``: upload (CSV or Parquet), describe, list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service import quotas
from service.api.deps import LimitQuery, OffsetQuery, OwnerDep, SettingsDep, StoreDep
from service.api.uploads import ingest_upload
from service.problems import Problem, not_found, problem_responses
from service.schemas import DatasetPublic, DatasetsPublic
from service.store import datasets as dataset_store
from service.store.db import new_id
from service.tables import TableError

router = APIRouter(prefix="/datasets", tags=["datasets"])

_UPLOAD_BODY = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {"file": {"type": "string", "format": "binary"}},
            }
        },
        "text/csv": {
            "schema": {"type": "string"},
            "example": "age,income,default\n35,52000,0\n",
        },
        "application/vnd.apache.parquet": {
            "schema": {"type": "string", "format": "binary"}
        },
    },
}


def _public(record) -> DatasetPublic:
    return DatasetPublic(**{k: v for k, v in vars(record).items() if k != "owner"})


def _ingest(
    *, store, settings, parsers, owner, upload, tmp, name
) -> dataset_store.DatasetRecord:
    quotas.check_upload(
        settings=settings,
        store=store,
        owner=owner,
        kind="datasets",
        incoming=upload.size,
    )
    dataset_id = new_id()
    path = store.path("datasets", dataset_id)
    try:
        table = parsers.describe_and_store(
            tmp,
            path,
            max_rows=settings.max_rows,
            max_columns=settings.max_columns,
            max_bytes=settings.max_dataset_bytes,
        )
    except TableError as exc:
        raise Problem(exc.status, str(exc), title=exc.title, field="file") from None
    return quotas.record_within_quota(
        dataset_store.create_dataset,
        settings=settings,
        store=store,
        owner=owner,
        kind="datasets",
        path=path,
        dataset_id=dataset_id,
        name=name,
        fmt=table.format,
        size_bytes=upload.size,
        n_rows=table.n_rows,
        columns=table.columns,
    )


@router.post(
    "",
    status_code=201,
    response_model=DatasetPublic,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=problem_responses(
        507,
        described={
            400: "Malformed multipart: no closing boundary, two 'file' parts, "
            "a bad boundary or part header",
            413: "Larger than FEATIMP_MAX_UPLOAD_BYTES, too many rows or "
            "columns, larger decoded than FEATIMP_MAX_DATASET_BYTES, or over "
            "the memory or CPU time that parsing an upload may take",
            415: "Binary data that is not Parquet, or a multipart type other "
            "than form-data",
            422: "A table that cannot be parsed (the detail names the line), "
            "or no part named 'file'",
        },
    ),
    summary="Upload a CSV or Parquet table (multipart field 'file', or raw body)",
)
async def upload_dataset(
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    owner: OwnerDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> DatasetPublic:
    incoming = quotas.declared_length(request)
    quotas.check_upload(
        settings=settings, store=store, owner=owner, kind="datasets", incoming=incoming
    )
    record = await ingest_upload(
        request,
        store=store,
        limit=settings.max_upload_bytes,
        name=name,
        ingest=_ingest,
        settings=settings,
        parsers=request.app.state.parsers,
        owner=owner,
    )
    response.headers["Location"] = f"/v1/datasets/{record.id}"
    return _public(record)


@router.get("", response_model=DatasetsPublic, responses=problem_responses())
def list_datasets(
    store: StoreDep,
    owner: OwnerDep,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> DatasetsPublic:
    records, count = dataset_store.list_datasets(
        store=store, owner=owner, limit=limit, offset=offset
    )
    return DatasetsPublic(data=[_public(r) for r in records], count=count)


@router.get(
    "/{dataset_id}",
    response_model=DatasetPublic,
    responses=problem_responses(described={404: "No such dataset"}),
)
def get_dataset(dataset_id: str, store: StoreDep, owner: OwnerDep) -> DatasetPublic:
    record = dataset_store.get_dataset(store=store, owner=owner, dataset_id=dataset_id)
    if record is None:
        raise not_found("dataset", dataset_id)
    return _public(record)


@router.delete(
    "/{dataset_id}",
    status_code=204,
    responses=problem_responses(
        described={
            404: "No such dataset",
            409: "Queued or running jobs read the dataset",
        }
    ),
    summary="Delete a dataset no queued or running job reads",
)
def delete_dataset(dataset_id: str, store: StoreDep, owner: OwnerDep) -> Response:
    """Delete the dataset and its file.

    Refused with 409, naming the jobs, while a queued or running job reads
    it (as its dataset, or as the rows of a responsiveness job): cancel them
    or wait for them to end. The check and the delete are one step, so a job
    submitted at the same moment is either refused or blocks the delete.
    """
    try:
        deleted = dataset_store.delete_dataset(
            store=store, owner=owner, dataset_id=dataset_id
        )
    except dataset_store.DatasetInUse as exc:
        shown = ", ".join(exc.job_ids[:10])
        more = f" and {len(exc.job_ids) - 10} more" if len(exc.job_ids) > 10 else ""
        raise Problem(
            409,
            f"dataset {dataset_id!r} is read by queued or running job(s) "
            f"{shown}{more}: cancel them (DELETE /v1/jobs/{{id}}) or wait for "
            "them to end",
        ) from None
    if not deleted:
        raise not_found("dataset", dataset_id)
    return Response(status_code=204)
