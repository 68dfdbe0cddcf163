"""Requests per API key: a token bucket per ``X-API-Key`` on ``/v1``.

Each key may make ``burst`` requests at once and ``rate`` per second on
average; past that it gets a 429 problem with ``Retry-After``. Buckets are
kept for the ``max_keys`` keys seen last, by a hash of the key, in the
process: one service, one limit (several replicas each allow the rate).
"""

from __future__ import annotations

import hashlib
import math
import time
from collections import OrderedDict

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from service.problems import Problem, problem_response

_KEY_HEADER = b"x-api-key"


class TokenBuckets:
    """``burst`` tokens per key, refilled at ``rate`` per second.

    Examples
    --------
    >>> buckets = TokenBuckets(rate=1, burst=2)
    >>> [buckets.take("k", now=0.0) for _ in range(3)]
    [0.0, 0.0, 1.0]
    >>> buckets.take("k", now=1.0)
    0.0
    """

    def __init__(self, *, rate: float, burst: int, max_keys: int = 10_000):
        self.rate = rate
        self.burst = burst
        self.max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def take(self, key: str, *, now: float | None = None) -> float:
        """Take a token: 0, or the seconds until there is one (none taken)."""
        now = time.monotonic() if now is None else now
        tokens, last = self._buckets.pop(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        wait = 0.0
        if tokens >= 1:
            tokens -= 1
        else:
            wait = (1 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        if len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return wait


class RateLimitMiddleware:
    """429 for a key past its rate on ``/v1``; ``rate=0`` turns it off.

    It runs in the event loop only, so the buckets need no lock.
    """

    def __init__(self, app: ASGIApp, *, rate: float, burst: int):
        self.app = app
        self.buckets = TokenBuckets(rate=rate, burst=burst) if rate > 0 else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.buckets is not None and scope["type"] == "http":
            key = dict(scope["headers"]).get(_KEY_HEADER)
            if key and scope["path"].startswith("/v1/"):
                wait = self.buckets.take(hashlib.sha256(key).hexdigest())
                if wait > 0:
                    problem = self._problem(math.ceil(wait))
                    response = problem_response(problem, Request(scope))
                    await response(scope, receive, send)
                    return
        await self.app(scope, receive, send)

    def _problem(self, retry_after: int) -> Problem:
        buckets = self.buckets
        return Problem(
            429,
            f"this API key made more than {buckets.rate:g} requests per second "
            f"(in bursts of {buckets.burst}; FEATIMP_RATE_LIMIT_PER_SECOND, "
            f"FEATIMP_RATE_LIMIT_BURST): retry in {retry_after} s",
            title="Too many requests",
            headers={"Retry-After": str(retry_after)},
        )
