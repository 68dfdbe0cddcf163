"""``/v1/datasets``: upload (CSV or Parquet) or register by reference,
describe, list, delete."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from pydantic import ValidationError

from service import quotas, references
from service.api.deps import LimitQuery, OffsetQuery, OwnerDep, SettingsDep, StoreDep
from service.api.uploads import ingest_upload, is_json, read_json
from service.problems import Problem, not_found, problem_responses
from service.schemas import DatasetPublic, DatasetReferenceCreate, DatasetsPublic
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
        "application/json": {
            "schema": DatasetReferenceCreate.model_json_schema(),
        },
    },
}


def _public(record) -> DatasetPublic:
    shown = {k: v for k, v in vars(record).items() if k not in ("owner", "reference")}
    if record.reference is not None:
        shown["uri"] = record.reference["uri"]
        shown["n_files"] = len(record.reference["files"])
    return DatasetPublic(**shown)


def _reference_body(data) -> DatasetReferenceCreate:
    try:
        return DatasetReferenceCreate.model_validate(data)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(map(str, error["loc"])) or "body"
        raise Problem(422, f"{field}: {error['msg']}", field=field) from None


def _record(**fields) -> dataset_store.DatasetRecord:
    """The dataset's row, within the key's quotas."""
    return quotas.record_within_quota(
        dataset_store.create_dataset, kind="datasets", **fields
    )


async def _register(request, *, store, settings, owner, name):
    """A dataset registered by reference: its files described, not copied."""
    body = _reference_body(await read_json(request))
    quotas.check_upload(
        settings=settings, store=store, owner=owner, kind="datasets", incoming=0
    )
    try:
        found = await run_in_threadpool(
            references.register,
            body.uri,
            settings.data_roots,
            max_columns=settings.max_columns,
        )
    except references.UnusableReference as exc:
        raise Problem(exc.status, exc.detail, field="uri") from None
    return _record(
        settings=settings,
        store=store,
        owner=owner,
        path=None,
        dataset_id=new_id(),
        name=name or body.name or body.uri,
        fmt=found.format,
        size_bytes=found.size_bytes,
        n_rows=found.n_rows,
        columns=found.columns,
        reference=found.to_record(),
    )


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
    return _record(
        settings=settings,
        store=store,
        owner=owner,
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
            403: "A URI outside FEATIMP_DATA_ROOTS (or a file it reaches "
            "through a link), or no roots configured",
            413: "Larger than FEATIMP_MAX_UPLOAD_BYTES, too many rows or "
            "columns, larger decoded than FEATIMP_MAX_DATASET_BYTES, or over "
            "the memory or CPU time that parsing an upload may take",
            415: "Binary data that is not Parquet, or a multipart type other "
            "than form-data",
            422: "A table that cannot be parsed (the detail names the line), "
            "or no part named 'file'; a URI that matches no data file, mixes "
            "formats, or names files that differ in schema or cannot be read",
        },
    ),
    summary="Upload a CSV or Parquet table (multipart field 'file', or raw "
    'body), or register files by reference (JSON {"uri": ...})',
)
async def upload_dataset(
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    owner: OwnerDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> DatasetPublic:
    """Upload a table, or register files by reference.

    A JSON body ``{"uri": ..., "name": ...}`` registers Parquet or CSV
    files under the operator's ``FEATIMP_DATA_ROOTS`` (a file, a directory
    or a glob) without copying them: they are described from their metadata
    (Parquet footers; a CSV file's first block, rows unknown), they do not
    count against the stored-bytes quota, and rank jobs on them stream the
    files in batches (methods that stream: see ``GET /v1/methods``).
    """
    if is_json(request.headers.get("content-type")):
        record = await _register(
            request, store=store, settings=settings, owner=owner, name=name
        )
        response.headers["Location"] = f"/v1/datasets/{record.id}"
        return _public(record)
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
