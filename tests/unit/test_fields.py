"""The field table (reconciler/fields.py): how each field compares, which fields a change
replaces, and the API's defaults; and that the planner, the model and the emulator agree."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from reconciler.emulator.app import create_app
from reconciler.fields import (
    BY_NAME,
    CUSTOM_PROVIDER_FIELDS,
    FIELDS,
    INTEGRATION_FIELDS,
    MISSING,
    Field,
    Kind,
    api_default,
    creation_only,
    field,
    in_place,
)
from reconciler.models import Integration
from reconciler.plan import ActionKind
from reconciler.planner import plan
from tests.support import AUTH, BASE_URL, custom_body, run
from tests.support.factories import desired, desired_state, remote

# --- equal(): sets, lists, maps, scalars -------------------------------------------------


def test_a_set_equals_itself_in_any_order() -> None:
    scopes = field("scopes")
    assert scopes.kind is Kind.SET
    assert scopes.equal(["repo", "read:org", "gist"], ["gist", "repo", "read:org"])


def test_sets_with_different_elements_differ() -> None:
    scopes = field("scopes")
    assert not scopes.equal(["repo"], ["repo", "gist"])
    assert not scopes.equal(["repo", "gist"], ["repo"])
    assert not scopes.equal(["repo"], ["gist"])


def test_a_repeated_element_makes_a_set_differ() -> None:
    assert not field("scopes").equal(["repo", "repo"], ["repo"])


def test_a_null_set_is_not_an_empty_set() -> None:
    scopes = field("scopes")
    assert not scopes.equal(None, [])
    assert not scopes.equal([], None)
    assert scopes.equal(None, None)


def test_a_list_field_compares_in_order() -> None:
    ordered = Field(("steps",), Kind.LIST)
    assert ordered.equal(["a", "b"], ["a", "b"])
    assert not ordered.equal(["a", "b"], ["b", "a"])


def test_maps_compare_key_by_key_whatever_the_key_order() -> None:
    config = field("config")
    assert config.kind is Kind.MAP
    assert config.equal({"account": "acme", "region": "eu"}, {"region": "eu", "account": "acme"})
    assert not config.equal({"account": "acme"}, {"account": "other"})
    assert not config.equal({"account": "acme"}, {"account": "acme", "region": "eu"})


def test_scalars_compare_by_value_and_type() -> None:
    enabled = field("enabled")
    assert enabled.equal(True, True)
    assert not enabled.equal(True, False)
    assert not field("description").equal("1", 1)
    assert not field("description").equal(None, "")


# --- elements(), get(), names ------------------------------------------------------------


def test_elements_are_the_added_then_the_removed_in_their_order() -> None:
    added, removed = field("scopes").elements(["a", "b", "c"], ["d", "b", "e"])
    assert added == ["d", "e"]
    assert removed == ["a", "c"]


def test_elements_of_a_side_that_is_not_a_list_are_none() -> None:
    assert field("scopes").elements(None, ["a"]) == ([], [])
    assert field("scopes").elements(["a"], None) == ([], [])


def test_get_follows_the_path_and_tells_missing_from_null() -> None:
    token_url = field("custom_provider.token_url")
    assert token_url.get({"custom_provider": {"token_url": "https://x/token"}}) == "https://x/token"
    assert token_url.get({"custom_provider": {"token_url": None}}) is None
    assert token_url.get({"custom_provider": {}}) is MISSING
    assert token_url.get({"custom_provider": None}) is MISSING
    assert token_url.get({}) is MISSING


def test_a_field_is_named_by_its_dotted_path_and_keyed_by_its_last_part() -> None:
    token_url = field("custom_provider.token_url")
    assert token_url.name == "custom_provider.token_url"
    assert token_url.key == "token_url"
    assert BY_NAME["credentials.client_secret"].sensitive
    assert not any(f.sensitive for f in FIELDS if f.name != "credentials.client_secret")


def test_every_field_is_in_the_table_once() -> None:
    names = [f.name for f in FIELDS]
    assert len(names) == len(set(names)) == len(BY_NAME)
    with pytest.raises(KeyError):
        field("scope")


# --- creation_only / in_place ------------------------------------------------------------


def test_creation_only_and_in_place_partition_the_top_level_fields() -> None:
    only = {f.name for f in creation_only()}
    updated = {f.name for f in in_place()}
    assert only == {"auth_methods", "config"}
    assert updated == {"description", "enabled", "scopes"}
    assert only.isdisjoint(updated)
    assert only | updated == {f.name for f in INTEGRATION_FIELDS}


IN_PLACE_CHANGES: dict[str, tuple[Any, Any]] = {
    "description": ("old", "new"),
    "enabled": (False, True),
    "scopes": (["repo"], ["repo", "gist"]),
}


def test_every_in_place_field_has_a_change_below() -> None:
    assert set(IN_PLACE_CHANGES) == {f.name for f in in_place()}


@pytest.mark.parametrize("name", sorted(IN_PLACE_CHANGES))
def test_a_change_of_an_in_place_field_is_an_update_of_that_field_alone(name: str) -> None:
    before, after = IN_PLACE_CHANGES[name]
    entry = desired(slug="slack", **{name: after})
    current = remote("slack", **{name: before})
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.UPDATE
    assert action.values == {name: after}
    assert not any(change.forces_replacement for change in action.fields)


CREATION_ONLY_CHANGES: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "auth_methods": ({"auth_methods": ["oauth"]}, {"auth_methods": ["api_key"]}),
    "config": (
        {"auth_methods": ["api_key"], "config": {"account": "a"}},
        {"auth_methods": ["api_key"], "config": {"account": "b"}},
    ),
}


def test_every_creation_only_field_has_a_change_below() -> None:
    assert set(CREATION_ONLY_CHANGES) == {f.name for f in creation_only()}


@pytest.mark.parametrize("name", sorted(CREATION_ONLY_CHANGES))
def test_a_change_of_a_creation_only_field_replaces_the_integration(name: str) -> None:
    before, after = CREATION_ONLY_CHANGES[name]
    entry = desired(slug="snowflake", **after)
    current = remote("snowflake", credentials=None, **before)
    (action,) = plan(desired_state(entry), [current]).actions
    assert action.kind is ActionKind.REPLACE
    forcing = [c.path for c in action.fields if c.forces_replacement]
    assert forcing and all(path.split(".")[0] == name for path in forcing)


def test_a_set_in_another_order_plans_nothing() -> None:
    entry = desired(slug="slack", scopes=["b", "a", "c"])
    current = remote("slack", scopes=["c", "a", "b"])
    result = plan(desired_state(entry), [current])
    assert result.actions == ()
    assert result.unchanged == (("slack", "user"),)


def test_a_map_change_is_planned_key_by_key() -> None:
    entry = desired(
        slug="snowflake",
        auth_methods=["api_key"],
        config={"account": "new", "region": "eu", "warehouse": "wh"},
    )
    current = remote(
        "snowflake",
        credentials=None,
        auth_methods=["api_key"],
        config={"account": "old", "region": "eu", "role": "admin"},
    )
    (action,) = plan(desired_state(entry), [current]).actions
    config = {c.path: (c.before, c.after) for c in action.fields if c.path.startswith("config")}
    assert config == {
        "config.account": ("old", "new"),
        "config.role": ("admin", None),
        "config.warehouse": (None, "wh"),
    }


# --- api_default -------------------------------------------------------------------------


def test_api_defaults_are_json_values() -> None:
    assert api_default(field("auth_methods")) == ["oauth"]
    assert api_default(field("config")) == {}
    assert api_default(field("enabled")) is False
    assert api_default(field("scopes")) is None
    assert api_default(field("description")) is None
    assert api_default(field("custom_provider.pkce_enabled")) is True
    assert api_default(field("custom_provider.request_scope_separator")) == " "


def test_api_defaults_are_fresh_values_each_time() -> None:
    methods = api_default(field("auth_methods"))
    methods.append("api_key")
    config = api_default(field("config"))
    config["account"] = "acme"
    assert api_default(field("auth_methods")) == ["oauth"]
    assert api_default(field("config")) == {}


@pytest.mark.parametrize("f", INTEGRATION_FIELDS, ids=lambda f: f.name)
def test_the_manifest_model_defaults_to_the_api_default(f: Field) -> None:
    model_field = Integration.model_fields[f.key]
    assert model_field.get_default(call_default_factory=True) == api_default(f)


def _created(body: dict[str, Any]) -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        app = create_app()
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=AUTH) as http:
            response = await http.post("/data-integrations", json=body)
            assert response.status_code == 201, response.text
            data: dict[str, Any] = response.json()
            return data

    return run(go())


@pytest.mark.parametrize(
    "body",
    [
        custom_body("acme"),
        {"provider": "slack", "credentials": {"type": "organization"}},
    ],
    ids=["custom", "built-in"],
)
def test_what_the_emulator_stores_for_a_field_left_out_is_its_api_default(
    body: dict[str, Any],
) -> None:
    created = _created(body)
    left_out = [
        f
        for f in FIELDS
        if not f.sensitive
        and f.get(body) is MISSING
        and (f in INTEGRATION_FIELDS or (f in CUSTOM_PROVIDER_FIELDS and "custom_provider" in body))
    ]
    assert left_out
    for f in left_out:
        assert f.get(created) == api_default(f), f.name
