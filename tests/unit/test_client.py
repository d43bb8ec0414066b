"""The client against the emulator in-process: pages, writes, typed errors, retries."""

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
from reconciler.emulator.faults import Fault, FaultKind
from reconciler.emulator.transport import EmulatorTransport
from reconciler.errors import (
    ApiError,
    ApiUnreachableError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
)
from reconciler.pacing import RateLimiter
from reconciler.secrets import redact_key
from reconciler.urls import check_base_url
from reconciler.wire import created_as_asked
from tests.support import (
    RecordingSleep,
    client_for,
    custom_body,
    faulty_client,
    run,
    stats,
)
from tests.support.factories import custom_credentials, remote
from tests.support.faults import FakeClock, Recorder, ScriptedFaults


def test_lists_every_integration_once_in_at_most_pages_plus_4_requests() -> None:
    """250 user integrations (3 pages): the first page alone, then each ownership from both
    ends at once: the user ends meet after one more round; the organization's are empty."""
    app = create_app(seed=[custom_body(f"crm-{i:03d}") for i in range(250)])

    async def scenario() -> None:
        async with client_for(app) as client:
            found = await client.list_integrations()
            assert sorted(r.slug for r in found) == [f"crm-{i:03d}" for i in range(250)]
            assert client.requests_sent == 5  # 1 + user asc/desc + organization asc/desc

    run(scenario())
    counts = run(stats(app))
    assert counts["requests"]["GET /data-integrations"] == 5 <= 3 + 4


def test_one_page_is_one_request() -> None:
    app = create_app(seed=[custom_body(f"crm-{i:03d}") for i in range(100)])

    async def scenario() -> None:
        async with client_for(app) as client:
            assert len(await client.list_integrations()) == 100
            assert client.requests_sent == 1

    run(scenario())


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


def test_a_post_that_failed_after_commit_is_replayed_with_the_same_key() -> None:
    faults = ScriptedFaults(
        {
            "POST": [
                Fault(FaultKind.INTERNAL_ERROR, after_commit=True),
                Fault(FaultKind.DROPPED, after_commit=True),
                Fault(FaultKind.UNAVAILABLE, after_commit=True),
            ]
        }
    )
    app = create_app(faults=faults)
    recorder = Recorder(EmulatorTransport(app=app))

    async def scenario() -> None:
        async with faulty_client(app, transport=recorder) as client:
            created = await client.create(custom_body("acme", description="once"))
            assert created.description == "once"

    run(scenario())
    keys = [r.headers["Idempotency-Key"] for r in recorder.requests]
    assert len(keys) == 4 and len(set(keys)) == 1
    assert recorder.replays == 1
    counts = run(stats(app))
    assert counts["integrations"] == 1
    assert counts["faults"] == {
        "500 after commit": 1,
        "503 after commit": 1,
        "dropped after commit": 1,
    }


def test_put_and_delete_that_failed_after_commit_are_safe_to_retry() -> None:
    after_commit = [
        Fault(FaultKind.DROPPED, after_commit=True),
        Fault(FaultKind.INTERNAL_ERROR, after_commit=True),
    ]
    faults = ScriptedFaults()
    app = create_app(seed=[custom_body("acme", description="old")], faults=faults)

    async def scenario() -> None:
        async with faulty_client(app) as client:
            faults.script["PUT"] = list(after_commit)
            updated = await client.update("acme", "user", {"description": "new"})
            assert updated.description == "new"
            faults.script["DELETE"] = list(after_commit)
            await client.delete("acme", "user")
            assert await client.get("acme", "user") is None

    run(scenario())
    counts = run(stats(app))
    assert counts["by_method"]["PUT"] == 3 and counts["by_method"]["DELETE"] == 3


class ForgetfulServer(httpx.AsyncBaseTransport):
    """The first POST takes effect but its answer is lost; the retry reaches a server that
    has forgotten the idempotency key (a real API's record may expire)."""

    def __init__(self, app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.posts = 0
        self.gets = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            self.gets += 1
        if request.method != "POST":
            return await self.inner.handle_async_request(request)
        self.posts += 1
        if self.posts == 1:
            await self.inner.handle_async_request(request)
            raise httpx.ReadError("connection reset by peer", request=request)
        request.headers["Idempotency-Key"] = f"forgotten-{self.posts}"
        return await self.inner.handle_async_request(request)


def test_a_409_after_a_lost_answer_is_success_when_the_integration_is_as_asked() -> None:
    app = create_app()
    transport = ForgetfulServer(app)
    secret = "client-secret-4321"
    body = custom_body("acme", description="d", scopes=["read"], enabled=True)
    body["credentials"] = {"type": "custom", "client_id": "cid", "client_secret": secret}

    async def scenario() -> None:
        async with client_for(app, transport=transport) as client:
            created = await client.create(body)
            assert created.identity == ("acme", "user")
            assert created.description == "d"

    run(scenario())
    assert (transport.posts, transport.gets) == (2, 1)
    assert run(stats(app))["integrations"] == 1


def test_a_409_is_still_an_error_when_the_integration_differs_or_nothing_was_lost() -> None:
    app = create_app(seed=[custom_body("acme", description="someone else's")])
    lost = ForgetfulServer(app)
    plain = Recorder(httpx.ASGITransport(app=app))

    async def scenario() -> None:
        async with client_for(app, transport=lost) as client:
            with pytest.raises(ConflictError):  # looked up: not what this POST asked for
                await client.create(custom_body("acme", description="mine"))
        async with client_for(app, transport=plain) as client:
            with pytest.raises(ConflictError):  # no attempt was lost: no second guess
                await client.create(custom_body("acme", description="someone else's"))

    run(scenario())
    assert (lost.posts, lost.gets) == (2, 1)
    assert [r.method for r in plain.requests] == ["POST"]


def test_created_as_asked_compares_what_the_body_sets() -> None:
    found = remote(
        "acme",
        description="d",
        credentials=custom_credentials("cid", "4321"),
        custom_provider={"name": "Acme", "token_url": "https://acme.example/token"},
    )
    base: dict[str, Any] = {"provider": "acme", "description": "d"}
    assert created_as_asked(found, base)
    assert created_as_asked(found, {**base, "custom_provider": {"name": "Acme"}})
    assert not created_as_asked(found, {**base, "custom_provider": {"name": "Other"}})
    assert not created_as_asked(found, {**base, "description": "e"})
    assert not created_as_asked(found, {**base, "enabled": True})
    custom = {"type": "custom", "client_id": "cid", "client_secret": "xxxx-4321"}
    assert created_as_asked(found, {**base, "credentials": custom})
    assert not created_as_asked(found, {**base, "credentials": {**custom, "client_secret": "1"}})
    assert not created_as_asked(found, {**base, "credentials": {**custom, "client_id": "x"}})
    assert not created_as_asked(found, {**base, "credentials": {"type": "organization"}})


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


# -- bad API URLs are clean errors; transport errors say where ----------------------------------


@pytest.mark.parametrize(
    ("url", "message"),
    [
        (
            "http://127.0.0.1:99999",
            "invalid API URL 'http://127.0.0.1:99999': port 99999 is out of range;"
            " the port must be a number from 1 to 65535",
        ),
        ("http://127.0.0.1:0", "port 0 is out of range"),
        ("https://api.workos.com:-1", "port -1 is out of range"),
        (
            "https://api.workos.com:http",
            "invalid API URL: the port must be a number from 1 to 65535",
        ),
        ("https://", "invalid API URL 'https://': no host name; expected https://host[:port]"),
        ("http://:8787", "no host name"),
        ("https://exa mple.com", "invalid API URL: it must not contain spaces or control"),
        ("https://api.workos.com/\u202e", "it must not contain spaces or control characters"),
        ("https://api%20.workos.com", "'api%20.workos.com' is not a valid host name"),
        ("https://xn--zz.com", "invalid API URL: expected https://host[:port]"),
        ("localhost:8787", "invalid API URL 'localhost:8787': it must start with https://"),
        ("", "no API URL given: expected https://host[:port]"),
        ("https://api.workos.com?key=sk_live_hidden", "must not have a query or fragment"),
    ],
)
def test_bad_api_urls_are_config_errors_that_say_why(url: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_base_url(url)
    assert message in str(caught.value)
    assert "sk_live_hidden" not in str(caught.value)


def test_a_bad_api_url_fails_before_any_request(tmp_path: Any) -> None:
    from tests.support import invoke

    manifest = tmp_path / "integrations.yaml"
    manifest.write_text("version: 1\nintegrations: []\n")
    app = create_app()
    by_option = invoke(app, "plan", "-f", str(manifest), "--api-url", "http://127.0.0.1:99999")
    by_env = invoke(app, "plan", "-f", str(manifest), WORKOS_BASE_URL="http://127.0.0.1:99999")
    for result in (by_option, by_env):
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert result.stderr == (
            "Error: invalid API URL 'http://127.0.0.1:99999': port 99999 is out of range;"
            " the port must be a number from 1 to 65535\n"
        )
    assert run(stats(app))["requests"] == {}


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_refused_connection_says_where_it_tried_to_connect() -> None:
    port = _closed_port()
    client = client_for(
        api_key="sk_test_key_never_shown_1234", base_url=f"http://127.0.0.1:{port}", max_retries=0
    )

    async def scenario() -> None:
        async with client:
            await client.list_integrations()

    with pytest.raises(ApiUnreachableError) as caught:
        run(scenario())
    assert str(caught.value) == (
        f"cannot reach 127.0.0.1:{port}: connection refused (GET /data-integrations: 1 attempt);"
        " nothing is listening there: check the API URL (--api-url or WORKOS_BASE_URL)"
    )
    assert "sk_test_key" not in str(caught.value)


def test_a_transport_failure_names_the_origin_not_the_request() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection dropped", request=request)

    def hang(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("", request=request)

    for failure, expected in [
        (refuse, "cannot reach localhost:80: connection dropped"),
        (hang, "cannot reach localhost:80: timed out waiting for the answer"),
    ]:

        async def scenario(transport: FlakyTransport) -> None:
            async with client_for(create_app(), transport=transport) as client:
                client.max_retries = 0
                await client.delete("acme", "user")

        with pytest.raises(ApiUnreachableError) as caught:
            run(scenario(FlakyTransport(create_app(), [failure])))
        assert str(caught.value).startswith(f"{expected} (DELETE /data-integrations/acme: ")
