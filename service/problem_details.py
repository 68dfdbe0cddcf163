"""The body of an RFC 9457 problem: built here, and only here.

The web process answers with one (:mod:`service.problems`), and a failed job
records one as its error (:mod:`service.jobs`, :mod:`service.executors`,
:mod:`service.store.jobs`). No web imports: worker processes build theirs
without loading FastAPI.
"""

from __future__ import annotations


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    type: str = "about:blank",
    instance: str | None = None,
    errors: list[dict] | None = None,
) -> dict:
    """A problem details object; ``instance`` and ``errors`` only when given.

    Examples
    --------
    >>> problem(404, "Not found", "no job with id 'x'", instance="/v1/jobs/x")
    ... # doctest: +NORMALIZE_WHITESPACE
    {'type': 'about:blank', 'title': 'Not found', 'status': 404,
     'detail': "no job with id 'x'", 'instance': '/v1/jobs/x'}
    """
    body = {"type": type, "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    if errors:
        body["errors"] = errors
    return body
