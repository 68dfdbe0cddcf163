"""What one API key may start and store, and how far job parameters go.

Checked before a job or an upload is accepted, each a problem that names the
limit and its setting:

* a job parameter over its bound (``FEATIMP_PARAM_CAPS``): 422 naming the
  field, e.g. ``params.stability``;
* a key with ``FEATIMP_MAX_QUEUED_JOBS_PER_KEY`` queued jobs: 429 with
  ``Retry-After`` (the count is checked again as the job is inserted, so
  simultaneous submissions cannot pass it);
* a key over ``FEATIMP_MAX_DATASETS_PER_KEY`` datasets or
  ``FEATIMP_MAX_STORED_BYTES_PER_KEY`` bytes, and a disk under
  ``FEATIMP_MIN_FREE_DISK_BYTES`` free: 507 (waiting does not help:
  deleting does). The quotas are checked again as the upload is recorded
  (:func:`upload_quota`), so simultaneous uploads cannot pass them.

A full disk met anywhere in a request is a 507 too
(:func:`add_disk_full_handler`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from fastapi import FastAPI, Request

from service.diskspace import HOW_TO_FREE, DiskSpace, is_disk_full, release_reserve
from service.problems import Problem, problem_response
from service.store import Store
from service.store import jobs as job_store
from service.store.usage import Quota, QuotaExceeded, usage_of

#: When to try a job again after a full queue: a guess, jobs take seconds
#: to minutes.
QUEUE_RETRY_SECONDS = 30
DISK_RETRY_SECONDS = 60
#: Multipart framing an upload may carry beyond its file (as
#: ``service.api.uploads.MULTIPART_OVERHEAD``, which would import the routes).
_MULTIPART_FRAMING = 64 * 1024


def check_job(*, settings, store: Store, owner: str, request: dict) -> None:
    """Refuse a job over a parameter bound, on a full disk or a full queue."""
    over = param_over_cap(request, settings.param_caps)
    if over is not None:
        field, detail = over
        raise Problem(422, detail, field=field)
    _check_disk(settings, store)
    queued = job_store.count_active(store=store, owner=owner)["queued"]
    if queued >= settings.max_queued_jobs_per_key:
        raise queue_full(settings.max_queued_jobs_per_key)


def queue_full(limit: int) -> Problem:
    return Problem(
        429,
        f"this API key has {limit} queued jobs, its limit "
        "(FEATIMP_MAX_QUEUED_JOBS_PER_KEY): wait for some to start, or cancel "
        "them (DELETE /v1/jobs/{id})",
        title="Too many requests",
        headers={"Retry-After": str(QUEUE_RETRY_SECONDS)},
    )


def check_upload(
    *, settings, store: Store, owner: str, kind: str, incoming: int
) -> None:
    """Refuse to store ``incoming`` more bytes of ``kind`` ("datasets",
    "models") over the key's quotas or the free space of the disk."""
    _check_disk(settings, store, incoming)
    usage = usage_of(store=store, owner=owner)
    if kind == "datasets" and usage.datasets >= settings.max_datasets_per_key:
        raise _quota(
            f"this API key stores {usage.datasets} datasets, its limit "
            "(FEATIMP_MAX_DATASETS_PER_KEY): delete some (DELETE "
            "/v1/datasets/{id}) first"
        )
    limit = settings.max_stored_bytes_per_key
    if usage.stored_bytes + incoming > limit:
        raise _quota(
            f"this API key stores {usage.stored_bytes} bytes of datasets and "
            f"models; {incoming} more would pass its limit of {limit} bytes "
            "(FEATIMP_MAX_STORED_BYTES_PER_KEY): delete some first"
        )


def record_within_quota(
    create, *, settings, store: Store, owner: str, kind: str, path, **fields
):
    """``create(store=, owner=, quota=, **fields)`` (a store's
    ``create_dataset``/``create_model``) within the key's quotas, checked as
    the upload is recorded: of simultaneous uploads only those that fit are
    recorded. The others' files at ``path`` are removed and they get the 507
    :func:`check_upload` would now give."""
    quota = Quota(settings.max_datasets_per_key, settings.max_stored_bytes_per_key)
    try:
        return create(store=store, owner=owner, quota=quota, **fields)
    except QuotaExceeded:
        if path is not None:
            path.unlink(missing_ok=True)
    # Files registered by reference are not stored: only their count counts.
    incoming = 0 if fields.get("reference") else fields["size_bytes"]
    check_upload(
        settings=settings, store=store, owner=owner, kind=kind, incoming=incoming
    )
    raise _quota(  # pragma: no cover - only if a delete came in between
        "this upload would pass this API key's storage quotas "
        "(FEATIMP_MAX_DATASETS_PER_KEY, FEATIMP_MAX_STORED_BYTES_PER_KEY)"
    )


def declared_length(request: Request) -> int:
    """What an upload will store at least, from its Content-Length (less
    the multipart framing allowed); 0 if it has none (chunked)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        return 0
    multipart = request.headers.get("content-type", "").startswith("multipart/")
    return max(0, int(length) - (_MULTIPART_FRAMING if multipart else 0))


def _quota(detail: str) -> Problem:
    return Problem(507, detail, title="Insufficient storage")


def _check_disk(settings, store: Store, incoming: int = 0) -> None:
    reason = DiskSpace.from_settings(settings, store.data_dir).room_problem(incoming)
    if reason is not None:
        raise disk_full_problem(reason)


def disk_full_problem(reason: str) -> Problem:
    return Problem(
        507,
        f"{reason}; {HOW_TO_FREE}",
        title="Insufficient storage",
        headers={"Retry-After": str(DISK_RETRY_SECONDS)},
    )


async def _on_os_error(request: Request, exc: Exception):
    """A full disk anywhere in a request is a 507; other errors go on."""
    if not is_disk_full(exc):
        raise exc
    release_reserve(request.app.state.store.data_dir)
    problem = disk_full_problem(
        "no space left on the disk of the data directory while this request "
        "was being stored"
    )
    return problem_response(problem, request)


def add_disk_full_handler(app: FastAPI) -> None:
    """Answer a full disk (ENOSPC, or a database's
    :class:`~service.store.StorageFull`) with a 507 problem."""
    app.add_exception_handler(OSError, _on_os_error)


def param_over_cap(request: dict, caps: Mapping[str, int]) -> tuple[str, str] | None:
    """``(field, detail)`` of the first parameter over its bound, or None.

    Looks through the job's ``params`` (nested ones too, such as the
    ``(name, params)`` members of a consensus) and a trained model's.

    Examples
    --------
    >>> field, detail = param_over_cap(
    ...     {"params": {"stability": 10**9}}, {"stability": 200}
    ... )
    >>> field
    'params.stability'
    >>> detail
    'params.stability=1000000000 is over the limit of 200 (FEATIMP_PARAM_CAPS)'
    >>> param_over_cap({"params": {"methods": [["mi", {"n_bins": 9}]]}}, {"n_bins": 10})
    """
    model = request.get("model")
    roots = [("params", request.get("params"))]
    if isinstance(model, dict):
        roots.append(("model.params", model.get("params")))
    stack = [root for root in roots if root[1] is not None]
    while stack:
        path, value = stack.pop()
        if isinstance(value, dict):
            for name, item in value.items():
                if name in caps:
                    detail = _over(f"{path}.{name}", name, item, caps[name])
                    if detail is not None:
                        return f"{path}.{name}", detail
                stack.append((f"{path}.{name}", item))
        elif isinstance(value, list):
            stack.extend((f"{path}[{i}]", item) for i, item in enumerate(value))
    return None


def _over(field: str, name: str, value, cap: int) -> str | None:
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, bool) or not isinstance(item, int | float):
            continue
        effective, shown = item, f"{field}={value}"
        if name == "n_jobs" and item < 0:  # joblib: -1 is every CPU
            effective = (os.cpu_count() or 1) + 1 + item
            shown += f" ({effective} CPUs)"
        if effective > cap:
            return f"{shown} is over the limit of {cap} (FEATIMP_PARAM_CAPS)"
    return None
