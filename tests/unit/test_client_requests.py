"""The client against the emulator in-process: pages, writes, typed errors,
the key shown by its last 4."""

from __future__ import annotations

import pytest

from reconciler.client import (
    ApiClient,
)
from reconciler.emulator.app import create_app
from reconciler.errors import (
    AuthenticationError,
    ConfigError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
)
from reconciler.secrets import redact_key
from tests.support import (
    client_for,
    custom_body,
    run,
    stats,
)


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


def test_api_key_is_shown_by_its_last_4_only() -> None:
    assert redact_key("sk_live_abcdefgh1234") == "sk_…1234"
    with pytest.raises(ConfigError):
        ApiClient(api_key="")
