"""Request bodies (reconciler/wire.py): what a create, an update and a restore send, where
the client secret is revealed, and how an object found after an ambiguous create is
recognised as the one asked for."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.errors import UnrestorableError
from reconciler.models import Integration
from reconciler.plan import Action, ActionKind
from reconciler.secrets import Secret
from reconciler.wire import created_as_asked, request_body, restore_body, sends_secret
from tests.support.factories import custom_credentials, remote

SECRET = Secret("canary-wire-secret-Wx12")
CUSTOM = {"type": "custom", "client_id": "client-id"}
ACME = {"name": "Acme", "token_url": "https://acme.example/token"}


def _action(kind: ActionKind, values: dict[str, Any], **extra: Any) -> Action:
    return Action(kind, "crm", "organization", values=values, **extra)


# --- request_body ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", [ActionKind.CREATE, ActionKind.REPLACE])
def test_a_create_names_its_integration_and_reveals_the_secret(kind: ActionKind) -> None:
    action = _action(kind, {"description": "CRM", "credentials": CUSTOM})
    assert request_body(action, SECRET) == {
        "provider": "crm",
        "ownership": "organization",
        "description": "CRM",
        "credentials": {**CUSTOM, "client_secret": SECRET.reveal()},
    }
    assert request_body(action) == {
        "provider": "crm",
        "ownership": "organization",
        "description": "CRM",
        "credentials": CUSTOM,
    }


def test_an_update_sends_only_its_values() -> None:
    action = _action(ActionKind.UPDATE, {"description": "CRM"})
    assert request_body(action, SECRET) == {"description": "CRM"}  # no credentials: no secret
    assert not sends_secret(action)
    rotated = _action(ActionKind.UPDATE, {"credentials": CUSTOM})
    assert sends_secret(rotated)
    assert request_body(rotated, SECRET) == {
        "credentials": {**CUSTOM, "client_secret": SECRET.reveal()}
    }


def test_a_body_is_a_copy_the_plan_does_not_share() -> None:
    action = _action(ActionKind.UPDATE, {"credentials": dict(CUSTOM), "scopes": ["a"]})
    body = request_body(action, SECRET)
    body["scopes"].append("b")
    assert action.values == {"credentials": CUSTOM, "scopes": ["a"]}
    assert "client_secret" not in action.values["credentials"]


# --- restore_body ----------------------------------------------------------------------------


def _replace(old: Any, credentials: dict[str, Any] | None = None) -> Action:
    spec = Integration.model_validate(
        {"slug": old.slug, **({"credentials": credentials} if credentials else {})}
    )
    return Action(ActionKind.REPLACE, old.slug, old.ownership, spec=spec, remote=old)


def test_restoring_needs_the_snapshot_the_plan_holds() -> None:
    action = Action(ActionKind.REPLACE, "crm", "user")
    with pytest.raises(UnrestorableError) as refused:
        restore_body(action, SECRET)
    assert str(refused.value) == "the plan holds no snapshot of the previous one"


def test_a_restore_recreates_every_field_and_organization_credentials() -> None:
    old = remote(
        "crm", "organization", description="CRM", enabled=True, scopes=["read"], config={"a": "1"}
    )
    assert restore_body(_replace(old)) == {
        "provider": "crm",
        "ownership": "organization",
        "description": "CRM",
        "enabled": True,
        "scopes": ["read"],
        "auth_methods": ["oauth"],
        "config": {"a": "1"},
        "credentials": {"type": "organization"},
    }


def test_a_restore_keeps_a_custom_definition_and_no_scopes() -> None:
    old = remote("acme", custom_provider=ACME, scopes=None)
    body = restore_body(_replace(old))
    assert body["scopes"] is None
    assert body["custom_provider"]["name"] == "Acme"
    assert body["custom_provider"]["token_url"] == ACME["token_url"]


def test_a_restore_without_oauth_sends_no_credentials() -> None:
    old = remote("warehouse", auth_methods=["api_key"])  # credentials listed, not used
    body = restore_body(_replace(old))
    assert "credentials" not in body
    assert "credentials" not in restore_body(_replace(remote("w", credentials=None)))


def test_custom_credentials_are_restored_with_the_manifest_secret_of_the_same_app() -> None:
    old = remote("crm", credentials=custom_credentials("client-id", "Wx12"))
    body = restore_body(_replace(old, {**CUSTOM, "client_secret": "${env:S}"}), SECRET)
    assert body["credentials"] == {**CUSTOM, "client_secret": SECRET.reveal()}


@pytest.mark.parametrize(
    ("credentials", "secret"),
    [
        ({**CUSTOM, "client_secret": "${env:S}"}, None),  # no secret
        ({"type": "custom", "client_id": "other-app", "client_secret": "${env:S}"}, SECRET),
        ({"type": "organization"}, SECRET),
        (None, SECRET),  # the manifest leaves credentials unmanaged
    ],
    ids=["no-secret", "another-app", "organization", "unmanaged"],
)
def test_custom_credentials_are_never_restored_half(
    credentials: dict[str, Any] | None, secret: Secret | None
) -> None:
    old = remote("crm", credentials=custom_credentials("client-id", "Wx12"))
    with pytest.raises(UnrestorableError) as refused:
        restore_body(_replace(old, credentials), secret)
    assert str(refused.value) == (
        "its custom credentials can't be restored faithfully (the API never returns a "
        "client secret, and the manifest's client_id is not the old one)"
    )


def test_old_custom_credentials_without_a_client_id_are_never_restored() -> None:
    old = remote("crm", credentials={"type": "custom", "redacted_client_secret": "Wx12"})
    action = _replace(old, {**CUSTOM, "client_secret": "${env:S}"})
    with pytest.raises(UnrestorableError):
        restore_body(action, SECRET)


# --- created_as_asked --------------------------------------------------------------------------


def _found(**fields: Any) -> Any:
    return remote("crm", "organization", **fields)


BODY: dict[str, Any] = {
    "provider": "crm",
    "ownership": "organization",
    "description": "CRM",
    "scopes": ["a", "b"],
}


def test_the_object_asked_for_is_recognised_whatever_its_set_order() -> None:
    assert created_as_asked(_found(description="CRM", scopes=["b", "a"]), BODY)
    assert not created_as_asked(_found(description="other", scopes=["a", "b"]), BODY)
    assert not created_as_asked(_found(description="CRM", scopes=["a"]), BODY)
    assert created_as_asked(_found(), {"provider": "crm"})  # nothing else asked


def test_credentials_are_recognised_by_type_client_id_and_last_4() -> None:
    body = {**BODY, "credentials": {**CUSTOM, "client_secret": SECRET.reveal()}}
    same = custom_credentials("client-id", "Wx12")
    assert created_as_asked(_found(description="CRM", scopes=["a", "b"], credentials=same), body)
    for other in (
        custom_credentials("client-id", "0000"),
        custom_credentials("other-id", "Wx12"),
        {"type": "organization", "client_id": "client-id", "redacted_client_secret": "Wx12"},
        None,
    ):
        found = _found(description="CRM", scopes=["a", "b"], credentials=other)
        assert not created_as_asked(found, body), other
    without_secret = {**BODY, "credentials": {"type": "organization"}}
    organization = {"type": "organization", "client_id": None, "redacted_client_secret": None}
    found = _found(description="CRM", scopes=["a", "b"], credentials=organization)
    assert created_as_asked(found, without_secret)


def test_a_custom_definition_is_recognised_key_by_key() -> None:
    body = {"provider": "acme", "custom_provider": {"token_url": ACME["token_url"]}}
    assert created_as_asked(remote("acme", custom_provider=ACME), body)
    other = {**ACME, "token_url": "https://other.example/token"}
    assert not created_as_asked(remote("acme", custom_provider=other), body)
    assert not created_as_asked(remote("acme"), body)  # built-in: no definition
