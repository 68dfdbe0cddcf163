"""``GET /healthz``: liveness without an API key."""

from fastapi import APIRouter, Request

from service.schemas import HealthPublic

router = APIRouter(tags=["operations"])


@router.get("/healthz", response_model=HealthPublic)
def healthz(request: Request) -> HealthPublic:
    state = request.app.state
    return HealthPublic(
        status="ok",
        version=state.version,
        executor=state.executor.name,
        workers=state.executor.workers,
    )
