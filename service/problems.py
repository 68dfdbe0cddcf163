"""RFC 9457 problem details: every 4xx/5xx the service sends looks like this.

A detail never names a server path (they are replaced by ``<path>``), and an
error nobody handled is logged once, by :class:`UnhandledErrorMiddleware`,
and answered with a 500 problem. Routes declare the problems they send with
:func:`problem_responses`, so the OpenAPI document lists every status and
its ``application/problem+json`` body (:class:`ProblemDetails`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.problem_details import problem
from service.schemas import JOB_REQUEST_TAGS, ProblemDetails
from service.store.db import redact_paths

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
        errors = [{"field": self.field, "message": self.detail}] if self.field else None
        return problem(
            self.status, self.title, self.detail, instance=instance, errors=errors
        )


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
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
    507: "Insufficient storage",
}
#: What a status means on any route; a route may say more (problem_responses).
_MEANINGS = {
    400: "The body is malformed: not UTF-8, JSON nested too deeply, or "
    "broken multipart",
    401: "No X-API-Key header, or a key this service does not accept",
    404: "Nothing with this id belongs to this key",
    409: "The request conflicts with the state of the resource",
    413: "The body is larger than this service's limit",
    415: "The body is of a media type this route does not take",
    422: "A field of the request is invalid; `errors` names it",
    429: "Too many requests from this key (see Retry-After); retry later",
    503: "The service is not taking this request now; retry later",
    507: "No room is left to store it: the disk, or this key's quota, is full",
}
_PROBLEM_REF = {"$ref": "#/components/schemas/ProblemDetails"}


def problem_responses(
    *statuses: int, described: dict[int, str] | None = None
) -> dict[int, dict[str, Any]]:
    """The OpenAPI ``responses`` of the problems a route sends.

    Each status is declared with an ``application/problem+json`` body of
    :class:`ProblemDetails`: those in ``statuses`` with their usual meaning,
    those in ``described`` with what they mean on this route. 401, 422 and
    429 are always there: every route that declares problems takes an API
    key, has its parameters checked, and counts against the key's rate limit.

    Examples
    --------
    >>> r = problem_responses(404, described={409: "The job has ended"})
    >>> sorted(r), r[409]["description"], list(r[404]["content"])
    ([401, 404, 409, 422, 429], 'The job has ended', ['application/problem+json'])
    """
    declared = {s: _MEANINGS[s] for s in (401, 422, 429, *statuses)}
    declared.update(described or {})
    return {
        status: {
            "description": declared[status],
            "content": {PROBLEM_JSON: {"schema": _PROBLEM_REF}},
        }
        for status in sorted(declared)
    }


def problem_schemas() -> dict[str, dict]:
    """The OpenAPI components :func:`problem_responses` refers to.

    Examples
    --------
    >>> sorted(problem_schemas())
    ['FieldError', 'ProblemDetails']
    """
    schema = ProblemDetails.model_json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    return {**schema.pop("$defs", {}), "ProblemDetails": schema}


def not_found(kind: str, item_id: str) -> Problem:
    return Problem(404, f"no {kind} with id {item_id!r}")


def problem_response(problem: Problem, request: Request) -> JSONResponse:
    return _response(
        request, problem.to_dict(request.url.path), problem.status, problem.headers
    )


def _response(request: Request, body: dict, status: int, headers=None):
    roots = [request.app.state.settings.data_dir]
    store = getattr(request.app.state, "store", None)
    if store is not None:
        roots.append(store.data_dir)
    return JSONResponse(
        _clean(body, roots),
        status_code=status,
        media_type=PROBLEM_JSON,
        headers=headers,
    )


def _clean(value, roots):
    """No server paths, and text that encodes as UTF-8 (JSON may carry lone
    surrogates such as ``"\\ud800"``, which a detail then quotes)."""
    if isinstance(value, str):
        text = redact_paths(value, *roots)
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    if isinstance(value, dict):
        return {k: _clean(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, roots) for v in value]
    return value


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
    body = problem(422, _TITLES[422], detail, instance=request.url.path, errors=errors)
    return _response(request, body, 422)


async def _on_problem(request: Request, exc: Problem):
    return problem_response(exc, request)


async def _on_http_exception(request: Request, exc: StarletteHTTPException):
    headers = exc.headers
    if exc.status_code == 405:
        headers = {**(headers or {}), "Allow": _allowed_methods(request)}
    problem = Problem(exc.status_code, str(exc.detail), headers=headers)
    return problem_response(problem, request)


def _allowed_methods(request: Request) -> str:
    """Every method of the path: Starlette's 405 names only those of the first
    route that matched it (POST of POST /v1/datasets, not GET too)."""
    return ", ".join(
        method
        for method in _METHODS
        if any(
            route.matches({**request.scope, "method": method})[0] == Match.FULL
            for route in request.app.router.routes
        )
    )


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")


class UnhandledErrorMiddleware:
    """Log an unhandled error once and answer with a 500 problem.

    An ``Exception`` handler would not do: Starlette calls it and then raises
    the error again for the server, which logs it a second time (and closes
    the connection). Once a response has started there is nothing left to
    answer with: the error goes on to the server, which logs it, alone.
    """

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def send_watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, send_watched)
        except Exception as exc:
            if started:
                raise
            request = Request(scope)
            log.exception("unhandled error on %s %s", request.method, scope["path"])
            problem = Problem(
                500, f"internal error ({type(exc).__name__}); see the logs"
            )
            await problem_response(problem, request)(scope, receive, send)


def add_problem_handlers(app: FastAPI) -> None:
    """Problem handlers for what routes raise, and the catch-all middleware
    (added first, so that it runs inside the request log)."""
    app.add_exception_handler(Problem, _on_problem)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_exception)
    app.add_middleware(UnhandledErrorMiddleware)
