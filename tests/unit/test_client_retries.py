"""The client's retries: Retry-After, backoff with jitter, bounds and the time
budget, pacing, logging."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.client import (
    ApiClient,
    parse_retry_after,
)
from reconciler.emulator.app import create_app
from reconciler.errors import (
    ApiError,
    ApiUnreachableError,
)
from reconciler.pacing import RateLimiter
from tests.support import (
    RecordingSleep,
    client_for,
    custom_body,
    run,
    stats,
)
from tests.support.client import FlakyTransport
from tests.support.faults import FakeClock


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

    with pytest.raises(ApiUnreachableError):
        run(scenario())


@pytest.mark.parametrize("status", [400, 401, 403, 404, 409, 422])
def test_errors_that_must_not_be_retried_fail_at_once(status: int) -> None:
    app = create_app()
    transport = FlakyTransport(app, [_status(status)])

    async def scenario() -> None:
        async with client_for(app, transport=transport) as client:
            await client.create(custom_body("acme"))

    with pytest.raises(ApiError) as caught:
        run(scenario())
    assert caught.value.status == status
    assert caught.value.api_message == "busy"  # the API's own message
    assert len(transport.seen) == 1


def test_retry_after_parsing() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("600") == 60.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0


# -- retries under faults: an injected clock, after-commit failures, the time budget -----------


class TimedTransport(FlakyTransport):
    """A FlakyTransport that also notes the (fake) time of every request."""

    def __init__(
        self,
        app: FastAPI,
        failures: list[Callable[[httpx.Request], httpx.Response]],
        clock: FakeClock,
    ) -> None:
        super().__init__(app, failures)
        self.clock = clock
        self.times: list[float] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.times.append(self.clock())
        return await super().handle_async_request(request)


def _timed_client(
    app: FastAPI, transport: httpx.AsyncBaseTransport, clock: FakeClock, **options: Any
) -> ApiClient:
    return client_for(
        app,
        transport=transport,
        sleep=clock.sleep,
        clock=clock,
        max_requests_per_minute=None,
        **options,
    )


def test_429_retry_after_is_honoured_on_an_injected_clock() -> None:
    app = create_app()
    clock = FakeClock()
    failures = [_status(429, **{"Retry-After": "7"}), _status(429, **{"Retry-After": "2"})]
    transport = TimedTransport(app, failures, clock)

    async def scenario() -> None:
        async with _timed_client(app, transport, clock) as client:
            assert (await client.create(custom_body("acme"))).slug == "acme"

    run(scenario())
    assert transport.times == [0.0, 7.0, 9.0]
    assert run(stats(app))["integrations"] == 1


def test_retry_after_is_capped_and_an_http_date_is_understood() -> None:
    app = create_app()
    clock = FakeClock()
    soon = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    failures = [_status(503, **{"Retry-After": "3600"}), _status(429, **{"Retry-After": soon})]
    transport = TimedTransport(app, failures, clock)

    async def scenario() -> None:
        async with _timed_client(app, transport, clock, max_retry_time=600) as client:
            await client.list_integrations()

    run(scenario())
    assert transport.times[1] == 60.0
    assert 60.0 + 28 <= transport.times[2] <= 60.0 + 30


def test_backoff_doubles_from_1s_with_jitter_up_to_30s() -> None:
    app = create_app()
    transport = FlakyTransport(app, [_status(500)] * 7)
    sleep = RecordingSleep()
    full_jitter = client_for(
        transport=transport, sleep=sleep, jitter=lambda: 1.0, max_retries=7, max_retry_time=1000
    )

    async def scenario() -> None:
        async with full_jitter as client:
            await client.list_integrations()

    run(scenario())
    assert sleep.delays == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]


def test_retries_stop_within_the_total_time_budget() -> None:
    app = create_app()
    clock = FakeClock()
    transport = TimedTransport(app, [_status(503, **{"Retry-After": "4"})] * 50, clock)

    async def scenario() -> None:
        async with _timed_client(
            app, transport, clock, max_retries=100, max_retry_time=10
        ) as client:
            await client.update("acme", "user", {"description": "x"})

    with pytest.raises(ApiError) as caught:
        run(scenario())
    assert caught.value.status == 503
    assert caught.value.api_message == "busy"
    # Attempts at 0, 4 and 8 s; waiting 4 s more would end past the 10 s budget.
    assert transport.times == [0.0, 4.0, 8.0]
    assert clock() == 8.0


def test_requests_are_paced_under_the_rate_limit() -> None:
    limiter = RateLimiter(per_minute=6000)
    assert (limiter.burst, limiter.rate) == (100.0, 100.0)
    slow = RateLimiter(per_minute=30)
    assert (slow.burst, slow.rate) == (1.0, 0.5)
    app = create_app()

    async def scenario(per_minute: float | None) -> float:
        client = client_for(app, max_requests_per_minute=per_minute)
        async with client:
            started = time.monotonic()
            await asyncio.gather(*(client.get("acme", "user") for _ in range(30)))
            return time.monotonic() - started

    # 1,200 a minute: a burst of 20, then one every 50 ms: 30 requests take at least 0.5 s.
    assert run(scenario(1200)) >= 0.45
    assert run(scenario(None)) < 0.45


def test_each_retry_is_logged_with_its_reason_and_wait(caplog: pytest.LogCaptureFixture) -> None:
    app = create_app()
    transport = FlakyTransport(app, [_status(429, **{"Retry-After": "7"}), _status(503)])
    caplog.set_level("INFO", logger="reconciler.client")

    async def scenario() -> None:
        async with client_for(app, transport=transport) as client:
            await client.list_integrations()

    run(scenario())
    retries = [r.getMessage() for r in caplog.records if r.name == "reconciler.client"]
    assert retries == [
        "GET /data-integrations failed (busy); retry 1 in 7.0 s",
        "GET /data-integrations failed (busy); retry 2 in 1.5 s",
    ]
