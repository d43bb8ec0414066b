"""Fault injection on API paths: a rate limit, random failures, failures after commit, drops.

``FaultMiddleware`` runs inside ``ApiMiddleware`` (after the key check, so a
failure is always a well-authenticated request's). For each request it:

- answers ``429`` with ``Retry-After`` when the rate limit (requests per
  second, a leaky bucket from aiolimiter) is spent;
- asks its ``FaultPolicy`` whether this request fails, and how: ``429`` with
  ``Retry-After``, ``500``, ``503``, or a dropped connection; a ``500``,
  ``503`` or drop may come **after commit**: the API handles the request
  (state changes, an ``Idempotency-Key`` is recorded in the same
  transaction), then its answer is thrown away, as a timed-out real request's
  would be.

``RandomFaults`` draws each decision from the seed, the request (method,
path, query, body) and how many times that same request was seen: a seeded
run repeats itself whatever the interleaving of concurrent clients.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import random
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from aiolimiter import AsyncLimiter
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.emulator.middleware import RequestStats, is_api_path
from reconciler.emulator.problems import ConnectionDropped, error_body

RETRY_AFTER_S = 1


class FaultKind(StrEnum):
    TOO_MANY_REQUESTS = "429"
    INTERNAL_ERROR = "500"
    UNAVAILABLE = "503"
    DROPPED = "dropped"


@dataclass(frozen=True)
class Fault:
    """How one request fails; ``after_commit``: only once the API has handled it."""

    kind: FaultKind
    after_commit: bool = False

    @property
    def label(self) -> str:
        return f"{self.kind.value} after commit" if self.after_commit else self.kind.value


class FaultPolicy(Protocol):
    """Decides which requests fail; ``reset`` forgets what it has seen."""

    def choose(self, method: str, target: str, body: bytes) -> Fault | None: ...

    def reset(self) -> None: ...


class RandomFaults:
    """Fail a share ``fail_rate`` of requests, evenly over the four kinds.

    Half the 500s, 503s and drops (``after_commit_share``) happen after commit.
    Without a seed, a random one is drawn.
    """

    def __init__(
        self, fail_rate: float, seed: int | None = None, *, after_commit_share: float = 0.5
    ) -> None:
        if not 0.0 <= fail_rate <= 1.0:
            raise ValueError("fail_rate must be between 0 and 1")
        self.fail_rate = fail_rate
        self.after_commit_share = after_commit_share
        self.seed = seed if seed is not None else secrets.randbits(64)
        self._key = str(self.seed).encode()
        self._seen: Counter[str] = Counter()

    def choose(self, method: str, target: str, body: bytes) -> Fault | None:
        # Keyed by the seed: the body may hold a client secret, so never a bare hash of it.
        request = f"{method} {target}\n".encode() + body
        digest = hmac.new(self._key, request, hashlib.sha256).hexdigest()
        occurrence = self._seen[digest]
        self._seen[digest] += 1
        draw = random.Random(f"{digest}:{occurrence}")
        if draw.random() >= self.fail_rate:
            return None
        kind = draw.choice(list(FaultKind))
        late = kind is not FaultKind.TOO_MANY_REQUESTS and draw.random() < self.after_commit_share
        return Fault(kind, after_commit=late)

    def reset(self) -> None:
        self._seen.clear()


class RateLimit:
    """At most ``per_second`` requests a second (bursts included); one bucket per event loop."""

    def __init__(self, per_second: int) -> None:
        if per_second < 1:
            raise ValueError("the rate limit must be at least 1 request per second")
        self.per_second = per_second
        self.retry_after = max(1, math.ceil(1 / per_second))
        self._bucket: AsyncLimiter | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def admit(self) -> bool:
        """Take a slot if one is free; never waits for one."""
        loop = asyncio.get_running_loop()
        if self._bucket is None or self._loop is not loop:
            self._bucket, self._loop = AsyncLimiter(self.per_second, 1), loop
        if not self._bucket.has_capacity():
            return False
        await self._bucket.acquire()  # capacity is there: returns without suspending
        return True

    def reset(self) -> None:
        self._bucket = None


class FaultMiddleware:
    """Rate limit and injected faults on API paths; everything else passes through."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        stats: RequestStats,
        policy: FaultPolicy | None = None,
        rate_limit: RateLimit | None = None,
    ) -> None:
        self.app = app
        self.stats = stats
        self.policy = policy
        self.rate_limit = rate_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_api_path(scope["path"]):
            await self.app(scope, receive, send)
            return
        if self.rate_limit is not None and not await self.rate_limit.admit():
            self.stats.record_fault("rate limited")
            retry_after = self.rate_limit.retry_after
            await _too_many_requests(retry_after, "Rate limit exceeded")(scope, receive, send)
            return
        if self.policy is None:
            await self.app(scope, receive, send)
            return
        body, replay = await _buffered(receive)
        fault = self.policy.choose(scope["method"], _target(scope), body)
        if fault is None:
            await self.app(scope, replay, send)
            return
        self.stats.record_fault(fault.label)
        if fault.after_commit:
            await self.app(scope, replay, _discard)
        await _fail(fault, scope, replay, send)


def _target(scope: Scope) -> str:
    query = scope.get("query_string", b"").decode("latin-1")
    return f"{scope['path']}?{query}" if query else str(scope["path"])


async def _buffered(receive: Receive) -> tuple[bytes, Receive]:
    """Read the whole request body; return it and a ``receive`` that replays it."""
    messages: list[Message] = []
    chunks: list[bytes] = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break

    async def replay() -> Message:
        return messages.pop(0) if messages else await receive()

    return b"".join(chunks), replay


async def _discard(message: Message) -> None:
    """The answer of a request that fails after commit: nobody will see it."""


def _too_many_requests(retry_after: int, why: str) -> JSONResponse:
    body = error_body("rate_limited", f"{why}: retry after {retry_after} s.")
    return JSONResponse(body, status_code=429, headers={"Retry-After": str(retry_after)})


_ANSWERS: dict[FaultKind, Callable[[], JSONResponse]] = {
    FaultKind.TOO_MANY_REQUESTS: lambda: _too_many_requests(RETRY_AFTER_S, "Too many requests"),
    FaultKind.INTERNAL_ERROR: lambda: JSONResponse(
        error_body("internal_error", "Injected fault: internal server error."), status_code=500
    ),
    FaultKind.UNAVAILABLE: lambda: JSONResponse(
        error_body("service_unavailable", "Injected fault: service unavailable."),
        status_code=503,
    ),
}


async def _fail(fault: Fault, scope: Scope, receive: Receive, send: Send) -> None:
    if fault.kind is not FaultKind.DROPPED:
        await _ANSWERS[fault.kind]()(scope, receive, send)
        return
    # ASGI cannot close a connection unanswered: promise a body, then fail before sending
    # it. The server closes the connection (uvicorn) and the client reads a truncated answer.
    await send(
        {"type": "http.response.start", "status": 500, "headers": [(b"content-length", b"1")]}
    )
    raise ConnectionDropped(f"{scope['method']} {scope['path']}")
