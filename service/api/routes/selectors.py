"""``/v1/selectors``: fitted selectors from ``select`` jobs, and transform."""

from __future__ import annotations

from fastapi import APIRouter, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse
from starlette.background import BackgroundTask

from service.api.deps import LimitQuery, OffsetQuery, OwnerDep, StoreDep, TransformsDep
from service.api.uploads import JSONBodyRoute
from service.problems import Problem, not_found, problem_responses
from service.schemas import SelectorPublic, SelectorsPublic, TransformRequest
from service.store import selectors as selector_store
from service.store.datasets import get_dataset
from service.transforms import TransformFailed, TransformRejected

router = APIRouter(prefix="/selectors", tags=["selectors"], route_class=JSONBodyRoute)

_MEDIA = {"csv": "text/csv", "parquet": "application/vnd.apache.parquet"}


def _public(record) -> SelectorPublic:
    return SelectorPublic(**{k: v for k, v in vars(record).items() if k != "owner"})


def _get_owned(store, owner: str, selector_id: str):
    record = selector_store.get_selector(
        store=store, owner=owner, selector_id=selector_id
    )
    if record is None:
        raise not_found("selector", selector_id)
    return record


@router.get("", response_model=SelectorsPublic, responses=problem_responses())
def list_selectors(
    store: StoreDep,
    owner: OwnerDep,
    limit: LimitQuery = 100,
    offset: OffsetQuery = 0,
) -> SelectorsPublic:
    records, count = selector_store.list_selectors(
        store=store, owner=owner, limit=limit, offset=offset
    )
    return SelectorsPublic(data=[_public(r) for r in records], count=count)


@router.get(
    "/{selector_id}",
    response_model=SelectorPublic,
    responses=problem_responses(described={404: "No such selector"}),
)
def get_selector(selector_id: str, store: StoreDep, owner: OwnerDep) -> SelectorPublic:
    return _public(_get_owned(store, owner, selector_id))


@router.delete(
    "/{selector_id}",
    status_code=204,
    responses=problem_responses(described={404: "No such selector"}),
)
def delete_selector(selector_id: str, store: StoreDep, owner: OwnerDep) -> Response:
    _get_owned(store, owner, selector_id)
    selector_store.delete_selector(store=store, owner=owner, selector_id=selector_id)
    return Response(status_code=204)


@router.post(
    "/{selector_id}/transform",
    response_class=FileResponse,
    responses={
        200: {
            "description": "The reduced dataset",
            "content": {"text/csv": {}, "application/vnd.apache.parquet": {}},
        },
        **problem_responses(
            400,
            413,
            described={
                404: "No such selector",
                409: "The dataset or selector was deleted meanwhile",
                415: "The body is not application/json",
                422: "No such dataset, or it lacks the selector's columns",
            },
        ),
    },
)
async def transform(
    selector_id: str,
    body: TransformRequest,
    store: StoreDep,
    owner: OwnerDep,
    transforms: TransformsDep,
) -> FileResponse:
    """The dataset reduced to the selector's columns, as CSV or Parquet.

    The fitted selector is loaded and applied in a worker process, not in
    the web process.
    """
    selector = await run_in_threadpool(_get_owned, store, owner, selector_id)
    dataset = get_dataset(store=store, owner=owner, dataset_id=body.dataset_id)
    if dataset is None:
        raise Problem(
            422, f"no dataset with id {body.dataset_id!r}", field="dataset_id"
        )
    try:
        path = await run_in_threadpool(
            transforms.transform,
            store=store,
            selector=selector,
            dataset=dataset,
            fmt=body.format,
        )
    except TransformRejected as exc:
        raise Problem(422, exc.detail, field=exc.field) from None
    except FileNotFoundError:  # the dataset or selector, deleted meanwhile
        raise Problem(
            409, "the dataset or the selector was deleted meanwhile"
        ) from None
    except TransformFailed as exc:
        raise Problem(500, str(exc)) from None
    return FileResponse(
        path,
        media_type=_MEDIA[body.format],
        filename=f"reduced.{body.format}",
        background=BackgroundTask(path.unlink, missing_ok=True),
    )
