"""The control routes (``/_emulator/stats``, ``/_emulator/reset``): what the stats count and
what a reset clears; both need the key and refuse a foreign ``Origin``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app, store_of
from tests.emulator.contract import ApiClient, create, github
from tests.support import API_KEY, AUTH, custom_body

ORIGIN = "http://localhost"  # the in-process app's own origin: its base URL
CONTROL = [("GET", "/_emulator/stats"), ("POST", "/_emulator/reset")]
BAD_AUTHORIZATION = [None, "", "Bearer sk_wrong", f"Basic {API_KEY}", f"Bearer{API_KEY}"]
FOREIGN_ORIGINS = [
    "https://evil.example",
    "http://evil.example",
    "http://localhost:8080",  # same host, another port
    "https://localhost",  # same host, another scheme
    "http://localhost.evil.example",
    "null",  # a sandboxed page or a file
    "http://localhost/",  # not a bare origin
    "http://user@localhost",
    "http://localhost:99999",
    "localhost",
    "",
]


@pytest.fixture
def app() -> Iterator[FastAPI]:
    """An emulator holding one integration, with one API request counted."""
    app = create_app(api_key=API_KEY)
    try:
        assert send(app, "POST", "/data-integrations", AUTH, custom_body("crm")).status_code == 201
        yield app
    finally:
        store_of(app).close()


def send(
    app: FastAPI,
    method: str,
    path: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """One request to ``app`` in-process, with exactly ``headers`` (and httpx's own)."""

    async def one() -> httpx.Response:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=ORIGIN) as http:
            return await http.request(method, path, headers=headers, json=body)

    return asyncio.run(one())


def state(app: FastAPI) -> dict[str, Any]:
    """The stats, read with the key: what a refused request must leave as it was."""
    response = send(app, "GET", "/_emulator/stats", AUTH)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def assert_refused(response: httpx.Response, status: int, code: str) -> None:
    """The emulator's usual error answer: ``{"message", "code"}`` and a request id."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"message", "code"}
    assert body["code"] == code and body["message"]
    assert response.headers["X-Request-ID"]


# -- the API key -----------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), CONTROL)
@pytest.mark.parametrize("authorization", BAD_AUTHORIZATION)
def test_control_routes_need_the_api_key_and_change_nothing_without_it(
    app: FastAPI, method: str, path: str, authorization: str | None
) -> None:
    before = state(app)
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = send(app, method, path, headers)
    assert_refused(response, 401, "unauthorized")
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert state(app) == before
    assert before["integrations"] == 1


def test_the_key_is_the_one_the_emulator_was_given() -> None:
    app = create_app(api_key="sk_test_other-key-1234")
    try:
        assert_refused(send(app, "GET", "/_emulator/stats", AUTH), 401, "unauthorized")
        other = {"Authorization": "Bearer sk_test_other-key-1234"}
        assert send(app, "GET", "/_emulator/stats", other).status_code == 200
        assert send(app, "POST", "/_emulator/reset", other).status_code == 204
    finally:
        store_of(app).close()


def test_every_path_under_the_control_prefix_needs_the_key(app: FastAPI) -> None:
    for path in ("/_emulator", "/_emulator/", "/_emulator/reset/", "/_emulator/nothing"):
        assert_refused(send(app, "POST", path, {}), 401, "unauthorized")
    assert send(app, "GET", "/_emulator/nothing", AUTH).status_code == 404
    assert state(app)["integrations"] == 1


# -- the origin ------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path"), CONTROL)
@pytest.mark.parametrize("origin", FOREIGN_ORIGINS)
def test_a_foreign_origin_is_refused_even_with_the_key(
    app: FastAPI, method: str, path: str, origin: str
) -> None:
    before = state(app)
    response = send(app, method, path, {**AUTH, "Origin": origin})
    assert_refused(response, 403, "forbidden")
    assert state(app) == before
    assert before["integrations"] == 1


def test_a_foreign_origin_without_the_key_is_refused_too(app: FastAPI) -> None:
    response = send(app, "POST", "/_emulator/reset", {"Origin": "https://evil.example"})
    assert response.status_code in (401, 403)
    assert state(app)["integrations"] == 1


@pytest.mark.parametrize("origin", [ORIGIN, "http://LOCALHOST", "http://localhost:80"])
def test_the_emulators_own_origin_with_the_key_is_served(app: FastAPI, origin: str) -> None:
    stats = send(app, "GET", "/_emulator/stats", {**AUTH, "Origin": origin})
    assert stats.status_code == 200 and stats.json()["integrations"] == 1
    assert send(app, "POST", "/_emulator/reset", {**AUTH, "Origin": origin}).status_code == 204
    assert state(app)["integrations"] == 0


def test_api_routes_keep_their_rules_and_refusals_are_not_counted(app: FastAPI) -> None:
    before = state(app)
    send(app, "POST", "/_emulator/reset", {})
    send(app, "POST", "/_emulator/reset", {**AUTH, "Origin": "https://evil.example"})
    assert state(app) == before  # refused control requests count as no API request
    listed = send(app, "GET", "/data-integrations", {**AUTH, "Origin": "https://x.example"})
    assert listed.status_code == 200  # the API's own paths: the key alone, as before


def test_control_routes_are_neither_delayed_nor_faulted() -> None:
    app = create_app(api_key=API_KEY, fail_rate=1.0, fault_seed=1, rate_limit=1)
    try:
        for _ in range(5):
            assert send(app, "GET", "/_emulator/stats", AUTH).status_code == 200
        assert send(app, "POST", "/_emulator/reset", AUTH).status_code == 204
    finally:
        store_of(app).close()


def test_over_loopback_the_host_header_decides_the_own_origin(live_emulator: str) -> None:
    with httpx.Client(base_url=live_emulator, timeout=5.0) as http:
        assert http.get("/_emulator/stats").status_code == 401
        own = http.get("/_emulator/stats", headers={**AUTH, "Origin": live_emulator})
        assert own.status_code == 200
        created = http.post("/data-integrations", json=custom_body("crm"), headers=AUTH)
        assert created.status_code == 201
        foreign = {**AUTH, "Origin": "http://localhost.evil.example"}
        assert http.post("/_emulator/reset", headers=foreign).status_code == 403
        assert http.get("/_emulator/stats", headers=AUTH).json()["integrations"] == 1


# -- stats and reset --------------------------------------------------------------------------


def test_stats_count_api_requests_by_route_and_reset_clears_everything(client: ApiClient) -> None:
    create(client, github(), **{"Idempotency-Key": "r1"})
    client.get("/data-integrations")
    client.get("/data-integrations/github")
    client.get("/data-integrations/github/organization")
    client.put("/data-integrations/github/organization", json={})
    client.delete("/data-integrations/gitlab")
    client.get("/data-integrations", headers={"Authorization": "Bearer wrong"})
    client.get("/openapi.json")
    client.get("/no/such/route")
    stats = client.get("/_emulator/stats").json()
    assert stats == {
        "requests": {
            "DELETE /data-integrations/{slug}": 1,
            "GET /data-integrations": 2,
            "GET /data-integrations/{slug}": 1,
            "GET /data-integrations/{slug}/organization": 1,
            "POST /data-integrations": 1,
            "PUT /data-integrations/{slug}/organization": 1,
        },
        "by_method": {"GET": 4, "POST": 1, "PUT": 1, "DELETE": 1},
        "faults": {},
        "integrations": 1,
    }
    reset = client.post("/_emulator/reset")
    assert reset.status_code == 204
    assert client.get("/_emulator/stats").json() == {
        "requests": {},
        "by_method": {"GET": 0, "POST": 0, "PUT": 0, "DELETE": 0},
        "faults": {},
        "integrations": 0,
    }
    assert client.get("/data-integrations").json()["data"] == []
    again = client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "r1"})
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
