"""The client never puts a secret it sent into an error: canaries against a hostile API.

The CLI scrubs known secrets from what it prints; these tests hold the library
to the same promise on its own: whatever an API answers (an error echoing the
request, JSON- or URL-escaped, cut short, in headers, a success answer that
does not parse), no ``ApiError`` carries the client secret or the API key.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from reconciler.client import ApiClient
from reconciler.emulator.app import create_app
from reconciler.errors import ApiError, ApiUnreachableError, ReconcilerError
from reconciler.responses import sent_secrets
from reconciler.scrubbing import scrub
from reconciler.secrets import REDACTED
from tests.support import client_for

SECRET = 'canary-Client"Secret\\é-Zq81'
CANARY_API_KEY = "sk_test_canaryKEY-Lm42"
CANARIES = (SECRET, "Secret\\é-Zq81", "canary-Client", CANARY_API_KEY, "canaryKEY")
CREATE_BODY: dict[str, Any] = {
    "provider": "github",
    "credentials": {"type": "custom", "client_id": "Iv1.abc", "client_secret": SECRET},
}
UPDATE_BODY: dict[str, Any] = {"credentials": CREATE_BODY["credentials"]}
Echo = Callable[[httpx.Request, str], httpx.Response]


def assert_clean(error: ApiError) -> None:
    texts = [str(error), error.api_message, error.code or "", error.request_id or ""]
    for text in texts:
        for canary in CANARIES:
            assert canary not in text, text
        for escaped in (json.dumps(SECRET)[1:-1], quote(SECRET, safe="")):
            assert escaped not in text, text


class HostileApi(httpx.AsyncBaseTransport):
    """Answers every request with ``echo(request, everything the request carried)``."""

    def __init__(self, echo: Echo) -> None:
        self.echo = echo

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        carried = f"{request.method} {request.url} {dict(request.headers)} {request.content!r}"
        return self.echo(request, carried + " " + request.content.decode())


def client_of(echo: Echo) -> ApiClient:
    return client_for(
        api_key=CANARY_API_KEY,
        transport=HostileApi(echo),
        max_retries=1,
        max_requests_per_minute=None,
    )


CALLS: dict[str, Callable[[ApiClient], Awaitable[object]]] = {
    "create": lambda client: client.create(CREATE_BODY),
    "update": lambda client: client.update("github", "user", UPDATE_BODY),
    "update-org": lambda client: client.update("github", "organization", UPDATE_BODY),
    "delete": lambda client: client.delete("github", "user"),
    "list": lambda client: client.list_integrations(),
    "get": lambda client: client.get("github", "organization"),
}


def failure_of(echo: Echo, call: str) -> ApiError:
    async def scenario() -> None:
        async with client_of(echo) as client:
            await CALLS[call](client)

    with pytest.raises(ApiError) as caught:
        asyncio.run(scenario())
    return caught.value


@pytest.mark.parametrize(
    ("status", "call"),
    [
        (status, call)
        for status in (400, 401, 403, 404, 409, 422, 429, 500, 502, 503)
        for call in sorted(CALLS)
        if (status, call) != (404, "get")  # a 404 to get is an answer (None), not an error
    ],
)
def test_error_answers_echoing_the_request_are_scrubbed(status: int, call: str) -> None:
    def echo(request: httpx.Request, carried: str) -> httpx.Response:
        return httpx.Response(
            status,
            json={
                "message": f"rejected {carried}",
                "code": f"bad_{CANARY_API_KEY}",
                "errors": [{"field": request.content.decode(), "code": "x", "message": carried}],
            },
            headers={"X-Request-ID": f"req_{CANARY_API_KEY}"},
        )

    error = failure_of(echo, call)
    assert error.status == status
    assert REDACTED in error.api_message
    assert_clean(error)


@pytest.mark.parametrize(
    "echoed",
    [
        pytest.param(lambda carried: carried, id="as-sent"),
        pytest.param(lambda carried: json.dumps(carried), id="json-escaped"),
        pytest.param(lambda carried: json.dumps(carried, ensure_ascii=False), id="json-utf8"),
        pytest.param(lambda carried: quote(carried, safe=""), id="url-encoded"),
        pytest.param(
            lambda carried: carried[: carried.index("canary-Client") + 17] + "...",
            id="truncated-mid-secret",
        ),
    ],
)
def test_escaped_or_truncated_echoes_are_scrubbed(echoed: Callable[[str], str]) -> None:
    def echo(request: httpx.Request, carried: str) -> httpx.Response:
        return httpx.Response(422, text=json.dumps({"message": echoed(carried)}))

    assert_clean(failure_of(echo, "create"))


def test_a_plain_text_error_body_is_not_read_out() -> None:
    def echo(request: httpx.Request, carried: str) -> httpx.Response:
        return httpx.Response(400, text=carried)

    error = failure_of(echo, "update")
    assert error.api_message == "HTTP 400"
    assert_clean(error)


@pytest.mark.parametrize("call", ["create", "update", "get", "list"])
def test_a_success_answer_that_does_not_parse_is_an_api_error_naming_fields_only(
    call: str,
) -> None:
    def echo(request: httpx.Request, carried: str) -> httpx.Response:
        body = json.loads(request.content) if request.content else {}
        return httpx.Response(200, json={"object": SECRET, "id": body, "data": [{"x": SECRET}]})

    error = failure_of(echo, call)
    assert "unexpected answer to" in str(error)
    assert_clean(error)


def test_a_success_answer_that_is_not_json_is_an_api_error() -> None:
    def echo(request: httpx.Request, carried: str) -> httpx.Response:
        return httpx.Response(200, text=carried)

    error = failure_of(echo, "update")
    assert "not JSON" in str(error)
    assert_clean(error)


def test_a_transport_failure_quoting_the_request_is_scrubbed() -> None:
    class Broken(httpx.AsyncBaseTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            await request.aread()
            raise httpx.RemoteProtocolError(f"garbled after {request.content!r}", request=request)

    client = client_for(api_key=CANARY_API_KEY, transport=Broken(), max_retries=0)

    async def scenario() -> None:
        async with client:
            await client.update("github", "user", UPDATE_BODY)

    with pytest.raises(ApiUnreachableError) as caught:
        asyncio.run(scenario())
    assert_clean(caught.value)


def test_the_emulator_refusing_a_secret_does_not_bring_it_back() -> None:
    app = create_app(api_key=CANARY_API_KEY)
    bad_bodies: list[dict[str, Any]] = [
        {**CREATE_BODY, "enabled": SECRET},
        {"provider": "github", "credentials": {"type": SECRET, "client_secret": SECRET}},
        {
            "provider": "github",
            "ownership": "organization",
            "credentials": {"type": "organization", "client_secret": SECRET},
        },
        {"provider": "github", "credentials": {"type": "custom", "client_secret": [SECRET]}},
    ]

    async def scenario() -> list[ReconcilerError]:
        errors: list[ReconcilerError] = []
        async with client_for(app, api_key=CANARY_API_KEY) as client:
            for body in bad_bodies:
                try:
                    await client.create(body)
                except ApiError as error:
                    errors.append(error)
        return errors

    errors = asyncio.run(scenario())
    assert len(errors) == len(bad_bodies)
    for error in errors:
        assert isinstance(error, ApiError) and error.status == 422
        assert_clean(error)


def test_scrub_and_what_counts_as_sent() -> None:
    body = {"credentials": {"client_secret": "s3cret-value", "client_id": "id-1"}, "x": [{}]}
    assert sent_secrets("sk_key_abcdef", body) == ["sk_key_abcdef", "s3cret-value"]
    assert sent_secrets("sk_key_abcdef", None) == ["sk_key_abcdef"]
    assert scrub("got s3cret-value and id-1", ["s3cret-value"]) == f"got {REDACTED} and id-1"
    assert scrub("cut: s3cret-v…", ["s3cret-value"]) == f"cut: {REDACTED}…"
    assert scrub("short s3cr", ["s3cret-value"]) == "short s3cr"  # under 8: not a fragment
    assert scrub("ab12 stays", ["ab12"]) == "ab12 stays"  # 4 characters: all shown by design
