"""Client test support: a transport that fails as scripted, then answers."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from fastapi import FastAPI


class FlakyTransport(httpx.AsyncBaseTransport):
    """Answers the first requests with canned failures, then passes through."""

    def __init__(self, app: FastAPI, failures: list[Callable[[httpx.Request], httpx.Response]]):
        self.inner = httpx.ASGITransport(app=app)
        self.failures = failures
        self.seen: list[httpx.Request] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        if self.failures:
            return self.failures.pop(0)(request)
        return await self.inner.handle_async_request(request)
