"""The app factory and the ``featimp serve`` entry point.

Nothing happens at import time: :func:`create_app` builds the app from
settings, and its lifespan opens the store and starts the executor.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import shutil
import time
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI
from pydantic import ValidationError

from service import jobs
from service.api import api_router, health
from service.config import Settings, get_settings
from service.diskspace import DiskSpace
from service.docs import add_docs
from service.executors import make_executor
from service.housekeeping import run_housekeeping
from service.logs import RequestLogMiddleware, configure_logging
from service.parsing import ParsePool
from service.problems import add_problem_handlers, problem_schemas
from service.quotas import add_disk_full_handler
from service.ratelimit import RateLimitMiddleware
from service.replica import Replica
from service.store import DatabaseUnavailable, Store, open_store
from service.transforms import TransformPool

log = logging.getLogger("service")
#: Temporary files older than this are a crashed run's, even while other
#: replicas share the data directory.
_STALE_TEMPORARY_SECONDS = 24 * 3600

_DESCRIPTION = """\
Rank and select the features of tabular data, as batch jobs.

Upload a CSV or Parquet table to `/v1/datasets`, start a job on
`/v1/jobs` with any method of `GET /v1/methods`, poll `/v1/jobs/{id}`, and
read `/v1/jobs/{id}/result`. A `responsiveness` job scores, for each row, how
responsive every feature is (recourse), with a model the service trains or
an XGBoost JSON / LightGBM text model uploaded to `/v1/models`. Every request
needs an `X-API-Key` header; each key sees only its own datasets, jobs,
selectors and models. JSON bodies are `application/json` of at most
`FEATIMP_MAX_JSON_BYTES` (1 MiB by default). Errors are RFC 9457
`application/problem+json`, and never name a path on the server.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the FastAPI app; the store and executor start with its lifespan.

    Examples
    --------
    >>> app = create_app(Settings(data_dir="/tmp/featimp-doctest", api_keys="k"))
    >>> "/v1/jobs/{job_id}/result" in app.openapi()["paths"]
    True
    """
    settings = settings or get_settings()
    app = FastAPI(
        title="featimp",
        summary="Feature importance jobs over HTTP",
        description=_DESCRIPTION,
        version=jobs.featimp_version(),
        lifespan=_lifespan,
        docs_url=None,  # add_docs serves them, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.version = jobs.featimp_version()
    add_problem_handlers(app)
    add_disk_full_handler(app)
    app.add_middleware(
        RateLimitMiddleware,
        rate=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
    )
    app.add_middleware(RequestLogMiddleware)
    app.include_router(health.router)
    app.include_router(api_router())
    add_docs(app)
    app.openapi = _openapi_with_methods(app)
    return app


def _openapi_with_methods(app: FastAPI):
    """The OpenAPI schema, with the registry's method names as an enum, and
    the problem schemas that every route's error responses refer to."""

    def openapi() -> dict:
        if app.openapi_schema is None:
            schema = FastAPI.openapi(app)
            schema["components"]["schemas"].update(problem_schemas())
            method = schema["components"]["schemas"]["JobCreate"]["properties"][
                "method"
            ]
            method["enum"] = jobs.method_names()
            method["examples"] = jobs.method_names()[:1]
        return app.openapi_schema

    return openapi


@asynccontextmanager
async def _lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    # Files the service and its workers create are the service's alone.
    umask = os.umask(0o077)
    store = open_store(settings.data_dir, settings.database_url)
    replica = Replica(store, lease_seconds=settings.lease_seconds)
    _clear_temporary_files(store, shared=replica.register() > 0)
    app.state.store = store
    app.state.api_keys = settings.api_keys or [_stored_api_key(store)]
    DiskSpace.from_settings(settings, store.data_dir).refresh()  # the reserve
    # Before the executor starts, which runs queued jobs at once.
    failed, queued = replica.recover()
    executor = make_executor(settings, store, replica=replica.id)
    app.state.executor = executor
    replica.start()
    if failed or queued:
        log.warning(
            "recovered after a restart",
            extra={"failed_jobs": failed, "requeued_jobs": queued},
        )
    for job_id in queued:
        executor.submit(job_id)
    app.state.transforms = TransformPool(
        workers=settings.transform_workers, seconds=settings.job_deadline_seconds
    )
    app.state.parsers = ParsePool.from_settings(settings)
    housekeeping = asyncio.create_task(
        run_housekeeping(
            store,
            retention_days=settings.result_retention_days,
            interval=settings.retention_sweep_seconds,
        )
    )
    log.info(
        "service started",
        extra={
            "data_dir": str(store.data_dir),
            "database": store.backend.name,
            "replica": replica.id,
            "executor": executor.name,
            "workers": executor.workers,
        },
    )
    try:
        yield
    finally:
        housekeeping.cancel()
        with suppress(asyncio.CancelledError):
            await housekeeping
        app.state.transforms.shutdown()
        app.state.parsers.shutdown()
        executor.shutdown()
        replica.stop()
        os.umask(umask)


def _clear_temporary_files(store: Store, *, shared: bool = False) -> None:
    """Remove half-received uploads of a previous run; finished files live
    elsewhere. While other replicas run (``shared``), only files untouched
    for a day: the others' uploads in progress are there too."""
    tmp = store.data_dir / "tmp"
    if not shared:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(exist_ok=True)
        return
    stale = time.time() - _STALE_TEMPORARY_SECONDS
    for path in tmp.iterdir():
        with suppress(FileNotFoundError):
            if path.lstat().st_mtime < stale:
                path.unlink()


def _stored_api_key(store: Store) -> str:
    """The key of a service started without FEATIMP_API_KEYS (made once)."""
    path = store.data_dir / "api_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(32)
    draft = store.temp_path(".key")
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    try:
        # Whole or not at all: a replica starting at once reads the same key.
        os.link(draft, path)
    except FileExistsError:
        return path.read_text().strip()
    finally:
        draft.unlink()
    log.warning("no FEATIMP_API_KEYS set: generated a key in %s", path)
    return key


#: What ``featimp serve`` and ``python -m service`` pass on to :func:`serve`.
SERVE_OPTIONS = ("host", "port", "data_dir", "workers", "database_url")


def _settings_errors(exc: ValidationError) -> str:
    """What is wrong with the settings, without the values."""
    return "; ".join(
        f"{'.'.join(map(str, e['loc']))}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: str | Path | None = None,
    workers: int | None = None,
    database_url: str | None = None,
) -> None:
    """Run the service with uvicorn until interrupted (``featimp serve``).

    ``data_dir``, ``workers`` and ``database_url`` override
    ``FEATIMP_DATA_DIR``, ``FEATIMP_WORKERS`` and ``FEATIMP_DATABASE_URL``.
    Raises ValueError, before serving anything, when the database cannot be
    opened.
    """
    import uvicorn

    overrides = {"data_dir": data_dir, "workers": workers, "database_url": database_url}
    try:
        settings = get_settings(**{k: v for k, v in overrides.items() if v is not None})
    except ValidationError as exc:  # its message would repeat the value: a password
        raise ValueError(_settings_errors(exc)) from None
    configure_logging(settings.log_level)
    try:
        open_store(settings.data_dir, settings.database_url).close()
    except DatabaseUnavailable as exc:
        raise ValueError(str(exc)) from None
    uvicorn.run(
        create_app(settings), host=host, port=port, log_config=None, access_log=False
    )
