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
from contextlib import asynccontextmanager, suppress
from pathlib import Path

from fastapi import FastAPI

from service import runner
from service.api import api_router, health
from service.config import Settings, get_settings
from service.diskspace import DiskSpace
from service.docs import add_docs
from service.executors import make_executor
from service.housekeeping import run_housekeeping
from service.logs import RequestLogMiddleware, configure_logging
from service.problems import add_problem_handlers, problem_schemas
from service.quotas import add_disk_full_handler
from service.ratelimit import RateLimitMiddleware
from service.store import Store, open_store
from service.store.jobs import recover_jobs
from service.transforms import TransformPool

log = logging.getLogger("service")

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
        version=runner.featimp_version(),
        lifespan=_lifespan,
        docs_url=None,  # add_docs serves them, without a CDN
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.version = runner.featimp_version()
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
            method["enum"] = runner.method_names()
            method["examples"] = runner.method_names()[:1]
        return app.openapi_schema

    return openapi


@asynccontextmanager
async def _lifespan(app: FastAPI):
    settings: Settings = app.state.settings
    # Files the service and its workers create are the service's alone.
    umask = os.umask(0o077)
    store = open_store(settings.data_dir)
    _clear_temporary_files(store)
    app.state.store = store
    app.state.api_keys = settings.api_keys or [_stored_api_key(store)]
    DiskSpace.from_settings(settings, store.data_dir).refresh()  # the reserve
    # Before the executor starts, which runs queued jobs at once.
    failed, queued = recover_jobs(store=store)
    executor = make_executor(settings, store)
    app.state.executor = executor
    if failed or queued:
        log.warning(
            "recovered after a restart",
            extra={"failed_jobs": failed, "requeued_jobs": queued},
        )
    for job_id in queued:
        executor.submit(job_id)
    app.state.transforms = TransformPool(workers=settings.transform_workers)
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
        executor.shutdown()
        os.umask(umask)


def _clear_temporary_files(store: Store) -> None:
    # Half-received uploads of a previous run; finished files live elsewhere.
    shutil.rmtree(store.data_dir / "tmp", ignore_errors=True)
    (store.data_dir / "tmp").mkdir(exist_ok=True)


def _stored_api_key(store: Store) -> str:
    """The key of a service started without FEATIMP_API_KEYS (made once)."""
    path = store.data_dir / "api_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key + "\n")
    log.warning("no FEATIMP_API_KEYS set: generated a key in %s", path)
    return key


def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    data_dir: str | Path | None = None,
    workers: int | None = None,
) -> None:
    """Run the service with uvicorn until interrupted (``featimp serve``).

    ``data_dir`` and ``workers`` override ``FEATIMP_DATA_DIR`` and
    ``FEATIMP_WORKERS``.
    """
    import uvicorn

    overrides = {"data_dir": data_dir, "workers": workers}
    settings = get_settings(**{k: v for k, v in overrides.items() if v is not None})
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings), host=host, port=port, log_config=None, access_log=False
    )
