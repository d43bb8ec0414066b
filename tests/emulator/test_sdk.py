"""WorkOS's official Python SDK (``workos``) drives the emulator over loopback.

Create, get, update, list and delete go through the SDK's own methods and models,
so every answer must parse as the SDK parses the API's; every refusal must reach
the SDK as the typed error, status, ``code`` and field problems the API gives.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from workos import (
    ConflictError,
    NotFoundError,
    UnprocessableEntityError,
    WorkOSClient,
)
from workos.common.models.data_integration_credential_type import (
    DataIntegrationCredentialType,
)
from workos.common.models.pagination_order import PaginationOrder
from workos.pipes.models import (
    CustomProviderDefinition,
    DataIntegration,
    DataIntegrationCredentialsInput,
    UpdateCustomProviderDefinition,
)

from tests.support import API_KEY, AUTH

SECRET = "sdk-client-secret-ends-9f3a"
ACME = CustomProviderDefinition(
    name="Acme CRM",
    authorization_url="https://crm.acme.example/oauth/authorize",
    token_url="https://crm.acme.example/oauth/token",
)


def custom(secret: str = SECRET) -> DataIntegrationCredentialsInput:
    return DataIntegrationCredentialsInput(
        type=DataIntegrationCredentialType("custom"), client_id="Iv1.sdk", client_secret=secret
    )


def organization() -> DataIntegrationCredentialsInput:
    return DataIntegrationCredentialsInput(type=DataIntegrationCredentialType("organization"))


@pytest.fixture
def sdk(live_emulator: str) -> Iterator[WorkOSClient]:
    with WorkOSClient(api_key=API_KEY, base_url=live_emulator, max_retries=0) as client:
        yield client


def test_create_get_update_delete_a_builtin_integration(sdk: WorkOSClient) -> None:
    created = sdk.pipes.create_data_integration(
        provider="github",
        description="Production GitHub app",
        enabled=True,
        scopes=["repo", "read:org"],
        credentials=custom(),
    )
    assert isinstance(created, DataIntegration)
    assert (created.slug, created.ownership.value, created.integration_type) == (
        "github",
        "user",
        "github",
    )
    assert created.credentials is not None
    assert created.credentials.redacted_client_secret == SECRET[-4:]
    assert created.custom_provider is None and created.config == {}
    assert created.installation is None

    fetched = sdk.pipes.get_data_integration("github")
    assert fetched.id == created.id and fetched.scopes == ["repo", "read:org"]

    updated = sdk.pipes.update_data_integration("github", description=None, scopes=None)
    assert updated.description is None
    assert updated.scopes is None  # reset: null, the provider's configured scopes
    assert updated.enabled is True  # not sent, so unchanged
    assert updated.updated_at > created.updated_at

    rotated = sdk.pipes.update_data_integration("github", credentials=custom("rotated-e7b2"))
    assert rotated.credentials is not None and rotated.credentials.redacted_client_secret == "e7b2"

    sdk.pipes.delete_data_integration("github")
    with pytest.raises(NotFoundError) as missing:
        sdk.pipes.get_data_integration("github")
    assert missing.value.status_code == 404 and missing.value.code == "not_found"
    sdk.pipes.delete_data_integration("github")  # idempotent: a missing one is a 204 too


def test_scopes_stay_null_when_omitted(sdk: WorkOSClient) -> None:
    created = sdk.pipes.create_data_integration(provider="slack", credentials=organization())
    assert created.scopes is None
    assert sdk.pipes.update_data_integration("slack", enabled=True).scopes is None


def test_a_custom_provider_shared_by_both_ownerships(sdk: WorkOSClient) -> None:
    user = sdk.pipes.create_data_integration(
        provider="acme-crm", custom_provider=ACME, credentials=organization()
    )
    assert user.integration_type == "custom" and user.custom_provider is not None
    assert user.custom_provider.pkce_enabled is True  # the defaults, filled in
    # The documented way to add the other ownership: the slug, without custom_provider.
    org = sdk.pipes.create_data_integration(
        provider="acme-crm", ownership="organization", credentials=organization()
    )
    assert org.custom_provider == user.custom_provider

    changed = sdk.pipes.update_data_integration_organization(
        "acme-crm", custom_provider=UpdateCustomProviderDefinition(name="Acme CRM v2")
    )
    assert changed.custom_provider is not None and changed.custom_provider.name == "Acme CRM v2"
    shared = sdk.pipes.get_data_integration("acme-crm").custom_provider
    assert shared is not None and shared.name == "Acme CRM v2"

    sdk.pipes.delete_data_integration("acme-crm")
    sdk.pipes.delete_data_integration_organization("acme-crm")
    with pytest.raises(NotFoundError):  # the definition went with the last integration
        sdk.pipes.create_data_integration(provider="acme-crm", credentials=organization())


def test_list_pages_in_every_order(sdk: WorkOSClient) -> None:
    slugs = [f"crm-{n:02d}" for n in range(7)]
    for slug in slugs:
        sdk.pipes.create_data_integration(
            provider=slug, custom_provider=ACME, credentials=organization()
        )
    ascending = sdk.pipes.list_data_integrations(limit=3, order=PaginationOrder.ASC)
    assert [i.slug for i in ascending.auto_paging_iter()] == slugs
    descending = sdk.pipes.list_data_integrations(limit=3)  # the SDK's default: desc
    assert [i.slug for i in descending.auto_paging_iter()] == slugs[::-1]
    only_org = sdk.pipes.list_data_integrations(ownership="organization")
    assert only_org.data == [] and only_org.after is None

    # normal: descending, with `before` fetching older records and `after` newer ones.
    newest = sdk.pipes.list_data_integrations(limit=3, order=PaginationOrder.NORMAL)
    assert [i.slug for i in newest.data] == slugs[:3:-1]
    assert newest.after is None and newest.before == newest.data[-1].id
    older = sdk.pipes.list_data_integrations(
        limit=3, order=PaginationOrder.NORMAL, before=newest.before
    )
    assert [i.slug for i in older.data] == slugs[3:0:-1]
    newer = sdk.pipes.list_data_integrations(
        limit=2, order=PaginationOrder.NORMAL, after=older.data[0].id
    )
    assert [i.slug for i in newer.data] == slugs[5:3:-1]
    assert newer.after == newer.data[0].id  # one more, newer still


def test_refusals_reach_the_sdk_as_the_api_gives_them(sdk: WorkOSClient) -> None:
    with pytest.raises(UnprocessableEntityError) as config:
        sdk.pipes.create_data_integration(
            provider="github", config={"account": "x"}, credentials=custom()
        )
    assert config.value.status_code == 422 and config.value.code == "validation_error"
    assert config.value.errors == [
        {"field": "config.account", "code": "unknown_key", "message": "allowed: none"}
    ]

    with pytest.raises(UnprocessableEntityError) as endpoints:
        sdk.pipes.create_data_integration(
            provider="acme-crm",
            custom_provider=CustomProviderDefinition(name="Acme CRM"),
            credentials=organization(),
        )
    fields = [problem["field"] for problem in endpoints.value.errors or []]
    assert fields == ["custom_provider.authorization_url", "custom_provider.token_url"]

    with pytest.raises(UnprocessableEntityError) as shadow:
        sdk.pipes.create_data_integration(
            provider="github", custom_provider=ACME, credentials=organization()
        )
    assert shadow.value.errors is not None
    assert shadow.value.errors[0]["code"] == "builtin_provider"

    with pytest.raises(NotFoundError):
        sdk.pipes.create_data_integration(provider="no-such-provider", credentials=organization())

    sdk.pipes.create_data_integration(provider="slack", credentials=organization())
    with pytest.raises(ConflictError) as duplicate:
        sdk.pipes.create_data_integration(provider="slack", credentials=organization())
    assert duplicate.value.code == "integration_exists"


def test_a_foreign_host_is_refused_before_the_key_is_checked(live_emulator: str) -> None:
    """DNS rebinding: a page's own name in ``Host`` never reaches the API or its controls."""
    for path in ("/data-integrations", "/_emulator/stats"):
        answer = httpx.get(
            live_emulator + path, headers={**AUTH, "Host": "attacker.example:8787"}, timeout=5
        )
        assert answer.status_code == 400, answer.text
        assert answer.json()["code"] == "invalid_host"
