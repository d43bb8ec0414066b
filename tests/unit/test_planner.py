"""Unit tests of the pure planner: every action kind and rule of docs/design.md "Planning"."""

from __future__ import annotations

import json
from typing import Any

import pytest

from reconciler.errors import ManifestError, UnsafePlanError
from reconciler.models import Settings
from reconciler.plan import ActionKind, Plan
from reconciler.plandocument import ChangeDoc, plan_document
from reconciler.planner import plan
from reconciler.safety import check_safety
from reconciler.wire import request_body
from tests.support.factories import custom_credentials, desired, desired_state, remote, secret_ref

CANARY = "canary-secret-value-Zq9X"


def test_only_desired_is_created_with_masked_secret_and_no_secret_in_body() -> None:
    entry = desired(
        secret=CANARY,
        slug="github",
        description="GitHub",
        scopes=["repo"],
        credentials=secret_ref(),
    )
    result = plan(desired_state(entry), [])
    (action,) = result.actions
    assert action.kind is ActionKind.CREATE
    assert action.identity == ("github", "user")
    assert request_body(action) == {
        "provider": "github",
        "ownership": "user",
        "description": "GitHub",
        "scopes": ["repo"],
        "credentials": {"type": "custom", "client_id": "client-id"},
    }
    secret_field = next(f for f in action.fields if f.path == "credentials.client_secret")
    assert secret_field.sensitive
    assert secret_field.after == "(sensitive, ends …Zq9X)"
    assert CANARY not in json.dumps(plan_document(result).data())
    assert CANARY not in repr(result)


def test_create_of_oauth_integration_without_credentials_is_a_manifest_error() -> None:
    entry = desired(slug="github", line=7)
    with pytest.raises(ManifestError) as caught:
        plan(desired_state(entry), [])
    (problem,) = caught.value.problems
    assert problem.line == 7
    assert "needs credentials" in problem.message


def test_non_oauth_integration_may_be_created_without_credentials() -> None:
    entry = desired(slug="snowflake", auth_methods=["api_key"], config={"account": "acme"})
    (action,) = plan(desired_state(entry), []).actions
    assert action.values["auth_methods"] == ["api_key"]
    assert action.values["config"] == {"account": "acme"}


def test_update_sends_only_differing_managed_fields() -> None:
    entry = desired(slug="slack", description="new", enabled=True)
    current = remote("slack", description="old", enabled=True, scopes=["x"])
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.UPDATE
    assert action.values == {"description": "new"}
    assert [(f.path, f.before, f.after) for f in action.fields] == [("description", "old", "new")]


def test_omitted_fields_are_unmanaged() -> None:
    entry = desired(slug="slack")
    current = remote("slack", description="anything", enabled=True, scopes=["a", "b"])
    result = plan(desired_state(entry), [current])
    assert result.actions == ()
    assert result.unchanged == (("slack", "user"),)


def test_explicit_null_resets_description_and_scopes() -> None:
    entry = desired(slug="slack", description=None, scopes=None)
    current = remote("slack", description="old", scopes=["a"])
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.values == {"description": None, "scopes": None}


def test_secret_with_same_last4_is_unchanged() -> None:
    entry = desired(secret="abcd1234", slug="github", credentials=secret_ref())
    current = remote("github", credentials=custom_credentials("client-id", "1234"))
    assert plan(desired_state(entry), [current]).actions == ()


def test_secret_with_other_last4_rotates_credentials_whole() -> None:
    entry = desired(secret="abcd4321", slug="github", credentials=secret_ref())
    current = remote("github", credentials=custom_credentials("client-id", "6789"))
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.values == {"credentials": {"type": "custom", "client_id": "client-id"}}
    (field,) = action.fields
    assert field.path == "credentials.client_secret"
    assert (field.before, field.after) == ("(sensitive, ends …6789)", "(sensitive, ends …4321)")


def test_client_id_change_sends_credentials_whole() -> None:
    entry = desired(secret="abcd1234", slug="github", credentials=secret_ref())
    current = remote("github", credentials=custom_credentials("other-id", "1234"))
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.values == {"credentials": {"type": "custom", "client_id": "client-id"}}
    assert [(f.path, f.after) for f in action.fields] == [
        ("credentials.client_id", "client-id"),
        ("credentials.client_secret", "(sensitive, ends …1234), sent again"),
    ]


def test_credentials_type_change_is_an_update() -> None:
    entry = desired(slug="github", credentials={"type": "organization"})
    current = remote("github", credentials=custom_credentials("id", "1234"))
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.values == {"credentials": {"type": "organization"}}
    paths = [f.path for f in action.fields]
    assert paths == ["credentials.type", "credentials.client_id", "credentials.client_secret"]


@pytest.mark.parametrize(
    ("fields", "remote_fields", "path"),
    [
        ({"auth_methods": ["api_key"]}, {"auth_methods": ["oauth"]}, "auth_methods"),
        (
            {"config": {"account": "b"}, "auth_methods": ["api_key"]},
            {"config": {"account": "a"}, "auth_methods": ["api_key"]},
            "config.account",
        ),
    ],
)
def test_creation_only_field_change_is_a_replace(
    fields: dict[str, Any], remote_fields: dict[str, Any], path: str
) -> None:
    entry = desired(slug="snowflake", description="d", **fields)
    current = remote("snowflake", credentials=None, **remote_fields)
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    assert action.destructive
    assert action.reason == f"{path.split('.')[0]} cannot change in place"
    forcing = [f for f in action.fields if f.forces_replacement]
    assert [f.path for f in forcing] == [path]
    assert request_body(action)["provider"] == "snowflake"
    assert action.values["description"] == "d"


def test_auth_methods_in_another_order_is_not_a_replace() -> None:
    entry = desired(slug="x", auth_methods=["api_key", "oauth"])
    current = remote("x", auth_methods=["oauth", "api_key"])
    assert plan(desired_state(entry), [current]).actions == ()


def test_credentials_on_a_remote_without_oauth_are_refused_before_any_request() -> None:
    entry = desired(slug="snowflake", credentials={"type": "organization"}, description="d")
    current = remote("snowflake", auth_methods=["api_key"])
    with pytest.raises(ManifestError) as refused:
        plan(desired_state(entry), [current])
    (problem,) = refused.value.problems
    assert str(problem) == (
        "integrations.yaml:1:5: snowflake (user) has auth_methods [api_key] (as the API lists "
        "it) and credentials are for oauth integrations: the API refuses them. Remove "
        "credentials from this entry, or add oauth to its auth_methods (which replaces the "
        "integration)"
    )
    fine = desired(slug="snowflake", credentials={"type": "organization"})
    plan(desired_state(fine), [remote("snowflake")])  # an oauth remote: no refusal


def test_only_remote_is_unmanaged_unless_prune() -> None:
    current = remote("notion")
    result = plan(desired_state(), [current])
    assert result.actions == ()
    assert result.unmanaged == (("notion", "user"),)
    pruned = plan(desired_state(prune=True), [current])
    (action,) = pruned.actions
    assert action.kind is ActionKind.DELETE
    assert pruned.unmanaged == ()


def test_ignore_hides_remote_and_skips_desired_with_warning() -> None:
    entry = desired(slug="legacy-one", description="x")
    result = plan(
        desired_state(entry, prune=True, ignore=["legacy-*"]),
        [remote("legacy-one", description="y"), remote("legacy-two")],
    )
    assert result.actions == ()
    assert result.unmanaged == ()
    assert len(result.warnings) == 1
    assert "legacy-one (user) matches settings.ignore" in result.warnings[0]


def test_ownerships_are_different_objects() -> None:
    entry = desired(slug="github", description="user one")
    current_user = remote("github", description="old")
    current_org = remote("github", "organization", description="old")
    result = plan(desired_state(entry, prune=True), [current_user, current_org])
    kinds = {(a.identity, a.kind) for a in result.actions}
    assert kinds == {
        (("github", "user"), ActionKind.UPDATE),
        (("github", "organization"), ActionKind.DELETE),
    }
    update = next(a for a in result.actions if a.kind is ActionKind.UPDATE)
    assert update.remote is current_user


def test_order_is_destructive_first_then_slug_then_ownership() -> None:
    entries = [
        desired(slug="zeta", credentials={"type": "organization"}),
        desired(slug="alpha", ownership="organization", credentials={"type": "organization"}),
        desired(slug="alpha", credentials={"type": "organization"}),
        desired(slug="mid", description="new"),
    ]
    remotes = [remote("mid", description="old"), remote("aaa-gone")]
    result = plan(desired_state(*entries, prune=True), remotes)
    assert [(a.kind.value, a.slug, a.ownership) for a in result.actions] == [
        ("delete", "aaa-gone", "user"),
        ("create", "alpha", "user"),
        ("create", "alpha", "organization"),
        ("create", "zeta", "user"),
        ("update", "mid", "user"),
    ]
    shuffled = plan(desired_state(*reversed(entries), prune=True), list(reversed(remotes)))
    assert plan_document(shuffled).data() == plan_document(result).data()


def test_json_form_has_the_fixed_keys() -> None:
    entry = desired(slug="slack", description="new")
    data = plan_document(plan(desired_state(entry), [remote("slack"), remote("notion")])).data()
    assert set(data) >= {"format_version", "summary", "changes", "unmanaged", "warnings"}
    assert data["summary"] == {
        "create": 0,
        "update": 1,
        "delete": 0,
        "replace": 0,
        "unchanged": 0,
        "adopted": 0,
        "unmanaged": 1,
    }
    (change,) = data["changes"]
    assert change["fields"] == [
        {"path": "description", "before": None, "after": "new", "sensitive": False}
    ]
    assert data["unmanaged"] == [{"slug": "notion", "ownership": "user"}]


def test_protected_integration_is_never_replaced_even_with_force() -> None:
    entry = desired(slug="snowflake", auth_methods=["api_key"], protect=True)
    current = remote("snowflake", credentials=None)
    state = desired_state(entry)
    result = plan(state, [current])
    with pytest.raises(UnsafePlanError, match=r"protected integrations: snowflake \(user\)"):
        check_safety(result, state.settings, force=True)


def _prune_plan(existing: int, kept: int) -> tuple[Plan, Settings]:
    entries = [desired(slug=f"app-{i:02d}") for i in range(kept)]
    remotes = [remote(f"app-{i:02d}") for i in range(existing)]
    state = desired_state(*entries, prune=True)
    return plan(state, remotes), state.settings


@pytest.mark.parametrize(
    ("existing", "deleted", "unsafe"),
    [(10, 3, False), (10, 4, True), (20, 6, False), (20, 7, True), (9, 9, False)],
)
def test_delete_threshold(existing: int, deleted: int, unsafe: bool) -> None:
    result, settings = _prune_plan(existing, existing - deleted)
    assert result.count(ActionKind.DELETE) == deleted
    if unsafe:
        with pytest.raises(UnsafePlanError, match=f"{deleted} of {existing}"):
            check_safety(result, settings)
        check_safety(result, settings, force=True)
    else:
        check_safety(result, settings)


def test_a_secret_shows_its_last_4_only_whatever_its_length() -> None:
    """Two secrets sharing their last 4 plan the same, whatever their lengths (a secret
    under 8 characters is refused when it is read)."""
    shown = []
    for secret in ("canary-ab12", "a-much-longer-canary-secret-value-" + "x" * 200 + "ab12"):
        entry = desired(secret=secret, slug="github", credentials=secret_ref())
        (action,) = plan(desired_state(entry), []).actions
        field = next(f for f in action.fields if f.path == "credentials.client_secret")
        assert field.after == "(sensitive, ends …ab12)"
        assert "canary" not in json.dumps(ChangeDoc.of(action).data())
        current = remote("github", credentials=custom_credentials("client-id", "zz99"))
        (update,) = plan(desired_state(entry), [current]).actions
        assert [(f.before, f.after) for f in update.fields] == [
            ("(sensitive, ends …zz99)", "(sensitive, ends …ab12)")
        ]
        shown.append((ChangeDoc.of(action).data(), ChangeDoc.of(update).data()))
    assert shown[0] == shown[1]
