"""Helpers to drive the emulator in-process from tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
from fastapi import FastAPI

from reconciler.client import ApiClient

API_KEY = "sk_test_emulator"
BASE_URL = "http://localhost"
T = TypeVar("T")


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


class RecordingSleep:
    """An injected sleeper: records the delays instead of waiting."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def client_for(
    app: FastAPI,
    *,
    api_key: str = API_KEY,
    transport: httpx.AsyncBaseTransport | None = None,
    sleep: Callable[[float], Awaitable[None]] | None = None,
) -> ApiClient:
    """An ApiClient speaking to ``app`` in-process (no sockets)."""
    return ApiClient(
        api_key=api_key,
        base_url=BASE_URL,
        transport=transport or httpx.ASGITransport(app=app),
        sleep=sleep or RecordingSleep(),
        jitter=lambda: 0.5,
    )


async def stats(app: FastAPI) -> dict[str, Any]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as http:
        response = await http.get("/_emulator/stats")
        response.raise_for_status()
        data: dict[str, Any] = response.json()
        return data


async def reset_counts_keep_state(app: FastAPI) -> dict[str, int]:
    """The emulator's per-method counts right now (to diff against later)."""
    return dict((await stats(app))["by_method"])


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
