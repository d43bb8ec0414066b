"""``POST /data-integrations``: the object created, every field with its default, and
the 422, 404 and 409 answers."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.emulator.contract import (
    ACME,
    CANARY,
    CONTRACT_DEFAULTS,
    ID_RE,
    ORG_CREDENTIALS,
    RESPONSE_FIELDS,
    TIME_RE,
    ApiClient,
    acme,
    assert_error,
    create,
    custom_credentials,
    error_fields,
    github,
)


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
    endpoints = {k: ACME[k] for k in ("authorization_url", "token_url")}
    given = {"name": "Acme", "pkce_enabled": False, **endpoints}
    body = create(client, acme(custom_provider=given))
    assert set(body) == RESPONSE_FIELDS
    assert body["integration_type"] == "custom"
    assert body["credentials"] == {
        "type": "organization",
        "client_id": None,
        "redacted_client_secret": None,
    }
    assert body["custom_provider"] == {**CONTRACT_DEFAULTS, **given}
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
