"""What one owner stores, and inserts that keep it within the per-key quotas."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.store.db import Store


@dataclass(frozen=True)
class Usage:
    datasets: int
    #: Bytes of datasets and models, as uploaded.
    stored_bytes: int


@dataclass(frozen=True)
class Quota:
    """What one owner may store: at most ``max_datasets`` datasets (None: no
    limit on the count) and ``max_bytes`` bytes of datasets and models."""

    max_datasets: int | None
    max_bytes: int


class QuotaExceeded(Exception):
    """An upload that would pass its owner's :class:`Quota`."""


# Files registered by reference are not the service's: they do not count.
_DATASET_BYTES = (
    "SELECT COALESCE(SUM(size_bytes), 0) FROM datasets "
    "WHERE owner = ? AND reference IS NULL"
)
_MODEL_BYTES = "SELECT COALESCE(SUM(size_bytes), 0) FROM models WHERE owner = ?"


def insert_within_quota(
    *,
    store: Store,
    table: str,
    values: Sequence,
    owner: str,
    size_bytes: int,
    quota: Quota | None,
) -> None:
    """``INSERT INTO table VALUES (values)``, only while the owner stays
    within ``quota`` with the row's ``size_bytes``, checked as the row is
    inserted under the owner's lock: simultaneous uploads, on any replica,
    cannot both pass it. Raises :class:`QuotaExceeded` otherwise."""
    marks = ", ".join("?" * len(values))
    if quota is None:
        with store.connect() as conn:
            conn.execute(f"INSERT INTO {table} VALUES ({marks})", values)
        return
    checks = [f"({_DATASET_BYTES}) + ({_MODEL_BYTES}) + ? <= ?"]
    args = [*values, owner, owner, size_bytes, quota.max_bytes]
    if table == "datasets" and quota.max_datasets is not None:
        checks.append("(SELECT COUNT(*) FROM datasets WHERE owner = ?) < ?")
        args += [owner, quota.max_datasets]
    query = f"INSERT INTO {table} SELECT {marks} WHERE " + " AND ".join(checks)
    with store.transaction() as conn:
        store.backend.lock(conn, owner)
        inserted = conn.execute(query, args).rowcount
    if inserted == 0:
        raise QuotaExceeded(owner)


def usage_of(*, store: Store, owner: str) -> Usage:
    with store.connect() as conn:
        n_datasets, dataset_bytes = conn.execute(
            "SELECT COUNT(*), CAST(COALESCE(SUM(CASE WHEN reference IS NULL "
            "THEN size_bytes ELSE 0 END), 0) AS BIGINT) FROM datasets "
            "WHERE owner = ?",
            (owner,),
        ).fetchone()
        (model_bytes,) = conn.execute(
            "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM models "
            "WHERE owner = ?",
            (owner,),
        ).fetchone()
    return Usage(n_datasets, dataset_bytes + model_bytes)
