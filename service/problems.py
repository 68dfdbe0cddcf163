"""RFC 9457 problem details: every 4xx/5xx the service sends looks like this."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.schemas import JOB_REQUEST_TAGS

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("service")


class Problem(Exception):
    """Raise anywhere in a request to answer with a problem+json response.

    ``field`` names the request field at fault (``"params.n_bins"``).
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        title: str | None = None,
        field: str | None = None,
        headers: dict | None = None,
    ):
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.title = title or _TITLES.get(status, "Error")
        self.field = field
        self.headers = headers

    def to_dict(self, instance: str | None = None) -> dict:
        body = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if instance:
            body["instance"] = instance
        if self.field:
            body["errors"] = [{"field": self.field, "message": self.detail}]
        return body


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    411: "Length required",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    500: "Internal server error",
}


def not_found(kind: str, item_id: str) -> Problem:
    return Problem(404, f"no {kind} with id {item_id!r}")


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return JSONResponse(
        problem.to_dict(request.url.path),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers=problem.headers,
    )


def _field_name(loc) -> str:
    # Drop "body"/"query"/"path": users name the field, not where it lives;
    # and the tag pydantic adds for the job schema that the type picked.
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:]
        if loc[0] == "body" and parts and parts[0] in JOB_REQUEST_TAGS:
            parts = parts[1:]
    return ".".join(parts) or str(loc[0] if loc else "request")


async def _on_validation_error(request: Request, exc: RequestValidationError):
    errors = [
        {"field": _field_name(e.get("loc", ())), "message": e.get("msg", "invalid")}
        for e in exc.errors()
    ]
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors)
    body = {
        "type": "about:blank",
        "title": "Unprocessable content",
        "status": 422,
        "detail": detail,
        "instance": request.url.path,
        "errors": errors,
    }
    return JSONResponse(body, status_code=422, media_type=PROBLEM_JSON)


async def _on_problem(request: Request, exc: Problem):
    return problem_response(exc, request)


async def _on_http_exception(request: Request, exc: StarletteHTTPException):
    problem = Problem(exc.status_code, str(exc.detail), headers=exc.headers)
    return problem_response(problem, request)


async def _on_unexpected(request: Request, exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    problem = Problem(500, f"internal error ({type(exc).__name__}); see the logs")
    return problem_response(problem, request)


def add_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_exception_handler(Exception, _on_unexpected)
