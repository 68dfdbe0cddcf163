"""``/v1/models``: upload an XGBoost JSON or LightGBM text model, for recourse."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from service.api.deps import OwnerDep, SettingsDep, StoreDep
from service.api.uploads import ingest_upload
from service.model_files import ModelFileError, ModelLimits, describe_model
from service.problems import Problem, not_found
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
        "application/json": {
            "schema": {"type": "object"},
            "example": {"learner": {"objective": {"name": "binary:logistic"}}},
        },
        "text/plain": {"schema": {"type": "string"}, "example": "tree\nversion=v4\n"},
    },
}


def _public(record) -> ModelPublic:
    return ModelPublic(**{k: v for k, v in vars(record).items() if k != "owner"})


def _ingest(*, store, owner, upload, tmp, name, limits) -> model_store.ModelRecord:
    try:
        model = describe_model(tmp, limits=limits)
    except ModelFileError as exc:
        raise Problem(
            exc.status, str(exc), title="Invalid model", field="file"
        ) from None
    except ImportError as exc:
        raise Problem(422, str(exc), field="file") from None
    model_id = new_id()
    tmp.replace(store.path("models", model_id))
    return model_store.create_model(
        store=store,
        model_id=model_id,
        owner=owner,
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
    record = await ingest_upload(
        request,
        store=store,
        limit=settings.max_upload_bytes,
        name=name,
        ingest=_ingest,
        owner=owner,
        limits=ModelLimits.from_settings(settings),
    )
    response.headers["Location"] = f"/v1/models/{record.id}"
    return _public(record)


@router.get("", response_model=ModelsPublic)
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


@router.get("/{model_id}", response_model=ModelPublic)
def get_model(model_id: str, store: StoreDep, owner: OwnerDep) -> ModelPublic:
    record = model_store.get_model(store=store, owner=owner, model_id=model_id)
    if record is None:
        raise not_found("model", model_id)
    return _public(record)


@router.delete("/{model_id}", status_code=204)
def delete_model(model_id: str, store: StoreDep, owner: OwnerDep) -> Response:
    if not model_store.delete_model(store=store, owner=owner, model_id=model_id):
        raise not_found("model", model_id)
    return Response(status_code=204)
