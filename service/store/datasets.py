"""Dataset metadata: one row per dataset.

An uploaded table's data is an Arrow file beside the database. A dataset
registered by reference (:mod:`service.references`) is files of the user's
under an operator-allowed root, which the service reads but never stores:
its row keeps the URI, the files and their format, and its rows may be
unknown (CSV is not counted without reading it), stored as -1.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from service.store.db import Store, now, page
from service.store.jobs import active_jobs_reading, reads_dataset
from service.store.usage import Quota, insert_within_quota


class DatasetInUse(Exception):
    """A dataset that queued or running jobs (``job_ids``) still read."""

    def __init__(self, job_ids: list[str]):
        super().__init__(", ".join(job_ids))
        self.job_ids = job_ids


@dataclass(frozen=True)
class DatasetRecord:
    id: str
    owner: str
    name: str
    format: str
    size_bytes: int
    n_rows: int | None
    n_columns: int
    columns: list[dict]
    created_at: str
    #: For a dataset registered by reference: ``{"uri", "format", "files":
    #: [{"path", "size"}, ...]}``; None for an upload.
    reference: dict | None = None

    @property
    def streamed(self) -> bool:
        """Whether jobs read it in batches from the user's files."""
        return self.reference is not None

    @property
    def column_names(self) -> list[str]:
        return [c["name"] for c in self.columns]


def _record(row) -> DatasetRecord:
    row = dict(row)
    reference = row.pop("reference", None)
    return DatasetRecord(
        **{
            **row,
            "n_rows": None if row["n_rows"] < 0 else row["n_rows"],
            "columns": json.loads(row["columns"]),
            "reference": None if reference is None else json.loads(reference),
        }
    )


def create_dataset(
    *,
    store: Store,
    dataset_id: str,
    owner: str,
    name: str,
    fmt: str,
    size_bytes: int,
    n_rows: int | None,
    columns: list[dict],
    quota: Quota | None = None,
    reference: dict | None = None,
) -> DatasetRecord:
    record = DatasetRecord(
        id=dataset_id,
        owner=owner,
        name=name,
        format=fmt,
        size_bytes=size_bytes,
        n_rows=n_rows,
        n_columns=len(columns),
        columns=columns,
        created_at=now(),
        reference=reference,
    )
    insert_within_quota(
        store=store,
        table="datasets",
        values=(
            record.id,
            owner,
            name,
            fmt,
            size_bytes,
            -1 if n_rows is None else n_rows,
            len(columns),
            json.dumps(columns),
            record.created_at,
            None if reference is None else json.dumps(reference),
        ),
        owner=owner,
        size_bytes=0 if reference is not None else size_bytes,
        quota=quota,
    )
    return record


def get_dataset(*, store: Store, owner: str, dataset_id: str) -> DatasetRecord | None:
    """The dataset if it exists and belongs to ``owner``."""
    with store.connect() as conn:
        row = conn.execute(
            "SELECT * FROM datasets WHERE id = ? AND owner = ?", (dataset_id, owner)
        ).fetchone()
    return None if row is None else _record(row)


def list_datasets(
    *, store: Store, owner: str, limit: int, offset: int = 0
) -> tuple[list[DatasetRecord], int]:
    with store.connect() as conn:
        rows = conn.execute(
            "SELECT * FROM datasets WHERE owner = ? ORDER BY created_at, id "
            "LIMIT ? OFFSET ?",
            (owner, *page(limit, offset)),
        ).fetchall()
        (count,) = conn.execute(
            "SELECT COUNT(*) FROM datasets WHERE owner = ?", (owner,)
        ).fetchone()
    return [_record(r) for r in rows], count


def delete_dataset(*, store: Store, owner: str, dataset_id: str) -> bool:
    """Remove the metadata, then the file; False if there was no such dataset.

    Raises :class:`DatasetInUse` while a queued or running job reads it. The
    check and the delete are one statement under the owner's lock, which
    :func:`~service.store.jobs.create_job` takes too: a job accepted
    meanwhile, on any replica, either blocks the delete or is refused.
    """
    with store.transaction() as conn:
        store.backend.lock(conn, owner)
        cursor = conn.execute(
            "DELETE FROM datasets WHERE id = :dataset AND owner = :owner AND NOT "
            "EXISTS (SELECT 1 FROM jobs WHERE status IN ('queued', 'running') "
            f"AND {reads_dataset(store)})",
            {"dataset": dataset_id, "owner": owner},
        )
    if cursor.rowcount == 0:
        if get_dataset(store=store, owner=owner, dataset_id=dataset_id) is None:
            return False
        raise DatasetInUse(active_jobs_reading(store=store, dataset_id=dataset_id))
    store.path("datasets", dataset_id).unlink(missing_ok=True)
    return True
