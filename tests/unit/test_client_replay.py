"""Writes that failed after commit: replayed with the same idempotency key,
and a 409 after a lost answer."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from reconciler.emulator.faults import Fault, FaultKind
from reconciler.emulator.transport import EmulatorTransport
from reconciler.errors import (
    ConflictError,
)
from reconciler.wire import created_as_asked
from tests.support import (
    client_for,
    custom_body,
    faulty_client,
    run,
    stats,
)
from tests.support.factories import custom_credentials, remote
from tests.support.faults import Recorder, ScriptedFaults


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
