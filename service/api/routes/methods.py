"""``/v1/methods``: the registry, as the job schema sees it."""

from fastapi import APIRouter

from service import jobs
from service.api.deps import OwnerDep
from service.problems import Problem, problem_responses
from service.schemas import MethodPublic, MethodsPublic

router = APIRouter(prefix="/methods", tags=["methods"])


@router.get("", response_model=MethodsPublic, responses=problem_responses())
def list_methods(owner: OwnerDep) -> MethodsPublic:
    catalog = jobs.method_catalog()
    return MethodsPublic(data=catalog, count=len(catalog))


@router.get(
    "/{name}",
    response_model=MethodPublic,
    responses=problem_responses(described={404: "No such method"}),
)
def get_method(name: str, owner: OwnerDep) -> MethodPublic:
    for method in jobs.method_catalog():
        if method["name"] == name:
            return MethodPublic(**method)
    raise Problem(404, f"no method {name!r}; see GET /v1/methods")
