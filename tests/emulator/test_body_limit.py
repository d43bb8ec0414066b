"""Request bodies are capped at 1 MiB: read up to the cap, refused with 413 past it,
whether declared, streamed or sent over loopback."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from starlette.types import Message, Receive, Scope, Send

from reconciler.emulator.middleware import (
    MAX_BODY_BYTES,
    BodyLimitMiddleware,
)
from tests.emulator.contract import (
    AUTH,
    ApiClient,
    assert_error,
    github,
)


def padded(body: dict[str, Any], size: int) -> bytes:
    """``body`` as JSON, padded with spaces to exactly ``size`` bytes."""
    text = json.dumps(body).encode()
    return text + b" " * (size - len(text))


def assert_too_large(response: httpx.Response) -> None:
    body = assert_error(response, 413, "request_too_large")
    assert set(body) == {"message", "code"}
    assert "1,048,576 bytes" in body["message"]


def test_a_body_of_1_mib_is_read_and_one_byte_more_is_refused_with_413(client: ApiClient) -> None:
    json_headers = {"Content-Type": "application/json"}
    over = padded(github(), MAX_BODY_BYTES + 1)
    assert_too_large(client.post("/data-integrations", content=over, headers=json_headers))
    assert_too_large(client.put("/data-integrations/github", content=over, headers=json_headers))
    assert client.get("/_emulator/stats").json()["integrations"] == 0
    at_cap = padded(github(), MAX_BODY_BYTES)
    assert (
        client.post("/data-integrations", content=at_cap, headers=json_headers).status_code == 201
    )


def test_a_streamed_body_is_counted_and_refused_once_past_the_cap(client: ApiClient) -> None:
    chunk = b" " * 65_536
    sent: list[int] = []

    async def endless_body() -> AsyncIterator[bytes]:
        yield json.dumps(github()).encode()
        for _ in range(64):  # 4 MiB, if anybody read it all
            sent.append(len(chunk))
            yield chunk

    response = client.post(
        "/data-integrations", content=endless_body(), headers={"Content-Type": "application/json"}
    )
    assert "content-length" not in response.request.headers
    assert_too_large(response)
    assert sum(sent) <= MAX_BODY_BYTES + len(chunk)  # reading stopped at the cap
    assert client.get("/_emulator/stats").json()["integrations"] == 0


def test_a_declared_length_over_the_cap_is_refused_unread() -> None:
    received: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        raise AssertionError("the app must not be reached")

    async def receive() -> Message:
        received.append({"type": "http.request", "body": b"x", "more_body": True})
        return received[-1]

    answers: list[Message] = []

    async def send(message: Message) -> None:
        answers.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/data-integrations",
        "headers": [(b"content-length", str(MAX_BODY_BYTES + 1).encode())],
    }
    asyncio.run(BodyLimitMiddleware(app)(scope, receive, send))
    assert answers[0]["status"] == 413
    assert received == []


@pytest.mark.parametrize("declared", [b"\xb2", b"-1", b"1e9", b" 12 ", b""])
def test_a_declared_length_that_is_no_number_is_not_trusted(declared: bytes) -> None:
    seen: list[bytes] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append((await receive())["body"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def receive() -> Message:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    answers: list[Message] = []

    async def send(message: Message) -> None:
        answers.append(message)

    scope: Scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-length", declared)],
    }
    asyncio.run(BodyLimitMiddleware(app)(scope, receive, send))
    assert answers[0]["status"] == 204 and seen == [b"{}"]


def test_a_large_body_over_loopback_is_refused_with_413(live_emulator: str) -> None:
    def chunked() -> Iterator[bytes]:
        yield json.dumps(github()).encode()
        for _ in range(32):
            yield b" " * 65_536

    with httpx.Client(base_url=live_emulator, headers=AUTH, timeout=10.0) as http:
        big = padded(github(), 2 * MAX_BODY_BYTES)
        for content in (big, chunked()):
            response = http.post(
                "/data-integrations", content=content, headers={"Content-Type": "application/json"}
            )
            assert_too_large(response)
        assert http.get("/data-integrations").json()["data"] == []
