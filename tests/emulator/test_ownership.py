"""The two ownerships of a slug are independent integrations; those of a custom provider
share one definition, which goes with the last of them."""

from __future__ import annotations

from tests.emulator.contract import (
    ORG_CREDENTIALS,
    ApiClient,
    acme,
    assert_error,
    create,
    github,
)


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
