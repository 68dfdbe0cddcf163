"""HTTP layer: thin routes, one module per resource, under ``/v1``."""

from fastapi import APIRouter

from service.api.routes import datasets, health, jobs, methods, selectors


def api_router() -> APIRouter:
    router = APIRouter(prefix="/v1")
    for module in (datasets, jobs, selectors, methods):
        router.include_router(module.router)
    return router


__all__ = ["api_router", "health"]
