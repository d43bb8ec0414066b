"""Nothing lost: what the manifest leaves out is left as it is, by updates and replaces
alike; sets compare as sets; every change reads element by element."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.applier import apply_plan
from reconciler.emulator.app import create_app
from reconciler.errors import ManifestError
from reconciler.fields import INTEGRATION_FIELDS
from reconciler.models import Desired
from reconciler.plan import ActionKind
from reconciler.plandocument import FieldDoc
from reconciler.planner import plan
from reconciler.render import render_text
from tests.support import client_for, invoke, run, writes
from tests.support.factories import custom_credentials, desired, desired_state, remote

SNOWFLAKE_SEED: dict[str, Any] = {
    "provider": "snowflake",
    "ownership": "user",
    "description": "Warehouse",
    "enabled": True,
    "scopes": ["session:role:ANALYST", "refresh_token"],
    "config": {"account": "old-account"},
    "credentials": {"type": "organization"},
}


def _remote_now(app: FastAPI) -> dict[tuple[str, str], Any]:
    async def listing() -> dict[tuple[str, str], Any]:
        async with client_for(app) as client:
            return {r.identity: r for r in await client.list_integrations()}

    return run(listing())


def test_a_replace_keeps_the_fields_the_manifest_leaves_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's case: scopes unmanaged, config changed. The replace shows it keeps them,
    the new integration has them, and the next plan is empty."""
    monkeypatch.chdir(tmp_path)
    app = create_app(seed=[SNOWFLAKE_SEED])
    Path("integrations.yaml").write_text(
        "version: 1\nintegrations:\n  - slug: snowflake\n    config:\n      account: new-account\n"
    )
    shown = invoke(app, "plan")
    assert shown.exit_code == 0, shown.output
    out = shown.stdout
    assert "-/+ snowflake (user) must be replaced (config cannot change in place;" in out
    assert '~ config.account: "old-account" → "new-account"  # forces replacement' in out
    assert '    scopes: ["session:role:ANALYST", "refresh_token"]  # carried over' in out, out
    assert '    description: "Warehouse"  # carried over' in out
    assert "    enabled: true  # carried over" in out
    before = _remote_now(app)[("snowflake", "user")]
    applied = invoke(app, "apply", "--yes")
    assert applied.exit_code == 0, applied.output
    after = _remote_now(app)[("snowflake", "user")]
    assert after.id != before.id
    assert after.scopes == ["session:role:ANALYST", "refresh_token"]
    assert (after.description, after.enabled) == ("Warehouse", True)
    assert after.credentials is not None and after.credentials.type == "organization"
    again = invoke(app, "plan", "--detailed-exitcode")
    assert again.exit_code == 0, again.output


def test_a_reorder_of_a_set_is_no_change() -> None:
    entry = desired(slug="github", scopes=["read:org", "repo"], auth_methods=["api_key", "oauth"])
    current = remote("github", scopes=["repo", "read:org"], auth_methods=["oauth", "api_key"])
    assert plan(desired_state(entry), [current]).actions == ()


def test_null_scopes_are_not_an_empty_set() -> None:
    (action,) = plan(desired_state(desired(slug="github", scopes=[])), [remote("github")]).actions
    assert action.kind is ActionKind.UPDATE
    (change,) = action.fields
    assert (change.before, change.after, change.added, change.removed) == (None, [], None, None)


def test_sets_and_maps_are_diffed_element_by_element() -> None:
    entries = [
        desired(slug="github", scopes=["repo", "read:org", "workflow"]),
        desired(slug="snowflake", auth_methods=["api_key"], config={"account": "b", "role": "r"}),
    ]
    remotes = [
        remote("github", scopes=["repo", "read:org", "gist"]),
        remote("snowflake", credentials=None, auth_methods=["api_key"], config={"account": "a"}),
    ]
    result = plan(desired_state(*entries), remotes)
    update = next(a for a in result.actions if a.slug == "github")
    (scopes,) = update.fields
    assert FieldDoc.of(scopes).data() == {
        "path": "scopes",
        "before": ["repo", "read:org", "gist"],
        "after": ["repo", "read:org", "workflow"],
        "sensitive": False,
        "added": ["workflow"],
        "removed": ["gist"],
    }
    text = render_text(result)
    assert '      ~ scopes:\n          + "workflow"\n          - "gist"' in text
    assert '~ config.account: "a" → "b"  # forces replacement' in text
    assert '+ config.role: "r"  # forces replacement' in text
    replace = next(a for a in result.actions if a.slug == "snowflake")
    forcing = [f.path for f in replace.fields if f.forces_replacement]
    assert forcing == ["config.account", "config.role"]


def test_a_replace_cannot_carry_custom_credentials_it_does_not_manage() -> None:
    entry = desired(slug="snowflake", auth_methods=["oauth"], config={"account": "b"})
    current = remote(
        "snowflake", config={"account": "a"}, credentials=custom_credentials("app", "9999")
    )
    with pytest.raises(ManifestError) as caught:
        plan(desired_state(entry), [current])
    (problem,) = caught.value.problems
    assert problem.message.startswith(
        "snowflake (user) must be replaced (config cannot change in place), and its custom "
        "credentials are not in the manifest"
    )
    assert problem.message.endswith("Add credentials with a client_secret reference to replace it")


def test_a_delete_shows_what_it_destroys() -> None:
    gone = remote(
        "github",
        description="Production",
        scopes=["repo"],
        credentials=custom_credentials("Iv1.app", "4321"),
    )
    (action,) = plan(desired_state(prune=True), [gone]).actions
    shown = {f.path: f.before for f in action.fields}
    assert shown["description"] == "Production"
    assert shown["scopes"] == ["repo"]
    assert shown["credentials.client_id"] == "Iv1.app"
    assert shown["credentials.client_secret"] == "(sensitive, ends …4321)"
    text = render_text(plan(desired_state(prune=True), [gone]))
    assert '      - description: "Production"' in text


def test_an_ownership_change_gets_a_hint() -> None:
    entry = desired(slug="github", ownership="organization", credentials={"type": "organization"})
    result = plan(desired_state(entry), [remote("github")])
    assert [a.kind for a in result.actions] == [ActionKind.CREATE]
    assert result.unmanaged == (("github", "user"),)
    (hint,) = result.warnings
    assert "ownership is fixed at creation" in hint and "github (user) stays" in hint


def test_rotate_secrets_sends_a_secret_whose_last_4_are_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    app = create_app(
        seed=[
            {
                "provider": "github",
                "ownership": "user",
                "credentials": {"type": "custom", "client_id": "app", "client_secret": "old-9999"},
            }
        ]
    )
    Path("integrations.yaml").write_text(
        "version: 1\nintegrations:\n  - slug: github\n    credentials:\n      type: custom\n"
        "      client_id: app\n      client_secret: ${env:RECONCILER_GITHUB_SECRET}\n"
    )
    same_end: dict[str, Any] = {"RECONCILER_GITHUB_SECRET": "new-rotated-9999"}
    quiet = invoke(app, "plan", "--detailed-exitcode", **same_end)
    assert quiet.exit_code == 0, quiet.output  # the API can't tell them apart
    loud = invoke(app, "plan", "--rotate-secrets", "--out", "plan.json", **same_end)
    assert loud.exit_code == 0, loud.output
    assert (
        "~ credentials.client_secret: (sensitive, ends …9999) → (sensitive, ends …9999), "
        "sent again" in loud.stdout
    )
    assert json.loads(Path("plan.json").read_text())["rotate_secrets"] is True
    applied = invoke(app, "apply", "--plan", "plan.json", "--rotate-secrets", **same_end)
    assert applied.exit_code == 0, applied.output  # the saved plan has it: consistent
    assert writes(app) == 1
    plain = invoke(app, "plan", "--out", "plain.json", **same_end)
    assert plain.exit_code == 0
    mismatch = invoke(app, "apply", "--plan", "plain.json", "--rotate-secrets", **same_end)
    assert mismatch.exit_code == 1
    assert "was made without --rotate-secrets" in mismatch.stderr


# --- property: every unmanaged field keeps its value ---------------------------------------

VALUES: dict[str, Any] = {
    "description": st.one_of(st.none(), st.sampled_from(["a", "b"])),
    "enabled": st.booleans(),
    "scopes": st.one_of(
        st.none(), st.lists(st.sampled_from(["r1", "r2", "r3"]), unique=True, max_size=3)
    ),
    "auth_methods": st.sampled_from([["oauth"], ["oauth", "api_key"], ["api_key", "oauth"]]),
    "config": st.sampled_from([{}, {"account": "a"}, {"account": "b"}]),
}
assert set(VALUES) == {f.key for f in INTEGRATION_FIELDS}  # every field of the table


@st.composite
def remote_and_manifest(draw: st.DrawFn) -> tuple[dict[str, Any], dict[str, Any]]:
    seed = {"provider": "snowflake", "ownership": "user", "credentials": {"type": "organization"}}
    seed.update({name: draw(values) for name, values in VALUES.items()})
    managed = draw(st.lists(st.sampled_from(sorted(VALUES)), unique=True))
    manifest = {"slug": "snowflake", **{name: draw(VALUES[name]) for name in managed}}
    oauth = "oauth" in manifest.get("auth_methods", seed["auth_methods"])
    if oauth and draw(st.booleans()):
        manifest["credentials"] = {"type": "organization"}
    return seed, manifest


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(case=remote_and_manifest())
def test_unmanaged_fields_keep_their_values_through_updates_and_replaces(
    case: tuple[dict[str, Any], dict[str, Any]],
) -> None:
    seed, fields = case
    app = create_app(seed=[seed])
    state: Desired = desired_state(desired(**fields))

    async def scenario() -> None:
        async with client_for(app) as client:
            (before,) = await client.list_integrations()
            first = plan(state, [before])
            result = await apply_plan(first, client, secrets=state.secrets())
            assert result.ok, [r.error for r in result.failed]
            (after,) = await client.list_integrations()
            for f in INTEGRATION_FIELDS:
                if f.key not in fields:
                    assert f.equal(getattr(after, f.key), getattr(before, f.key)), f.name
                else:
                    assert f.equal(getattr(after, f.key), fields[f.key]), f.name
            assert after.credentials == before.credentials
            assert plan(state, [after]).actions == ()

    run(scenario())
