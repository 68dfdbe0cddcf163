"""What one owner stores: for the per-key quotas."""

from __future__ import annotations

from dataclasses import dataclass

from service.store.db import Store


@dataclass(frozen=True)
class Usage:
    datasets: int
    #: Bytes of datasets and models, as uploaded.
    stored_bytes: int


def usage_of(*, store: Store, owner: str) -> Usage:
    with store.connect() as conn:
        n_datasets, dataset_bytes = conn.execute(
            "SELECT COUNT(*), CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) "
            "FROM datasets WHERE owner = ?",
            (owner,),
        ).fetchone()
        (model_bytes,) = conn.execute(
            "SELECT CAST(COALESCE(SUM(size_bytes), 0) AS BIGINT) FROM models "
            "WHERE owner = ?",
            (owner,),
        ).fetchone()
    return Usage(n_datasets, dataset_bytes + model_bytes)
