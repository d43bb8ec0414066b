"""Field changes the planner shows in two corners: a plan made without secrets
(``--no-secrets``: a client secret is checked, never read), and a built-in provider's
integration replaced by a custom provider's."""

from __future__ import annotations

from reconciler.changes import NOT_COMPARED, credential_changes, recreate
from reconciler.plan import FieldChange
from tests.support.factories import custom_credentials, desired, remote, secret_ref

HAVE = custom_credentials("client-id", "Wx12")


def _deferred(client_id: str = "client-id") -> list[FieldChange]:
    """The credential changes of an entry whose secret was not read (``--no-secrets``)."""
    entry = desired(slug="crm", credentials={**secret_ref(), "client_id": client_id})
    assert entry.secret_deferred
    return credential_changes(entry, remote("crm", credentials=HAVE), rotate=False)


def test_without_secrets_an_unchanged_app_shows_no_secret_row() -> None:
    assert _deferred() == []


def test_without_secrets_the_secret_sent_with_another_change_is_shown_not_compared() -> None:
    changes = _deferred(client_id="other-app")
    assert changes == [
        FieldChange("credentials.client_id", "client-id", "other-app"),
        FieldChange(
            "credentials.client_secret", "(sensitive, ends …Wx12)", NOT_COMPARED, sensitive=True
        ),
    ]


def test_without_secrets_rotate_alone_shows_the_secret_not_compared() -> None:
    entry = desired(slug="crm", credentials=secret_ref())
    changes = credential_changes(entry, remote("crm", credentials=HAVE), rotate=True)
    assert changes == [
        FieldChange(
            "credentials.client_secret", "(sensitive, ends …Wx12)", NOT_COMPARED, sensitive=True
        )
    ]


def test_a_built_in_made_custom_says_first_that_the_provider_forces_the_replace() -> None:
    entry = desired(
        slug="warehouse",
        description="d",
        custom_provider={
            "name": "Warehouse",
            "authorization_url": "https://w.example/a",
            "token_url": "https://w.example/t",
        },
    )
    definition = {"name": "Warehouse"}
    changes, body = recreate(entry, remote("warehouse"), definition)
    assert changes[0] == FieldChange(
        "provider", "built-in", "custom_provider", forces_replacement=True
    )
    assert [c.path for c in changes].count("provider") == 1
    assert body["custom_provider"]["name"] == "Warehouse"
