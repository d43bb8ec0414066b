"""The emulator against API-CONTRACT.md: every status and rule, in-process and over loopback."""

from __future__ import annotations

import ast
import asyncio
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from reconciler.emulator.app import create_app, store_of
from reconciler.emulator.command import emulator
from reconciler.emulator.middleware import (
    MAX_BODY_BYTES,
    ApiMiddleware,
    BodyLimitMiddleware,
    RequestStats,
)
from reconciler.emulator.schemas import (
    CreateIntegrationBody,
    UpdateIntegrationBody,
)
from reconciler.emulator.service import SeedError, Service
from reconciler.emulator.store import Store

API_KEY = "sk_test_emulator"
AUTH = {"Authorization": f"Bearer {API_KEY}"}
CANARY = "canary-s3cr3t-7f1c9a2e-ends-WXYZ"
CANARY_ROTATED = "canary-r0tated-5b8d3c10-ends-QRST"
ID_RE = re.compile(r"^data_integration_[0-9A-HJKMNP-TV-Z]{26}$")
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
RESPONSE_FIELDS = {
    "object",
    "id",
    "slug",
    "integration_type",
    "ownership",
    "description",
    "enabled",
    "state",
    "scopes",
    "redirect_uri",
    "auth_methods",
    "credentials",
    "installation",
    "config",
    "custom_provider",
    "created_at",
    "updated_at",
}
CONTRACT_DEFAULTS: dict[str, Any] = {
    "authorization_url": None,
    "token_url": None,
    "refresh_token_url": None,
    "pkce_enabled": True,
    "request_scope_separator": " ",
    "scopes_required": False,
    "client_secret_required": True,
    "additional_authorization_parameters": {},
    "token_body_content_type": "application/x-www-form-urlencoded",
    "authenticate_via": "request_body",
}
ACME = {
    "name": "Acme CRM",
    "authorization_url": "https://crm.acme.example/oauth/authorize",
    "token_url": "https://crm.acme.example/oauth/token",
}


def custom_credentials(secret: str = CANARY, client_id: str = "Iv1.abc123") -> dict[str, Any]:
    return {"type": "custom", "client_id": client_id, "client_secret": secret}


ORG_CREDENTIALS = {"type": "organization"}


def github(**fields: Any) -> dict[str, Any]:
    return {"provider": "github", "credentials": custom_credentials(), **fields}


def acme(slug: str = "acme-crm", **fields: Any) -> dict[str, Any]:
    return {"provider": slug, "custom_provider": ACME, "credentials": ORG_CREDENTIALS, **fields}


class ApiClient:
    """A synchronous face on ``httpx.AsyncClient`` over ``ASGITransport`` (no lifespan)."""

    def __init__(self, app: Any, headers: dict[str, str] | None = None) -> None:
        self._runner = asyncio.Runner()
        self._http = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://emulator.test",
            headers=headers,
        )

    def __enter__(self) -> ApiClient:
        return self

    def __exit__(self, *_: object) -> None:
        self._runner.run(self._http.aclose())
        self._runner.close()

    def request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        return self._runner.run(self._http.request(method, url, **kwargs))

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("GET", url, **kwargs)

    def post(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("POST", url, **kwargs)

    def put(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PUT", url, **kwargs)

    def patch(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("PATCH", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> httpx.Response:
        return self.request("DELETE", url, **kwargs)


@pytest.fixture
def client(emulator_app: FastAPI) -> Iterator[ApiClient]:
    with ApiClient(emulator_app, headers=AUTH) as test_client:
        yield test_client


def create(client: ApiClient, body: dict[str, Any], **headers: str) -> dict[str, Any]:
    response = client.post("/data-integrations", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def assert_error(response: httpx.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert isinstance(body["message"], str) and body["message"]
    assert isinstance(body["code"], str) and body["code"]
    assert "detail" not in body
    if code is not None:
        assert body["code"] == code
    assert response.headers["X-Request-ID"]
    return body


def error_fields(response: httpx.Response) -> set[str]:
    body = assert_error(response, 422)
    for error in body["errors"]:
        assert set(error) == {"field", "code", "message"}
    return {error["field"] for error in body["errors"]}


# -- transport: auth, request ids, error shape ---------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/data-integrations"),
        ("POST", "/data-integrations"),
        ("GET", "/data-integrations/github"),
        ("PUT", "/data-integrations/github"),
        ("DELETE", "/data-integrations/github"),
        ("GET", "/data-integrations/github/organization"),
        ("PUT", "/data-integrations/github/organization"),
        ("DELETE", "/data-integrations/github/organization"),
    ],
)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer sk_wrong", f"Basic {API_KEY}", f"Bearer{API_KEY}"]
)
def test_every_api_path_needs_the_api_key(
    emulator_app: FastAPI, method: str, path: str, authorization: str | None
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    with ApiClient(emulator_app) as anonymous:
        response = anonymous.request(method, path, headers=headers, content=b"{not json")
    assert_error(response, 401, "unauthorized")


def test_request_id_is_echoed_or_generated_on_every_answer(client: ApiClient) -> None:
    echoed = client.get("/data-integrations", headers={"X-Request-ID": "ci-run-42"})
    assert echoed.headers["X-Request-ID"] == "ci-run-42"
    for response in (
        client.get("/data-integrations"),
        client.get("/data-integrations", headers={"Authorization": "Bearer nope"}),
        client.get("/no/such/route"),
        client.get("/data-integrations?limit=0"),
        client.get("/data-integrations/github"),
        client.get("/_emulator/stats"),
    ):
        assert re.match(r"^req_[0-9A-Z]{26}$", response.headers["X-Request-ID"])


def test_unknown_routes_and_methods_answer_the_error_shape(client: ApiClient) -> None:
    assert_error(client.get("/no/such/route"), 404, "not_found")
    assert_error(client.get("/data-integrations/a/b/c"), 404, "not_found")
    assert_error(client.patch("/data-integrations/github"), 405, "method_not_allowed")


def test_an_unexpected_failure_still_answers_json_with_a_request_id(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def broken(scope: Scope, receive: Receive, send: Send) -> None:
        raise RuntimeError("boom")

    app = ApiMiddleware(broken, api_key=API_KEY, latency_ms=0, stats=RequestStats(), routes=[])
    with ApiClient(app) as test_client:
        response = test_client.get("/anything")
    assert_error(response, 500, "internal_error")
    assert "boom" not in response.text


# -- request size -------------------------------------------------------------------------


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


# -- create -------------------------------------------------------------------------------


def test_create_builtin_returns_every_field_with_defaults(client: ApiClient) -> None:
    response = client.post("/data-integrations", json=github())
    assert response.status_code == 201
    body = response.json()
    assert set(body) == RESPONSE_FIELDS
    assert ID_RE.match(body["id"])
    assert body["object"] == "data_integration"
    assert (body["slug"], body["integration_type"], body["ownership"]) == (
        "github",
        "github",
        "user",
    )
    assert body["description"] is None
    assert body["enabled"] is False
    assert body["state"] == "valid"
    assert body["scopes"] is None
    assert body["auth_methods"] == ["oauth"]
    assert body["credentials"] == {
        "type": "custom",
        "client_id": "Iv1.abc123",
        "redacted_client_secret": "WXYZ",
    }
    assert body["installation"] is None
    assert body["config"] == {}
    assert body["custom_provider"] is None
    assert re.match(
        r"^https://api\.workos\.com/data-integrations/github/dik_[0-9A-HJKMNP-TV-Z]{26}/callback$",
        body["redirect_uri"],
    )
    assert TIME_RE.match(body["created_at"]) and body["created_at"] == body["updated_at"]
    assert client.get("/data-integrations/github").json() == body


def test_create_with_every_field(client: ApiClient) -> None:
    body = create(
        client,
        github(
            ownership="organization",
            description="Production GitHub app",
            enabled=True,
            scopes=["repo", "read:org"],
            auth_methods=["oauth", "api_key"],
            config={},
        ),
    )
    assert body["ownership"] == "organization"
    assert body["description"] == "Production GitHub app"
    assert body["enabled"] is True
    assert body["scopes"] == ["repo", "read:org"]
    assert body["auth_methods"] == ["oauth", "api_key"]
    assert client.get("/data-integrations/github/organization").json() == body
    assert_error(client.get("/data-integrations/github"), 404, "not_found")


def test_create_custom_provider_fills_its_defaults(client: ApiClient) -> None:
    body = create(client, acme(custom_provider={"name": "Acme", "pkce_enabled": False}))
    assert set(body) == RESPONSE_FIELDS
    assert body["integration_type"] == "custom"
    assert body["credentials"] == {
        "type": "organization",
        "client_id": None,
        "redacted_client_secret": None,
    }
    assert body["custom_provider"] == {
        **CONTRACT_DEFAULTS,
        "name": "Acme",
        "pkce_enabled": False,
    }
    assert next(iter(body["custom_provider"])) == "name"
    assert body["redirect_uri"].startswith("https://api.workos.com/data-integrations/acme-crm/dik_")


def test_non_oauth_integrations_have_no_credentials_nor_redirect_uri(client: ApiClient) -> None:
    body = create(
        client, {"provider": "snowflake", "auth_methods": ["api_key"], "config": {"account": "x1"}}
    )
    assert body["credentials"] is None
    assert body["redirect_uri"] == ""
    assert body["config"] == {"account": "x1"}
    cc_body = {"provider": "cc", "custom_provider": ACME, "auth_methods": ["client_credentials"]}
    cc = create(client, cc_body)
    assert cc["credentials"] is None and cc["redirect_uri"] == ""


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        pytest.param(github(bogus=1), {"bogus"}, id="unknown-key"),
        pytest.param(github(enabled="yes"), {"enabled"}, id="wrong-type"),
        pytest.param(github(scopes="repo"), {"scopes"}, id="scopes-not-a-list"),
        pytest.param(github(ownership="team"), {"ownership"}, id="bad-ownership"),
        pytest.param(github(auth_methods=[]), {"auth_methods"}, id="no-auth-method"),
        pytest.param(github(auth_methods=["password"]), {"auth_methods.0"}, id="bad-auth-method"),
        pytest.param(
            github(auth_methods=["oauth", "oauth"]), {"auth_methods"}, id="duplicate-auth-method"
        ),
        pytest.param(github(config={"a": 1}), {"config.a"}, id="config-not-strings"),
        pytest.param(acme() | {"provider": "Not A Slug"}, {"provider"}, id="bad-slug"),
        pytest.param({"credentials": ORG_CREDENTIALS}, {"provider"}, id="no-provider"),
        pytest.param(
            github(credentials={"type": "custom", "client_id": "x"}),
            {"credentials.client_secret"},
            id="custom-without-secret",
        ),
        pytest.param(
            github(credentials={"type": "custom", "client_secret": CANARY}),
            {"credentials.client_id"},
            id="custom-without-client-id",
        ),
        pytest.param(
            github(credentials={"type": "custom", "client_id": "", "client_secret": ""}),
            {"credentials.client_id", "credentials.client_secret"},
            id="custom-empty",
        ),
        pytest.param(
            github(credentials={"type": "organization", "client_secret": CANARY}),
            {"credentials.client_secret"},
            id="organization-with-secret",
        ),
        pytest.param(
            github(credentials={"type": "organization", "client_id": "x"}),
            {"credentials.client_id"},
            id="organization-with-client-id",
        ),
        pytest.param(
            github(credentials={"type": "app", "client_id": "x", "client_secret": CANARY}),
            {"credentials.type"},
            id="bad-credentials-type",
        ),
        pytest.param(
            github(credentials={**custom_credentials(), "extra": CANARY}),
            {"credentials.extra"},
            id="credentials-unknown-key",
        ),
        pytest.param({"provider": "github"}, {"credentials"}, id="oauth-without-credentials"),
        pytest.param(
            {"provider": "linear", "auth_methods": ["api_key"], "credentials": ORG_CREDENTIALS},
            {"credentials"},
            id="credentials-without-oauth",
        ),
        pytest.param(
            github(custom_provider=ACME), {"custom_provider"}, id="custom-provider-shadows-builtin"
        ),
        pytest.param(
            acme(custom_provider={**ACME, "token_url": "http://crm.acme.example/token"}),
            {"custom_provider.token_url"},
            id="non-https-url",
        ),
        pytest.param(
            acme(custom_provider={"token_url": "https://x.example/t"}),
            {"custom_provider.name"},
            id="new-custom-provider-without-name",
        ),
        pytest.param(
            acme(custom_provider={**ACME, "shape": "round"}),
            {"custom_provider.shape"},
            id="custom-provider-unknown-key",
        ),
        pytest.param(
            acme(custom_provider={**ACME, "authenticate_via": "carrier_pigeon"}),
            {"custom_provider.authenticate_via"},
            id="custom-provider-bad-enum",
        ),
        pytest.param(
            {"provider": "snowflake", "auth_methods": ["api_key"], "config": {"acount": "x"}},
            {"config.acount"},
            id="snowflake-unknown-config-key",
        ),
    ],
)
def test_create_rejects_invalid_bodies_with_422(
    client: ApiClient, body: dict[str, Any], fields: set[str]
) -> None:
    response = client.post("/data-integrations", json=body)
    got = error_fields(response)
    assert fields <= got
    assert CANARY not in response.text
    assert '"input"' not in response.text and '"ctx"' not in response.text
    assert client.get("/_emulator/stats").json()["integrations"] == 0


@pytest.mark.parametrize(
    "content",
    [b"", b"[]", b"{not json", b'"github"', b"null"],
    ids=["empty", "list", "bad", "s", "n"],
)
def test_create_rejects_non_object_bodies_with_422(client: ApiClient, content: bytes) -> None:
    response = client.post(
        "/data-integrations", content=content, headers={"Content-Type": "application/json"}
    )
    assert error_fields(response)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (r'"description": "\ud800"', "description"),
        (r'"config": {"\udfff": "x"}', "config.\udfff"),
        (
            r'"credentials": {"type": "custom", "client_id": "x", "client_secret": "ab\ud800cdef"}',
            None,
        ),
    ],
)
def test_create_rejects_text_that_is_not_unicode(
    client: ApiClient, raw: str, field: str | None
) -> None:
    content = '{"provider": "github", ' + raw + "}"
    response = client.post(
        "/data-integrations", content=content, headers={"Content-Type": "application/json"}
    )
    fields = error_fields(response)
    assert field is None or field in fields or any(f.startswith("config") for f in fields)
    assert "cdef" not in response.text


def test_create_unknown_provider_is_404(client: ApiClient) -> None:
    assert_error(
        client.post(
            "/data-integrations", json={"provider": "acme", "credentials": ORG_CREDENTIALS}
        ),
        404,
        "not_found",
    )


def test_create_existing_slug_and_ownership_is_409(client: ApiClient) -> None:
    create(client, github())
    response = client.post("/data-integrations", json=github(description="again"))
    assert_error(response, 409, "integration_exists")
    assert client.get("/data-integrations/github").json()["description"] is None
    create(client, github(ownership="organization"))
    create(client, acme())
    assert_error(client.post("/data-integrations", json=acme()), 409, "integration_exists")


# -- ownerships and shared custom providers ------------------------------------------------


def test_the_two_ownerships_are_independent(client: ApiClient) -> None:
    user = create(client, github(description="users"))
    org = create(client, github(ownership="organization", credentials=ORG_CREDENTIALS))
    assert user["id"] != org["id"]
    client.put("/data-integrations/github", json={"enabled": True, "description": "changed"})
    assert client.get("/data-integrations/github/organization").json() == org
    assert client.delete("/data-integrations/github").status_code == 204
    assert client.get("/data-integrations/github/organization").json() == org
    assert_error(client.get("/data-integrations/github"), 404)
    assert [i["id"] for i in client.get("/data-integrations").json()["data"]] == [org["id"]]


def test_both_ownerships_of_a_custom_provider_share_one_definition(client: ApiClient) -> None:
    user = create(client, acme())
    org = create(
        client,
        {"provider": "acme-crm", "ownership": "organization", "credentials": ORG_CREDENTIALS},
    )
    assert org["custom_provider"] == user["custom_provider"]
    assert org["integration_type"] == "custom"

    updated = client.put(
        "/data-integrations/acme-crm/organization", json={"custom_provider": {"name": "Acme 2"}}
    ).json()
    assert updated["custom_provider"] == {**user["custom_provider"], "name": "Acme 2"}
    user_now = client.get("/data-integrations/acme-crm").json()
    assert user_now["custom_provider"] == updated["custom_provider"]
    assert user_now["updated_at"] > user["updated_at"]

    # A POST carrying custom_provider for an existing custom slug patches the shared definition.
    client.delete("/data-integrations/acme-crm/organization")
    again = create(
        client,
        {
            "provider": "acme-crm",
            "ownership": "organization",
            "credentials": ORG_CREDENTIALS,
            "custom_provider": {"pkce_enabled": False},
        },
    )
    expected = {**updated["custom_provider"], "pkce_enabled": False}
    assert again["custom_provider"] == expected
    assert client.get("/data-integrations/acme-crm").json()["custom_provider"] == expected

    # The definition goes with the last integration of its slug.
    client.delete("/data-integrations/acme-crm")
    assert client.get("/data-integrations/acme-crm/organization").status_code == 200
    client.delete("/data-integrations/acme-crm/organization")
    orphan = {"provider": "acme-crm", "credentials": ORG_CREDENTIALS}
    assert_error(client.post("/data-integrations", json=orphan), 404)


def test_a_conflicting_post_leaves_the_shared_definition_alone(client: ApiClient) -> None:
    user = create(client, acme())
    response = client.post("/data-integrations", json=acme(custom_provider={"name": "Other"}))
    assert_error(response, 409)
    assert client.get("/data-integrations/acme-crm").json() == user


# -- update -------------------------------------------------------------------------------


def test_update_changes_only_the_fields_given(client: ApiClient) -> None:
    before = create(client, github(description="d", scopes=["repo"]))
    after = client.put("/data-integrations/github", json={"enabled": True}).json()
    assert after == {**before, "enabled": True, "updated_at": after["updated_at"]}
    assert after["updated_at"] > before["updated_at"]
    assert after["created_at"] == before["created_at"]

    reset = client.put("/data-integrations/github", json={"scopes": None, "description": None})
    assert reset.status_code == 200
    assert (reset.json()["scopes"], reset.json()["description"]) == (None, None)
    assert reset.json()["enabled"] is True
    assert reset.json()["credentials"] == before["credentials"]


def test_update_rotates_credentials(client: ApiClient) -> None:
    create(client, github())
    body = {"credentials": custom_credentials(CANARY_ROTATED, client_id="Iv1.new")}
    rotated = client.put("/data-integrations/github", json=body)
    assert rotated.status_code == 200
    assert rotated.json()["credentials"] == {
        "type": "custom",
        "client_id": "Iv1.new",
        "redacted_client_secret": "QRST",
    }
    to_org = client.put("/data-integrations/github", json={"credentials": ORG_CREDENTIALS})
    assert to_org.json()["credentials"] == {
        "type": "organization",
        "client_id": None,
        "redacted_client_secret": None,
    }


def test_updated_at_strictly_increases_even_within_one_millisecond(client: ApiClient) -> None:
    stamps = [create(client, github())["updated_at"]]
    for index in range(15):
        response = client.put("/data-integrations/github", json={"description": str(index)})
        stamps.append(response.json()["updated_at"])
    assert stamps == sorted(set(stamps))

    frozen = Store(clock=lambda: 1_767_225_600_000)
    try:
        service = Service(frozen)
        first, _ = service.create(CreateIntegrationBody.model_validate(github()))
        second = service.update("github", "user", UpdateIntegrationBody(enabled=True))
        third = service.update("github", "user", UpdateIntegrationBody(enabled=False))
        assert first["updated_at"] < second["updated_at"] < third["updated_at"]
        assert first["created_at"] == third["created_at"] == "2026-01-01T00:00:00.000Z"
    finally:
        frozen.close()


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"ownership": "organization"}, "ownership", "immutable_field"),
        ({"auth_methods": ["api_key"]}, "auth_methods", "immutable_field"),
        ({"config": {"account": "x"}}, "config", "immutable_field"),
        ({"provider": "gitlab"}, "provider", "immutable_field"),
        ({"colour": "blue"}, "colour", "extra_forbidden"),
        ({"enabled": None}, "enabled", "bool_type"),
        ({"enabled": "true"}, "enabled", "bool_type"),
        ({"custom_provider": ACME}, "custom_provider", "builtin_provider"),
        ({"credentials": None}, "credentials", "required"),
        ({"credentials": {"type": "custom", "client_id": "x"}}, "credentials.client_secret", None),
        (
            {"credentials": {"type": "organization", "client_secret": CANARY}},
            "credentials.client_secret",
            None,
        ),
    ],
)
def test_update_rejects_invalid_bodies_with_422(
    client: ApiClient, body: dict[str, Any], field: str, code: str | None
) -> None:
    before = create(client, github())
    response = client.put("/data-integrations/github", json=body)
    errors = assert_error(response, 422)["errors"]
    assert field in {e["field"] for e in errors}
    if code is not None:
        assert code in {e["code"] for e in errors}
    assert CANARY not in response.text.replace(before["credentials"]["redacted_client_secret"], "")
    assert client.get("/data-integrations/github").json() == before


def test_update_custom_provider_rules(client: ApiClient) -> None:
    create(client, acme())
    bad_url = {"custom_provider": {"authorization_url": "ftp://x"}}
    assert error_fields(client.put("/data-integrations/acme-crm", json=bad_url)) == {
        "custom_provider.authorization_url"
    }
    removal = client.put("/data-integrations/acme-crm", json={"custom_provider": None})
    assert error_fields(removal) == {"custom_provider"}
    ok = client.put(
        "/data-integrations/acme-crm", json={"custom_provider": {"scopes_required": True}}
    )
    assert ok.json()["custom_provider"] == {
        **CONTRACT_DEFAULTS,
        **ACME,
        "scopes_required": True,
    }


def test_update_of_a_missing_integration_is_404(client: ApiClient) -> None:
    assert_error(client.put("/data-integrations/github", json={"enabled": True}), 404, "not_found")
    create(client, github())
    path = "/data-integrations/github/organization"
    assert_error(client.put(path, json={"enabled": True}), 404)


def test_delete_is_idempotent(client: ApiClient) -> None:
    create(client, github())
    for _ in range(2):
        response = client.delete("/data-integrations/github")
        assert response.status_code == 204 and response.content == b""
    assert client.delete("/data-integrations/never-existed/organization").status_code == 204
    assert_error(client.get("/data-integrations/github"), 404)


# -- list ---------------------------------------------------------------------------------


def _walk(client: ApiClient, **params: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Follow ``after`` cursors to the end; returns the ids and every list_metadata."""
    ids: list[str] = []
    metas: list[dict[str, Any]] = []
    after = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        page = client.get("/data-integrations", params=query).json()
        ids += [item["id"] for item in page["data"]]
        metas.append(page["list_metadata"])
        after = page["list_metadata"]["after"]
        if after is None:
            return ids, metas


def _walk_back(client: ApiClient, before: str, **params: Any) -> list[str]:
    ids: list[str] = []
    cursor: str | None = before
    while cursor is not None:
        page = client.get("/data-integrations", params={**params, "before": cursor}).json()
        ids = [item["id"] for item in page["data"]] + ids
        cursor = page["list_metadata"]["before"]
    return ids


@pytest.mark.parametrize("order", ["desc", "asc", "normal", None])
def test_list_pages_forward_and_back_in_either_order(client: ApiClient, order: str | None) -> None:
    created = [create(client, acme(f"p{n:02d}"))["id"] for n in range(23)]
    expected = created[::-1] if order in ("desc", None) else created
    params: dict[str, Any] = {"limit": 5} | ({"order": order} if order else {})

    ids, metas = _walk(client, **params)
    assert ids == expected
    assert len(metas) == 5
    assert metas[0]["before"] is None
    assert all(m["after"] is not None for m in metas[:-1])
    assert metas[-1]["after"] is None
    assert all(m["before"] is not None for m in metas[1:])

    # From the last item backwards, with before cursors, the pages rebuild the same list.
    assert [*_walk_back(client, expected[-1], **params), expected[-1]] == expected
    page = client.get("/data-integrations", params={**params, "before": expected[7]}).json()
    assert [i["id"] for i in page["data"]] == expected[2:7]
    assert page["list_metadata"] == {"before": expected[2], "after": expected[6]}


def test_list_default_limit_and_bounds(client: ApiClient) -> None:
    for n in range(12):
        create(client, acme(f"l{n:02d}"))
    assert len(client.get("/data-integrations").json()["data"]) == 10
    assert len(client.get("/data-integrations?limit=100").json()["data"]) == 12
    assert len(client.get("/data-integrations?limit=1").json()["data"]) == 1
    for query in ("limit=0", "limit=101", "limit=ten", "order=random", "ownership=team"):
        assert error_fields(client.get(f"/data-integrations?{query}")) == {query.split("=")[0]}
    assert error_fields(client.get("/data-integrations?after=garbage")) == {"after"}


def test_list_filters_by_ownership_and_includes_every_kind(client: ApiClient) -> None:
    github_user = create(client, github())
    github_org = create(client, github(ownership="organization", credentials=ORG_CREDENTIALS))
    custom = create(client, acme())
    api_key = create(client, {"provider": "linear", "auth_methods": ["api_key"]})
    everything = client.get("/data-integrations?order=asc").json()
    assert [i["id"] for i in everything["data"]] == [
        github_user["id"],
        github_org["id"],
        custom["id"],
        api_key["id"],
    ]
    assert everything["data"][2] == custom
    users = client.get("/data-integrations", params={"ownership": "user", "order": "asc"}).json()
    assert [i["id"] for i in users["data"]] == [github_user["id"], custom["id"], api_key["id"]]
    orgs = client.get("/data-integrations", params={"ownership": "organization"}).json()
    assert [i["id"] for i in orgs["data"]] == [github_org["id"]]


def test_list_survives_a_deleted_cursor(client: ApiClient) -> None:
    created = [create(client, acme(f"d{n}"))["id"] for n in range(6)]
    client.delete("/data-integrations/d2")
    page = client.get("/data-integrations", params={"order": "asc", "after": created[2]}).json()
    assert [i["id"] for i in page["data"]] == created[3:]
    back = client.get("/data-integrations", params={"order": "asc", "before": created[2]}).json()
    assert [i["id"] for i in back["data"]] == created[:2]


def test_list_order_is_creation_order_when_timestamps_tie() -> None:
    store = Store(clock=lambda: 1_767_225_600_000)
    try:
        service = Service(store)
        ids = [
            service.create(CreateIntegrationBody.model_validate(acme(f"t{n}")))[0]["id"]
            for n in range(8)
        ]
        listed = service.list(limit=100, order="asc")["data"]
        assert [i["id"] for i in listed] == ids
        assert len({i["created_at"] for i in listed}) == 1
        assert [i["id"] for i in service.list(limit=3, order="desc")["data"]] == ids[::-1][:3]
    finally:
        store.close()


# -- idempotency --------------------------------------------------------------------------


def test_idempotency_key_replays_the_first_answer(client: ApiClient) -> None:
    first = client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201
    client.delete("/data-integrations/github")
    reordered = dict(reversed(list(github().items())))
    replay = client.post("/data-integrations", json=reordered, headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert client.get("/data-integrations").json()["data"] == []
    assert client.get("/_emulator/stats").json()["integrations"] == 0


def test_idempotency_key_with_another_body_is_409(client: ApiClient) -> None:
    client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k2"})
    other = github(credentials=custom_credentials(CANARY_ROTATED))
    response = client.post("/data-integrations", json=other, headers={"Idempotency-Key": "k2"})
    assert_error(response, 409, "idempotency_key_reused")
    assert CANARY_ROTATED not in response.text
    fresh_key = client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k3"})
    assert_error(fresh_key, 409, "integration_exists")


def test_a_failed_post_does_not_burn_its_idempotency_key(client: ApiClient) -> None:
    failed = client.post(
        "/data-integrations", json={"provider": "github"}, headers={"Idempotency-Key": "k4"}
    )
    assert failed.status_code == 422
    ok = client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k4"})
    assert ok.status_code == 201


# -- secrets ------------------------------------------------------------------------------


def test_the_client_secret_is_never_returned_logged_or_stored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "emulator.db"
    app = create_app(db_path=str(db))
    texts: list[str] = []
    with ApiClient(app, headers=AUTH) as test_client:
        key = {"Idempotency-Key": "secret-test"}
        for response in (
            test_client.post("/data-integrations", json=github(), headers=key),
            test_client.post("/data-integrations", json=github(), headers=key),
            test_client.post("/data-integrations", json=github()),
            test_client.post(
                "/data-integrations",
                json=github(
                    ownership="organization",
                    credentials={"type": "organization", "client_secret": CANARY},
                ),
            ),
            test_client.put(
                "/data-integrations/github",
                json={"credentials": custom_credentials(CANARY_ROTATED)},
            ),
            test_client.put(
                "/data-integrations/github",
                json={"credentials": {"type": "custom", "client_secret": CANARY}},
            ),
            test_client.get("/data-integrations/github"),
            test_client.get("/data-integrations"),
        ):
            texts.append(response.text)
    store_of(app).close()
    everything = "\n".join(texts) + caplog.text
    assert "QRST" in everything
    for secret in (CANARY, CANARY_ROTATED):
        assert secret not in everything
        assert secret[:-4] not in everything
        for path in tmp_path.iterdir():
            assert secret.encode() not in path.read_bytes(), path


# -- stats, reset, persistence, seed, latency ----------------------------------------------


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


def test_a_db_file_survives_a_restart(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    first_app = create_app(db_path=db)
    with ApiClient(first_app, headers=AUTH) as first:
        custom = create(first, acme())
        builtin = create(first, github(), **{"Idempotency-Key": "persist"})
    store_of(first_app).close()

    second_app = create_app(db_path=db)
    try:
        with ApiClient(second_app, headers=AUTH) as second:
            assert second.get("/data-integrations/acme-crm").json() == custom
            assert second.get("/data-integrations/github").json() == builtin
            replay = second.post(
                "/data-integrations", json=github(), headers={"Idempotency-Key": "persist"}
            )
            assert replay.json() == builtin
            newer = create(second, acme(ownership="organization"))
            assert newer["id"] > builtin["id"] > custom["id"]
            assert newer["custom_provider"] == custom["custom_provider"]
    finally:
        store_of(second_app).close()


def test_seed_loads_entries_and_names_a_bad_one(tmp_path: Path) -> None:
    seed = [
        github(),
        acme(ownership="organization"),
        {"provider": "linear", "auth_methods": ["api_key"]},
    ]
    app = create_app(seed=seed)
    try:
        with ApiClient(app, headers=AUTH) as test_client:
            listed = test_client.get("/data-integrations?order=asc").json()["data"]
        assert [(i["slug"], i["ownership"]) for i in listed] == [
            ("github", "user"),
            ("acme-crm", "organization"),
            ("linear", "user"),
        ]
    finally:
        store_of(app).close()

    with pytest.raises(SeedError, match=r"seed\[1\].*credentials"):
        create_app(seed=[github(), {"provider": "slack"}])
    with pytest.raises(SeedError, match=r"seed\[0\]: ownership"):
        create_app(seed=[github(ownership="team")])
    with pytest.raises(SeedError, match=r"seed\[1\].*already exists"):
        create_app(seed=[github(), github()])

    db = str(tmp_path / "seeded.db")
    for _ in range(2):  # restarting on the same file with the same seed works
        store_of(create_app(db_path=db, seed=seed)).close()


def test_the_command_reports_seed_problems_without_a_traceback(tmp_path: Path) -> None:
    runner = CliRunner()
    cases = {
        "bad.json": ("[{", "not valid JSON"),
        "bad.yaml": ("- provider: [", "not valid YAML"),
        "map.yaml": ("provider: github", "must hold a list"),
        "scalar.json": ("[1]", "seed[0] must be a mapping"),
        "invalid.yaml": (f"- {json.dumps(github())}\n- provider: nope\n", "seed[1]"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        result = runner.invoke(emulator, ["--seed", str(path)])
        assert result.exit_code == 1, result.output
        assert message in result.output
        assert "Traceback" not in result.output
    missing = runner.invoke(emulator, ["--seed", str(tmp_path / "absent.yaml")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_the_command_has_help_and_does_not_import_fastapi_until_run() -> None:
    result = CliRunner().invoke(emulator, ["--help"])
    assert result.exit_code == 0
    options = ("--host", "--port", "--db", "--api-key", "--seed", "--latency-ms", "--fail-rate")
    for option in (*options, "--rate-limit", "--fault-seed", "Examples:"):
        assert option in result.output
    probe = (
        "import sys, reconciler.emulator.command; "
        "assert 'fastapi' not in sys.modules and 'uvicorn' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", probe], check=True)


def test_latency_delays_api_requests_only() -> None:
    app = create_app(latency_ms=150)
    try:
        with ApiClient(app, headers=AUTH) as test_client:
            started = time.monotonic()
            test_client.get("/_emulator/stats")
            quick = time.monotonic() - started
            started = time.monotonic()
            test_client.get("/data-integrations")
            slow = time.monotonic() - started
        assert slow >= 0.15
        assert quick < 0.15
    finally:
        store_of(app).close()


def test_works_in_process_without_lifespan_through_asgi_transport(emulator_app: FastAPI) -> None:
    async def scenario() -> None:
        transport = httpx.ASGITransport(app=emulator_app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://emulator.test", headers=AUTH
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


def test_the_emulator_imports_nothing_of_the_reconciler_but_the_provider_catalogue() -> None:
    package = Path(__file__).resolve().parent.parent / "reconciler" / "emulator"
    for module in sorted(package.glob("*.py")):
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name == "reconciler" or name.startswith("reconciler."):
                    allowed = (
                        name.startswith("reconciler.emulator") or name == "reconciler.providers"
                    )
                    assert allowed, f"{module.name} imports {name}"
