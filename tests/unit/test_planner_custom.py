"""Unit tests of the pure planner on custom providers: shared definitions, their fields,
siblings and replaces."""

from __future__ import annotations

import pytest

from reconciler.errors import ManifestError
from reconciler.identity import Identity
from reconciler.plan import ActionKind
from reconciler.planner import plan
from tests.support.factories import desired, desired_state, remote


def test_a_custom_provider_on_a_remote_builtin_is_refused_before_any_replace() -> None:
    """The API lists ``tracker`` with ``custom_provider: null`` (a built-in the tool's
    catalogue need not know) and refuses a custom provider that shadows it: the plan
    refuses at the entry instead of replacing (which would delete it first)."""
    entry = desired(
        slug="tracker", credentials={"type": "organization"}, custom_provider={"name": "T"}
    )
    with pytest.raises(ManifestError) as refused:
        plan(desired_state(entry), [remote("tracker")])
    (problem,) = refused.value.problems
    assert str(problem) == (
        "integrations.yaml:1:5: tracker is a built-in provider (the API lists tracker (user) "
        "with custom_provider: null), and the API refuses a custom provider with a built-in's "
        "slug: remove custom_provider from this entry, or give the custom provider a slug of "
        "its own"
    )
    beside = desired(
        slug="tracker",
        ownership="organization",
        credentials={"type": "organization"},
        custom_provider={"name": "T"},
    )
    with pytest.raises(ManifestError, match="tracker is a built-in provider"):
        plan(desired_state(beside), [remote("tracker")])  # a create beside it, too


def test_shared_custom_definition_is_updated_once() -> None:
    provider = {"name": "Acme", "token_url": "https://acme.example/token"}
    user = desired(slug="acme", credentials={"type": "organization"}, custom_provider=provider)
    org = desired(
        slug="acme",
        ownership="organization",
        credentials={"type": "organization"},
        custom_provider=provider,
    )
    old = {"name": "Acme", "token_url": "https://old.example/token"}
    result = plan(
        desired_state(user, org),
        [remote("acme", custom_provider=old), remote("acme", "organization", custom_provider=old)],
    )
    (action,) = result.actions
    assert action.identity == ("acme", "user")
    assert action.values == {"custom_provider": {"token_url": "https://acme.example/token"}}
    assert result.unchanged == (("acme", "organization"),)


def test_custom_definition_of_one_entry_goes_into_the_sibling_create() -> None:
    user = desired(
        slug="acme", credentials={"type": "organization"}, custom_provider={"name": "Acme"}
    )
    org = desired(slug="acme", ownership="organization", credentials={"type": "organization"})
    result = plan(desired_state(user, org), [])
    bodies = {a.identity: a.values for a in result.actions}
    assert bodies[Identity("acme", "organization")]["custom_provider"] == {"name": "Acme"}
    assert bodies[Identity("acme", "user")]["custom_provider"] == {"name": "Acme"}


def test_custom_provider_fields_are_managed_one_by_one() -> None:
    entry = desired(
        slug="acme", credentials={"type": "organization"}, custom_provider={"name": "Acme"}
    )
    current = remote("acme", custom_provider={"name": "Acme", "pkce_enabled": False})
    assert plan(desired_state(entry), [current]).actions == ()


def test_replace_of_a_custom_integration_carries_its_definition_over() -> None:
    entry = desired(slug="acme", auth_methods=["api_key"])
    current = remote("acme", custom_provider={"name": "Acme", "token_url": "https://a.example/t"})
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    assert action.values["custom_provider"]["name"] == "Acme"
    assert action.values["custom_provider"]["token_url"] == "https://a.example/t"


def test_creating_beside_an_existing_custom_provider_shows_the_shared_change() -> None:
    user = desired(
        slug="acme",
        credentials={"type": "organization"},
        custom_provider={"name": "Acme", "token_url": "https://new.example/t"},
    )
    org = remote(
        "acme",
        "organization",
        custom_provider={"name": "Acme", "token_url": "https://old.example/t"},
    )
    result = plan(desired_state(user), [org])
    (action,) = result.actions
    assert action.kind is ActionKind.CREATE
    assert action.values["custom_provider"] == {"token_url": "https://new.example/t"}
    change = next(f for f in action.fields if f.path == "custom_provider.token_url")
    assert (change.before, change.after) == ("https://old.example/t", "https://new.example/t")
    assert "custom_provider.name" not in [f.path for f in action.fields]  # unchanged
    shared, hint = result.warnings
    assert "shares its custom_provider definition with acme (organization)" in shared
    assert "ownership is fixed at creation" in hint


def test_a_shared_definition_update_warns_about_the_sibling() -> None:
    provider = {"name": "Acme", "token_url": "https://new.example/t"}
    user = desired(slug="acme", credentials={"type": "organization"}, custom_provider=provider)
    old = {"name": "Acme", "token_url": "https://old.example/t"}
    result = plan(
        desired_state(user),
        [remote("acme", custom_provider=old), remote("acme", "organization", custom_provider=old)],
    )
    assert [a.identity for a in result.actions] == [("acme", "user")]
    assert result.unmanaged == (("acme", "organization"),)
    (warning,) = result.warnings
    assert "this plan changes it for both (custom_provider.token_url)" in warning


def test_custom_provider_fields_including_name_may_be_left_unmanaged() -> None:
    entry = desired(
        slug="acme",
        credentials={"type": "organization"},
        custom_provider={"token_url": "https://acme.example/t2"},
    )
    current = remote(
        "acme", custom_provider={"name": "Acme", "token_url": "https://acme.example/t"}
    )
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.values == {"custom_provider": {"token_url": "https://acme.example/t2"}}
    with pytest.raises(ManifestError, match=r"custom_provider\.name is required to create"):
        plan(desired_state(entry), [])
