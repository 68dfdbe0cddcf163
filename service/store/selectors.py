"""Fitted selectors: metadata here, the estimator in a joblib file.

The joblib files are written and read only by the service (the jobs); no
uploaded file is ever unpickled.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from service.store.db import Store, now, page


@dataclass(frozen=True)
class SelectorRecord:
    id: str
    owner: str
    job_id: str
    method: str
    params: dict
    features_in: list[str]
    selected: list[str]
    created_at: str


def _record(row) -> SelectorRecord:
    data = dict(row)
    for key in ("params", "features_in", "selected"):
        data[key] = json.loads(data[key])
    return SelectorRecord(**data)


def create_selector(
    *,
    store: Store,
    selector_id: str,
    owner: str,
    job_id: str,
    method: str,
    params: dict,
    features_in: list[str],
    selected: list[str],
) -> SelectorRecord:
    record = SelectorRecord(
        id=selector_id,
        owner=owner,
        job_id=job_id,
        method=method,
        params=params,
        features_in=features_in,
        selected=selected,
        created_at=now(),
    )
    with store.connect() as conn:
        conn.execute(
            "INSERT INTO selectors VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                selector_id,
                owner,
                job_id,
                method,
                json.dumps(params),
                json.dumps(features_in),
                json.dumps(selected),
                record.created_at,
            ),
        )
    return record


def get_selector(
    *, store: Store, owner: str, selector_id: str
) -> SelectorRecord | None:
    with store.connect() as conn:
        row = conn.execute(
            "SELECT * FROM selectors WHERE id = ? AND owner = ?", (selector_id, owner)
        ).fetchone()
    return None if row is None else _record(row)


def list_selectors(
    *, store: Store, owner: str, limit: int, offset: int = 0
) -> tuple[list[SelectorRecord], int]:
    with store.connect() as conn:
        rows = conn.execute(
            "SELECT * FROM selectors WHERE owner = ? ORDER BY created_at, id "
            "LIMIT ? OFFSET ?",
            (owner, *page(limit, offset)),
        ).fetchall()
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM selectors WHERE owner = ?", (owner,)
        ).fetchone()
    return [_record(r) for r in rows], count


def delete_selector(*, store: Store, owner: str, selector_id: str) -> bool:
    with store.connect() as conn:
        cursor = conn.execute(
            "DELETE FROM selectors WHERE id = ? AND owner = ?", (selector_id, owner)
        )
    if cursor.rowcount == 0:
        return False
    store.path("selectors", selector_id).unlink(missing_ok=True)
    return True
