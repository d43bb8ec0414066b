"""The planner's edges (reconciler/planner.py and reconciler/changes.py): what a replace
carries over, what a delete destroys, the secret's fields, siblings seen from either
ownership, and a plan cut to selected integrations."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import ManifestError
from reconciler.plan import ActionKind, FieldChange, Identity
from reconciler.planner import plan
from tests.support.factories import custom_credentials, desired, desired_state, remote, secret_ref

ACME = {"name": "Acme", "token_url": "https://acme.example/token"}


def _fields(action: Any) -> dict[str, FieldChange]:
    return {f.path: f for f in action.fields}


# --- the client secret's fields -------------------------------------------------------------


def test_a_created_secret_is_shown_masked_and_sensitive_with_its_credentials() -> None:
    entry = desired(secret="canary-create-Zq9X", slug="github", credentials=secret_ref())
    (action,) = plan(desired_state(entry), []).actions
    fields = _fields(action)
    assert fields["credentials.type"] == FieldChange("credentials.type", None, "custom")
    assert fields["credentials.client_id"] == FieldChange(
        "credentials.client_id", None, "client-id"
    )
    assert fields["credentials.client_secret"] == FieldChange(
        "credentials.client_secret", None, "(sensitive, ends …Zq9X)", sensitive=True
    )


def test_a_rotated_secret_is_a_sensitive_change() -> None:
    entry = desired(secret="canary-rotate-4321", slug="github", credentials=secret_ref())
    current = remote("github", credentials=custom_credentials("client-id", "6789"))
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.fields == (
        FieldChange(
            "credentials.client_secret",
            "(sensitive, ends …6789)",
            "(sensitive, ends …4321)",
            sensitive=True,
        ),
    )


def test_a_secret_sent_again_is_a_sensitive_change() -> None:
    entry = desired(secret="canary-rotate-1234", slug="github", credentials=secret_ref())
    current = remote("github", credentials=custom_credentials("client-id", "1234"))
    (action,) = plan(desired_state(entry), [current], rotate_secrets=True).actions
    assert action.fields == (
        FieldChange(
            "credentials.client_secret",
            "(sensitive, ends …1234)",
            "(sensitive, ends …1234), sent again",
            sensitive=True,
        ),
    )


# --- a delete shows what it destroys ---------------------------------------------------------


def test_a_delete_lists_every_field_that_holds_a_value_and_masks_the_secret() -> None:
    current = remote(
        "github",
        description="Code",
        scopes=["repo"],
        credentials=custom_credentials("client-id", "6789"),
    )
    (action,) = plan(desired_state(prune=True), [current]).actions
    assert action.kind is ActionKind.DELETE
    assert action.fields == (
        FieldChange("description", "Code", None),
        FieldChange("enabled", False, None),
        FieldChange("scopes", ["repo"], None),
        FieldChange("auth_methods", ["oauth"], None),
        FieldChange("credentials.type", "custom", None),
        FieldChange("credentials.client_id", "client-id", None),
        FieldChange("credentials.client_secret", "(sensitive, ends …6789)", None, sensitive=True),
    )


def test_a_delete_of_an_integration_without_a_secret_shows_none() -> None:
    current = remote("slack", description=None, config={"team": "acme"})
    (action,) = plan(desired_state(prune=True), [current]).actions
    paths = [f.path for f in action.fields]
    assert paths == ["enabled", "auth_methods", "config", "credentials.type"]
    assert not any(f.sensitive for f in action.fields)


# --- a replace: the whole new object, carried-over values marked ------------------------------


def test_a_replace_marks_what_it_carries_over_and_what_the_manifest_sets() -> None:
    entry = desired(slug="snowflake", auth_methods=["api_key"], description="d")
    current = remote(
        "snowflake", description="old", scopes=["read"], auth_methods=["oauth"], credentials=None
    )
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    fields = _fields(action)
    assert fields["description"] == FieldChange("description", "old", "d")
    assert fields["scopes"] == FieldChange("scopes", ["read"], ["read"], carried_over=True)
    assert fields["enabled"] == FieldChange("enabled", False, False, carried_over=True)
    assert fields["auth_methods"] == FieldChange(
        "auth_methods",
        ["oauth"],
        ["api_key"],
        forces_replacement=True,
        added=("api_key",),
        removed=("oauth",),
    )
    assert action.values == {
        "description": "d",
        "enabled": False,
        "scopes": ["read"],
        "auth_methods": ["api_key"],
        "config": {},
    }


def test_a_replace_carries_organization_credentials_over_for_oauth() -> None:
    entry = desired(slug="crm", config={"region": "eu"})
    current = remote("crm", config={"region": "us"})  # oauth, organization credentials
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    assert action.values["credentials"] == {"type": "organization"}
    assert _fields(action)["credentials.type"] == FieldChange(
        "credentials.type", "organization", "organization", carried_over=True
    )


def test_a_replace_without_oauth_does_not_carry_credentials_over() -> None:
    entry = desired(slug="crm", auth_methods=["api_key"])
    current = remote("crm")  # oauth, organization credentials
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    assert "credentials" not in action.values
    assert not [f for f in action.fields if f.path.startswith("credentials.")]


def test_a_replace_sends_the_manifest_secret_again_even_when_it_ends_the_same() -> None:
    entry = desired(
        secret="canary-replace-1234", slug="crm", config={"region": "eu"}, credentials=secret_ref()
    )
    current = remote(
        "crm", config={"region": "us"}, credentials=custom_credentials("client-id", "1234")
    )
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    fields = _fields(action)
    assert fields["credentials.client_secret"] == FieldChange(
        "credentials.client_secret",
        "(sensitive, ends …1234)",
        "(sensitive, ends …1234), sent again",
        sensitive=True,
    )
    assert fields["credentials.type"] == FieldChange("credentials.type", "custom", "custom")
    assert action.values["credentials"] == {"type": "custom", "client_id": "client-id"}


def test_a_replace_needs_a_resolved_secret_for_custom_credentials() -> None:
    entry = desired(slug="crm", config={"region": "eu"}, credentials=secret_ref(), line=4)
    current = remote("crm", config={"region": "us"})
    with pytest.raises(ManifestError) as caught:
        plan(desired_state(entry), [current])
    (problem,) = caught.value.problems
    assert (problem.line, problem.message) == (4, "crm (user): client_secret is not resolved")


def test_a_custom_replace_shows_the_definition_change_and_carries_the_rest() -> None:
    entry = desired(
        slug="acme",
        auth_methods=["api_key"],
        custom_provider={"token_url": "https://new.example/token"},
    )
    current = remote("acme", credentials=None, custom_provider=ACME)
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    fields = _fields(action)
    assert fields["custom_provider.token_url"] == FieldChange(
        "custom_provider.token_url", "https://acme.example/token", "https://new.example/token"
    )
    assert fields["custom_provider.name"] == FieldChange(
        "custom_provider.name", "Acme", "Acme", carried_over=True
    )
    assert "provider" not in fields
    assert action.values["custom_provider"]["name"] == "Acme"


# --- sets and maps, element by element ------------------------------------------------------


def test_a_set_change_lists_added_and_removed_elements() -> None:
    entry = desired(slug="slack", scopes=["b", "c"])
    current = remote("slack", scopes=["a", "b"])
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.fields == (
        FieldChange("scopes", ["a", "b"], ["b", "c"], added=("c",), removed=("a",)),
    )


def test_a_set_from_nothing_is_one_change_without_elements() -> None:
    entry = desired(slug="slack", scopes=["a"])
    (action,) = plan(desired_state(entry), [remote("slack", scopes=None)]).actions
    assert action.fields == (FieldChange("scopes", None, ["a"]),)
    entry = desired(slug="slack", scopes=None)
    (action,) = plan(desired_state(entry), [remote("slack", scopes=["a"])]).actions
    assert action.fields == (FieldChange("scopes", ["a"], None),)


def test_a_map_from_nothing_is_one_change_and_a_map_change_is_key_by_key() -> None:
    parameters = {"prompt": "consent", "access_type": "offline"}
    entry = desired(
        slug="acme",
        credentials={"type": "organization"},
        custom_provider={"additional_authorization_parameters": parameters},
    )
    current = remote("acme", custom_provider={**ACME, "additional_authorization_parameters": None})
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.fields == (
        FieldChange("custom_provider.additional_authorization_parameters", None, parameters),
    )
    old = {"prompt": "login"}
    current = remote("acme", custom_provider={**ACME, "additional_authorization_parameters": old})
    (action,) = plan(desired_state(entry), [current]).actions
    assert [(f.path, f.before, f.after) for f in action.fields] == [
        ("custom_provider.additional_authorization_parameters.access_type", None, "offline"),
        ("custom_provider.additional_authorization_parameters.prompt", "login", "consent"),
    ]


# --- siblings: the other ownership of a custom slug ------------------------------------------


def test_creating_the_user_one_beside_an_unlisted_organization_one_is_hinted() -> None:
    user = desired(slug="acme", credentials={"type": "organization"}, custom_provider=ACME)
    result = plan(desired_state(user), [remote("acme", "organization", custom_provider=ACME)])
    (action,) = result.actions
    assert (action.kind, action.identity) == (ActionKind.CREATE, ("acme", "user"))
    assert "custom_provider" not in action.values  # the definition exists: nothing to send
    (hint,) = result.warnings  # the same definition: no shared-change warning
    assert hint.startswith(
        "acme (user) will be created beside acme (organization), which the manifest does not list"
    )


def test_creating_the_organization_one_beside_an_unlisted_user_one_is_hinted() -> None:
    org = desired(
        slug="acme",
        ownership="organization",
        credentials={"type": "organization"},
        custom_provider=ACME,
    )
    result = plan(desired_state(org), [remote("acme", custom_provider=ACME)])
    (hint,) = result.warnings
    assert hint.startswith(
        "acme (organization) will be created beside acme (user), which the manifest does not list"
    )


def test_no_hint_when_the_other_ownership_is_listed_or_does_not_exist() -> None:
    user = desired(slug="acme", credentials={"type": "organization"}, custom_provider=ACME)
    org = desired(slug="acme", ownership="organization", credentials={"type": "organization"})
    listed = plan(desired_state(user, org), [remote("acme", "organization", custom_provider=ACME)])
    assert [a.identity for a in listed.actions] == [("acme", "user")]
    assert listed.warnings == ()
    assert plan(desired_state(user), []).warnings == ()


def test_every_create_beside_an_unlisted_sibling_is_hinted_whatever_comes_before() -> None:
    entries = [
        desired(slug="alpha", description="changed"),
        desired(slug="beta", credentials={"type": "organization"}, custom_provider=ACME),
    ]
    current = [remote("alpha"), remote("beta", "organization", custom_provider=ACME)]
    result = plan(desired_state(*entries), current)
    # the update of alpha is planned before the create of beta
    assert {a.kind for a in result.actions} == {ActionKind.UPDATE, ActionKind.CREATE}
    (hint,) = result.warnings
    assert hint.startswith("beta (user) will be created beside beta (organization)")


# --- a plan cut to selected integrations ------------------------------------------------------


def _organization(identity: Identity) -> bool:
    return identity[1] == "organization"


def test_the_selected_create_carries_the_shared_definition() -> None:
    provider = {"name": "Acme", "token_url": "https://new.example/token"}
    user = desired(slug="acme", credentials={"type": "organization"}, custom_provider=provider)
    org = desired(slug="acme", ownership="organization", credentials={"type": "organization"})
    current = [remote("acme", custom_provider=ACME)]
    whole = plan(desired_state(user, org), current)
    values = {a.identity: a.values for a in whole.actions}
    assert "custom_provider" in values[Identity("acme", "user")]  # the update carries it
    assert "custom_provider" not in values[Identity("acme", "organization")]
    cut = plan(desired_state(user, org), current, selects=_organization)
    (create,) = cut.actions
    assert create.identity == ("acme", "organization")
    assert create.values["custom_provider"] == {"token_url": "https://new.example/token"}
    assert cut.targeting is not None
    assert cut.targeting.skipped == ()  # the user one has nothing left to change


def test_integrations_left_out_with_changes_are_listed_as_skipped() -> None:
    entries = [
        desired(slug="crm", description="user"),
        desired(slug="crm", ownership="organization", description="org"),
        desired(slug="erp", ownership="organization", description="same"),
    ]
    current = [
        remote("crm", description="old"),
        remote("crm", "organization", description="old"),
        remote("erp", "organization", description="same"),
        remote("legacy"),
    ]
    result = plan(desired_state(*entries), current, selects=_organization)
    assert [a.identity for a in result.actions] == [("crm", "organization")]
    assert result.unchanged == (("erp", "organization"),)
    assert result.unmanaged == ()
    assert result.targeting is not None
    assert result.targeting.skipped == (("crm", "user"),)
    assert result.managed_remote_count == 3
