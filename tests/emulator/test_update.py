"""``PUT /data-integrations/{slug}[/organization]``: a partial update, its rules and 404."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator.schemas import (
    CreateIntegrationBody,
    UpdateIntegrationBody,
)
from reconciler.emulator.service import Service
from reconciler.emulator.store import Store
from tests.emulator.contract import (
    ACME,
    CANARY,
    CANARY_ROTATED,
    CONTRACT_DEFAULTS,
    ORG_CREDENTIALS,
    ApiClient,
    acme,
    assert_error,
    create,
    custom_credentials,
    error_fields,
    github,
)


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
