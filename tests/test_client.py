"""The client against the emulator in-process: pages, writes, typed errors, retries."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest
from fastapi import FastAPI

from reconciler.client import ApiClient, check_base_url, parse_retry_after, redact_key
from reconciler.emulator.app import create_app
from reconciler.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    NotFoundError,
    TransportError,
    UnprocessableError,
)
from tests.support import RecordingSleep, client_for, custom_body, run, stats


def test_lists_every_page_at_limit_100() -> None:
    app = create_app(seed=[custom_body(f"crm-{i:03d}") for i in range(250)])

    async def scenario() -> None:
        async with client_for(app) as client:
            found = await client.list_integrations()
            assert sorted(r.slug for r in found) == [f"crm-{i:03d}" for i in range(250)]
            assert client.requests_sent == 3

    run(scenario())
    counts = run(stats(app))
    assert counts["requests"]["GET /data-integrations"] == 3


def test_create_update_delete_both_ownerships() -> None:
    app = create_app()

    async def scenario() -> None:
        async with client_for(app) as client:
            user = await client.create(custom_body("acme", description="u"))
            org = await client.create(custom_body("acme", "organization", description="o"))
            assert (user.ownership, org.ownership) == ("user", "organization")
            updated = await client.update("acme", "organization", {"description": "changed"})
            assert updated.description == "changed"
            assert updated.updated_at != org.updated_at
            still = await client.get("acme", "user")
            assert still is not None and still.description == "u"
            await client.delete("acme", "user")
            assert await client.get("acme", "user") is None
            assert await client.get("acme", "organization") is not None
            await client.delete("acme", "user")  # idempotent

    run(scenario())


def test_typed_errors_carry_status_code_message_and_request_id() -> None:
    app = create_app()

    async def scenario() -> None:
        async with client_for(app) as client:
            await client.create(custom_body("acme"))
            with pytest.raises(ConflictError) as conflict:
                await client.create(custom_body("acme"))
            assert conflict.value.status == 409
            assert conflict.value.request_id
            assert conflict.value.api_message
            with pytest.raises(NotFoundError):
                await client.create(
                    {"provider": "no-such-provider", "credentials": {"type": "organization"}}
                )
            with pytest.raises(UnprocessableError) as invalid:
                await client.create({"provider": "github", "credentials": {"type": "custom"}})
            assert invalid.value.status == 422
            with pytest.raises(NotFoundError):
                await client.update("nothing", "user", {"description": "x"})
        async with client_for(app, api_key="sk_wrong_key_1234") as client:
            with pytest.raises(AuthenticationError) as denied:
                await client.list_integrations()
            assert denied.value.status == 401
            assert "sk_wrong_key_1234" not in str(denied.value)

    run(scenario())


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


def _status(code: int, **headers: str) -> Callable[[httpx.Request], httpx.Response]:
    return lambda request: httpx.Response(code, json={"message": "busy"}, headers=headers)


def _drop(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("connection dropped", request=request)


def test_retries_honour_retry_after_and_reuse_the_idempotency_key() -> None:
    app = create_app()
    transport = FlakyTransport(app, [_status(429, **{"Retry-After": "7"}), _status(503), _drop])
    sleep = RecordingSleep()

    async def scenario() -> None:
        async with client_for(app, transport=transport, sleep=sleep) as client:
            created = await client.create(custom_body("acme"))
            assert created.slug == "acme"

    run(scenario())
    assert sleep.delays[0] == 7.0
    assert sleep.delays[1:] == [1.5, 3.0]  # backoff 2 s and 4 s with jitter 0.75
    keys = {r.headers["Idempotency-Key"] for r in transport.seen}
    assert len(keys) == 1 and len(transport.seen) == 4
    assert run(stats(app))["integrations"] == 1


def test_retries_are_bounded() -> None:
    app = create_app()
    transport = FlakyTransport(app, [_status(500)] * 10)
    sleep = RecordingSleep()

    async def scenario() -> None:
        async with client_for(app, transport=transport, sleep=sleep) as client:
            await client.list_integrations()

    with pytest.raises(Exception) as caught:
        run(scenario())
    assert getattr(caught.value, "status", None) == 500
    assert len(transport.seen) == 4
    assert len(sleep.delays) == 3


def test_dropped_connections_become_a_transport_error() -> None:
    app = create_app()
    transport = FlakyTransport(app, [_drop] * 10)

    async def scenario() -> None:
        async with client_for(app, transport=transport) as client:
            await client.delete("acme", "user")

    with pytest.raises(TransportError):
        run(scenario())


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_errors_that_must_not_be_retried_fail_at_once(status: int) -> None:
    app = create_app()
    transport = FlakyTransport(app, [_status(status)])

    async def scenario() -> None:
        async with client_for(app, transport=transport) as client:
            await client.create(custom_body("acme"))

    with pytest.raises(Exception) as caught:
        run(scenario())
    assert getattr(caught.value, "status", None) == status
    assert len(transport.seen) == 1


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("600") == 60.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


@pytest.mark.parametrize("url", ["http://api.example.com", "ftp://127.0.0.1", "not a url"])
def test_unsafe_base_urls_are_refused(url: str) -> None:
    with pytest.raises(ConfigError):
        check_base_url(url)


@pytest.mark.parametrize(
    "url",
    ["https://api.workos.com", "http://127.0.0.1:8787", "http://localhost:1", "http://[::1]:2"],
)
def test_https_and_loopback_urls_are_accepted(url: str) -> None:
    assert check_base_url(url) == url


def test_api_key_is_shown_by_its_last_4_only() -> None:
    assert redact_key("sk_live_abcdefgh1234") == "sk_…1234"
    with pytest.raises(ConfigError):
        ApiClient(api_key="")
