"""The ASGI app served every way the tests and the tool use it: in-process without a
lifespan, across lifespans, over loopback; and its OpenAPI document."""

from __future__ import annotations

import asyncio

import httpx
from fastapi import FastAPI
from starlette.types import Message

from tests.emulator.contract import (
    AUTH,
    CANARY,
    RESPONSE_FIELDS,
    ApiClient,
    acme,
    github,
)


def test_works_in_process_without_lifespan_through_asgi_transport(emulator_app: FastAPI) -> None:
    async def scenario() -> None:
        transport = httpx.ASGITransport(app=emulator_app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://localhost", headers=AUTH
        ) as http:
            created = await http.post("/data-integrations", json=github())
            assert created.status_code == 201
            fetched = await http.get("/data-integrations/github")
            assert fetched.json() == created.json()
            results = await asyncio.gather(
                *(http.post("/data-integrations", json=acme(f"c{n}")) for n in range(10))
            )
            assert {r.status_code for r in results} == {201}

    asyncio.run(scenario())


def test_an_app_serves_again_after_a_lifespan_shutdown(emulator_app: FastAPI) -> None:
    async def lifespan() -> list[str]:
        """One startup and shutdown, as a server (or a test client) runs them."""
        inbox: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
        sent: list[str] = []

        async def receive() -> Message:
            return inbox.pop(0)

        async def send(message: Message) -> None:
            sent.append(message["type"])

        await emulator_app({"type": "lifespan", "asgi": {"version": "3.0"}}, receive, send)
        return sent

    with ApiClient(emulator_app, headers=AUTH) as http:
        assert asyncio.run(lifespan()) == [
            "lifespan.startup.complete",
            "lifespan.shutdown.complete",
        ]
        created = http.post("/data-integrations", json=github())
        assert created.status_code == 201
        assert asyncio.run(lifespan())[-1] == "lifespan.shutdown.complete"
        assert http.get("/data-integrations/github").json() == created.json()


def test_openapi_documents_the_api(client: ApiClient) -> None:
    schema = client.get("/openapi.json").json()
    assert "emulator" in schema["info"]["title"]
    assert set(schema["paths"]) == {
        "/data-integrations",
        "/data-integrations/{slug}",
        "/data-integrations/{slug}/organization",
    }
    components = schema["components"]["schemas"]
    assert {"CreateIntegrationBody", "UpdateIntegrationBody", "IntegrationOutput"} <= set(
        components
    )
    assert "HTTPValidationError" not in components
    assert set(components["IntegrationOutput"]["required"]) == RESPONSE_FIELDS


def test_live_emulator_over_loopback(live_emulator: str) -> None:
    with httpx.Client(base_url=live_emulator, headers=AUTH, timeout=5.0) as http:
        assert http.get("/data-integrations", headers={"Authorization": ""}).status_code == 401
        created = http.post("/data-integrations", json=github(), headers={"X-Request-ID": "live-1"})
        assert created.status_code == 201
        assert created.headers["X-Request-ID"] == "live-1"
        assert CANARY not in created.text
        listed = http.get("/data-integrations").json()
        assert listed["data"] == [created.json()]
        assert http.delete("/data-integrations/github").status_code == 204
        stats = http.get("/_emulator/stats").json()
        assert stats["requests"]["POST /data-integrations"] == 1
        assert stats["integrations"] == 0
