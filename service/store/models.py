"""Uploaded models: metadata here, the XGBoost JSON or LightGBM text beside it.

The files are only ever parsed as those formats, never unpickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from service.store.db import Store, now, page
from service.store.usage import Quota, insert_within_quota


@dataclass(frozen=True)
class ModelRecord:
    id: str
    owner: str
    name: str
    format: str
    size_bytes: int
    objective: str
    n_classes: int
    n_features: int
    feature_names: list[str] | None
    created_at: str


def _record(row) -> ModelRecord:
    data = dict(row)
    names = data["feature_names"]
    data["feature_names"] = json.loads(names) if names else None
    return ModelRecord(**data)


def create_model(
    *,
    store: Store,
    model_id: str,
    owner: str,
    name: str,
    fmt: str,
    size_bytes: int,
    objective: str,
    n_classes: int,
    n_features: int,
    feature_names: list[str] | None,
    quota: Quota | None = None,
) -> ModelRecord:
    record = ModelRecord(
        id=model_id,
        owner=owner,
        name=name,
        format=fmt,
        size_bytes=size_bytes,
        objective=objective,
        n_classes=n_classes,
        n_features=n_features,
        feature_names=feature_names,
        created_at=now(),
    )
    insert_within_quota(
        store=store,
        table="models",
        values=(
            model_id,
            owner,
            name,
            fmt,
            size_bytes,
            objective,
            n_classes,
            n_features,
            None if feature_names is None else json.dumps(feature_names),
            record.created_at,
        ),
        owner=owner,
        size_bytes=size_bytes,
        quota=quota,
    )
    return record


def get_model(*, store: Store, owner: str, model_id: str) -> ModelRecord | None:
    """The model if it exists and belongs to ``owner``."""
    with store.connect() as conn:
        row = conn.execute(
            "SELECT * FROM models WHERE id = ? AND owner = ?", (model_id, owner)
        ).fetchone()
    return None if row is None else _record(row)


def list_models(
    *, store: Store, owner: str, limit: int, offset: int = 0
) -> tuple[list[ModelRecord], int]:
    with store.connect() as conn:
        rows = conn.execute(
            "SELECT * FROM models WHERE owner = ? ORDER BY created_at, id "
            "LIMIT ? OFFSET ?",
            (owner, *page(limit, offset)),
        ).fetchall()
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM models WHERE owner = ?", (owner,)
        ).fetchone()
    return [_record(r) for r in rows], count


def delete_model(*, store: Store, owner: str, model_id: str) -> bool:
    with store.connect() as conn:
        cursor = conn.execute(
            "DELETE FROM models WHERE id = ? AND owner = ?", (model_id, owner)
        )
    if cursor.rowcount == 0:
        return False
    store.path("models", model_id).unlink(missing_ok=True)
    return True
