"""``/v1/models``: upload an XGBoost JSON or LightGBM text model, for recourse."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service import quotas
from service.api.deps import OwnerDep, SettingsDep, StoreDep
from service.api.uploads import ingest_upload
from service.model_files import ModelFileError, ModelLimits, describe_model
from service.problems import Problem, not_found, problem_responses
from service.schemas import ModelPublic, ModelsPublic
from service.store import models as model_store
from service.store.db import new_id

router = APIRouter(prefix="/models", tags=["models"])

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
        # No examples: the smallest model either library saves is a few KB,
        # and a shorter excerpt is not a model (a 422 for whoever tries it).
        "application/json": {
            "schema": {
                "type": "object",
                "description": "An XGBoost model: booster.save_model('model.json')",
            }
        },
        "text/plain": {
            "schema": {
                "type": "string",
                "description": "A LightGBM model: booster_.save_model('model.txt')",
            }
        },
    },
}


def _public(record) -> ModelPublic:
    return ModelPublic(**{k: v for k, v in vars(record).items() if k != "owner"})


def _ingest(
    *, store, settings, owner, upload, tmp, name, limits
) -> model_store.ModelRecord:
    quotas.check_upload(
        settings=settings, store=store, owner=owner, kind="models", incoming=upload.size
    )
    try:
        model = describe_model(tmp, limits=limits)
    except ModelFileError as exc:
        raise Problem(
            exc.status, str(exc), title="Invalid model", field="file"
        ) from None
    except ImportError as exc:
        raise Problem(422, str(exc), field="file") from None
    model_id = new_id()
    path = store.path("models", model_id)
    tmp.replace(path)
    return quotas.record_within_quota(
        model_store.create_model,
        settings=settings,
        store=store,
        owner=owner,
        kind="models",
        path=path,
        model_id=model_id,
        name=name,
        fmt=model.format,
        size_bytes=upload.size,
        objective=model.objective,
        n_classes=model.n_classes,
        n_features=model.n_features,
        feature_names=model.feature_names,
    )


@router.post(
    "",
    status_code=201,
    response_model=ModelPublic,
    openapi_extra={"requestBody": _UPLOAD_BODY},
    responses=problem_responses(
        507,
        described={
            400: "Malformed multipart: no closing boundary, two 'file' parts, "
            "a bad boundary or part header",
            413: "Larger than FEATIMP_MAX_UPLOAD_BYTES or FEATIMP_MODEL_MAX_BYTES",
            415: "Neither XGBoost JSON nor LightGBM text, or a multipart type "
            "other than form-data",
            422: "A model that fails its checks (structure, limits, a trial "
            "load and prediction), or no part named 'file'",
        },
    ),
    summary="Upload an XGBoost JSON or LightGBM text classifier (never a pickle)",
)
async def upload_model(
    request: Request,
    response: Response,
    store: StoreDep,
    settings: SettingsDep,
    owner: OwnerDep,
    name: Annotated[str | None, Query(max_length=200)] = None,
) -> ModelPublic:
    incoming = quotas.declared_length(request)
    quotas.check_upload(
        settings=settings, store=store, owner=owner, kind="models", incoming=incoming
    )
    record = await ingest_upload(
        request,
        store=store,
        limit=settings.max_upload_bytes,
        name=name,
        ingest=_ingest,
        settings=settings,
        owner=owner,
        limits=ModelLimits.from_settings(settings),
    )
    response.headers["Location"] = f"/v1/models/{record.id}"
    return _public(record)


@router.get("", response_model=ModelsPublic, responses=problem_responses())
def list_models(
    store: StoreDep,
    owner: OwnerDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> ModelsPublic:
    records, count = model_store.list_models(
        store=store, owner=owner, limit=limit, offset=offset
    )
    return ModelsPublic(data=[_public(r) for r in records], count=count)


@router.get(
    "/{model_id}",
    response_model=ModelPublic,
    responses=problem_responses(described={404: "No such model"}),
)
def get_model(model_id: str, store: StoreDep, owner: OwnerDep) -> ModelPublic:
    record = model_store.get_model(store=store, owner=owner, model_id=model_id)
    if record is None:
        raise not_found("model", model_id)
    return _public(record)


@router.delete(
    "/{model_id}",
    status_code=204,
    responses=problem_responses(described={404: "No such model"}),
)
def delete_model(model_id: str, store: StoreDep, owner: OwnerDep) -> Response:
    if not model_store.delete_model(store=store, owner=owner, model_id=model_id):
        raise not_found("model", model_id)
    return Response(status_code=204)
