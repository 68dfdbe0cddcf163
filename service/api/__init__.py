"""HTTP layer: thin routes, one module per resource, under ``/v1``."""

from fastapi import APIRouter

from service.api.routes import datasets, health, jobs, methods, models, selectors


def api_router() -> APIRouter:
    router = APIRouter(prefix="/v1")
    for module in (datasets, jobs, selectors, models, methods):
        router.include_router(module.router)
    return router


__all__ = ["api_router", "health"]
