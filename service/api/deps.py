"""Dependencies as named types; tests swap them via ``app.dependency_overrides``."""

from __future__ import annotations

import hashlib
import hmac
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader

from service.config import Settings
from service.executors import Executor
from service.problems import Problem
from service.store import Store
from service.store.db import MAX_SQL_INT
from service.transforms import TransformPool

_api_key_header = APIKeyHeader(
    name="X-API-Key",
    auto_error=False,
    description="One of the keys in FEATIMP_API_KEYS.",
)


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_executor(request: Request) -> Executor:
    return request.app.state.executor


def owner_of(key: str) -> str:
    """Owners are stored as a hash of their key, never the key itself."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def get_transforms(request: Request) -> TransformPool:
    return request.app.state.transforms


def get_owner(
    request: Request, key: Annotated[str | None, Security(_api_key_header)]
) -> str:
    """The owner behind the X-API-Key header; 401 without a valid key."""
    if not key:
        raise Problem(
            401, "missing X-API-Key header", headers={"WWW-Authenticate": "APIKey"}
        )
    for valid in request.app.state.api_keys:
        if hmac.compare_digest(key.encode(), valid.encode()):
            return owner_of(valid)
    raise Problem(401, "invalid API key", headers={"WWW-Authenticate": "APIKey"})


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
ExecutorDep = Annotated[Executor, Depends(get_executor)]
TransformsDep = Annotated[TransformPool, Depends(get_transforms)]
OwnerDep = Annotated[str, Depends(get_owner)]
#: ``?limit=`` and ``?offset=`` of a listing; SQLite's integers end at 2**63 - 1.
LimitQuery = Annotated[int, Query(ge=1, le=1000, description="Items per page.")]
OffsetQuery = Annotated[
    int, Query(ge=0, le=MAX_SQL_INT, description="Items to skip, oldest first.")
]
