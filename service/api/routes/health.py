"""``GET /healthz`` (liveness) and ``GET /readyz`` (can a job run?), no API key."""

from fastapi import APIRouter, Request

from service.diskspace import DiskSpace
from service.problems import PROBLEM_JSON, Problem
from service.schemas import HealthPublic
from service.store import jobs as job_store

router = APIRouter(tags=["operations"])

READY_RETRY_SECONDS = 5


@router.get("/healthz", response_model=HealthPublic, summary="Liveness and capacity")
def healthz(request: Request) -> HealthPublic:
    """200 while the process serves requests. `status` is `degraded`, with
    the reasons in `problems`, when fewer workers run than are configured,
    the disk is full, or the service is shutting down."""
    return _report(request)[0]


@router.get(
    "/readyz",
    response_model=HealthPublic,
    responses={
        503: {
            "description": "No job can run now: no worker runs, the disk is "
            "full, or the service is shutting down",
            "content": {
                PROBLEM_JSON: {
                    "schema": {"$ref": "#/components/schemas/ProblemDetails"}
                }
            },
        }
    },
    summary="Readiness: 503 while no job can run",
)
def readyz(request: Request) -> HealthPublic:
    report, blocking = _report(request)
    if blocking:
        raise Problem(
            503,
            "not ready: " + "; ".join(blocking),
            title="Service unavailable",
            headers={"Retry-After": str(READY_RETRY_SECONDS)},
        )
    return report


def _report(request: Request) -> tuple[HealthPublic, list[str]]:
    """The health report, and what keeps every job from running."""
    state = request.app.state
    capacity = state.executor.capacity()
    disk = DiskSpace.from_settings(state.settings, state.store.data_dir).refresh()
    counts = job_store.count_active(store=state.store)
    blocking, problems = [], []
    if capacity.workers_alive == 0:
        blocking.append(f"no worker is running (0 of {capacity.workers})")
    elif capacity.workers_alive < capacity.workers:
        problems.append(
            f"only {capacity.workers_alive} of {capacity.workers} workers are running"
        )
    if capacity.draining:
        blocking.append("the service is shutting down")
    if disk.low:
        blocking.append(disk.low)
    report = HealthPublic(
        status="degraded" if blocking or problems else "ok",
        version=state.version,
        executor=state.executor.name,
        workers=capacity.workers,
        workers_alive=capacity.workers_alive,
        jobs_running=counts["running"],
        jobs_queued=counts["queued"],
        accepting_jobs=not capacity.draining,
        disk_free_bytes=disk.free_bytes,
        problems=blocking + problems,
    )
    return report, blocking
