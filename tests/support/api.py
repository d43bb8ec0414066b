"""The emulator's key and address, and the one set of API client builders for tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from reconciler.client import ApiClient
from reconciler.emulator.transport import EmulatorTransport

API_KEY = "sk_test_emulator"
"""The API key of every test emulator (in-process, subprocess) and of every test client."""
AUTH = {"Authorization": f"Bearer {API_KEY}"}
BASE_URL = "http://localhost"
WRITE_METHODS = ("POST", "PUT", "DELETE")

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class RecordingSleep:
    """An injected sleeper: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def _half() -> float:
    return 0.5


def client_for(
    app: FastAPI | None = None,
    *,
    base_url: str = BASE_URL,
    api_key: str = API_KEY,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Sleep | None = None,
    jitter: Callable[[], float] = _half,
    **options: Any,
) -> ApiClient:
    """An ApiClient of the emulator.

    In-process through ``app`` (an ASGI transport, no sockets) unless a ``transport`` is
    given; with neither, over the network at ``base_url``. Backoff is recorded and not
    waited (unless ``sleep`` is given) and the jitter is fixed at 0.5; ``options`` go to
    ``ApiClient`` as they are (``max_retries``, ``max_requests_per_minute``, ``clock``...).
    """
    if transport is None and app is not None:
        transport = httpx.ASGITransport(app=app)
    return ApiClient(
        api_key=api_key,
        base_url=base_url,
        transport=transport,
        sleep=sleep or RecordingSleep(),
        jitter=jitter,
        **options,
    )


def faulty_client(
    app: FastAPI,
    *,
    transport: httpx.AsyncBaseTransport | None = None,
    max_retries: int = 3,
) -> ApiClient:
    """A client of ``app`` in-process, where drops are httpx errors and backoff never waits."""
    return client_for(
        app,
        transport=transport or EmulatorTransport(app=app),
        max_retries=max_retries,
        max_requests_per_minute=None,
    )


async def stats(app: FastAPI, *, api_key: str = API_KEY) -> dict[str, Any]:
    """``GET /_emulator/stats`` of ``app`` (with the app's API key, as the route requires)."""
    headers = {"Authorization": f"Bearer {api_key}"}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=headers
    ) as http:
        response = await http.get("/_emulator/stats")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


def writes(app: FastAPI) -> int:
    """How many mutating requests the emulator has answered."""
    by_method = run(stats(app))["by_method"]
    return sum(by_method.get(m, 0) for m in WRITE_METHODS)


def custom_body(slug: str, ownership: str = "user", **fields: Any) -> dict[str, Any]:
    """A create body for a custom provider with organization credentials."""
    body: dict[str, Any] = {
        "provider": slug,
        "ownership": ownership,
        "custom_provider": {
            "name": slug.title(),
            "authorization_url": f"https://{slug}.example/oauth/authorize",
            "token_url": f"https://{slug}.example/oauth/token",
        },
        "credentials": {"type": "organization"},
    }
    body.update(fields)
    return body
