"""Helpers to drive the emulator in-process from tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import httpx
from click.testing import CliRunner, Result
from fastapi import FastAPI

from reconciler.client import ApiClient

API_KEY = "sk_test_emulator"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
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
    """``GET /_emulator/stats`` of ``app`` (with the API key, as the route requires)."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
    ) as http:
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


CANARY_SECRET = "canary-Secret-Value-q7Zx"


def invoke(
    app: FastAPI | None,
    *args: str,
    input: str | None = None,
    interactive: bool = False,
    **env: str,
) -> Result:
    """Run the CLI in-process against ``app`` (through an ASGI transport)."""
    from reconciler.cli import Runtime, cli

    transport = httpx.ASGITransport(app=app) if app else None
    runtime = Runtime(transport=transport, interactive=interactive)
    environment = {
        "WORKOS_API_KEY": API_KEY,
        "WORKOS_BASE_URL": BASE_URL,
        "RECONCILER_GITHUB_SECRET": CANARY_SECRET,
        "NO_COLOR": "1",
        "GITHUB_ACTIONS": "",
        **env,
    }
    return CliRunner().invoke(cli, list(args), obj=runtime, env=environment, input=input)


def writes(app: FastAPI) -> int:
    """How many mutating requests the emulator has answered."""
    by_method = run(stats(app))["by_method"]
    return sum(by_method.get(m, 0) for m in ("POST", "PUT", "DELETE"))
