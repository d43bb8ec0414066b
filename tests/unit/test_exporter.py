"""Tests of the exporter: a faithful snapshot (defaults included), round trip and drift
through the emulator, settings.ignore, policy warnings, the $schema path, variable names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator.app import create_app, store_of
from reconciler.exporter import (
    SCHEMA_FILE,
    Export,
    SecretVariable,
    export_manifest,
    schema_reference,
    secret_note,
    secret_variable_name,
)
from reconciler.fields import (
    BY_NAME,
    CUSTOM_PROVIDER_FIELDS,
    FIELDS,
    INTEGRATION_FIELDS,
    api_default,
)
from reconciler.manifest import load
from reconciler.models import RemoteIntegration
from reconciler.planner import plan
from reconciler.policy import DEFAULT_POLICY, Policy
from tests.support import AUTH, BASE_URL, client_for, run
from tests.support.factories import custom_credentials, remote

SECRETS = {
    ("github", "user"): "github-secret-value-b7c4",
    ("acme-crm", "user"): "acme-secret-value-9a1f",
    ("acme_crm", "user"): "other-acme-secret-0042",
    ("notion", "user"): "notion-secret-5150",
}

SEED: list[dict[str, Any]] = [
    {
        "provider": "github",
        "ownership": "user",
        "description": "GitHub (set up by hand)",
        "enabled": True,
        "scopes": ["repo", "read:org"],
        "credentials": {
            "type": "custom",
            "client_id": "Iv1.8a61f9b3a7aba766",
            "client_secret": SECRETS["github", "user"],
        },
    },
    {
        "provider": "github",
        "ownership": "organization",
        "description": "GitHub for organizations",
        "credentials": {"type": "organization"},
    },
    {
        "provider": "acme-crm",
        "ownership": "organization",
        "enabled": True,
        "custom_provider": {
            "name": "Acme CRM",
            "authorization_url": "https://crm.acme.example/oauth/authorize",
            "token_url": "https://crm.acme.example/oauth/token",
            "refresh_token_url": "https://crm.acme.example/oauth/refresh",
            "pkce_enabled": False,
            "request_scope_separator": ",",
            "scopes_required": True,
            "client_secret_required": False,
            "additional_authorization_parameters": {"prompt": "consent"},
            "token_body_content_type": "application/json",
            "authenticate_via": "basic_auth_header",
        },
        "credentials": {"type": "organization"},
    },
    {
        "provider": "acme-crm",
        "ownership": "user",
        "scopes": [],
        "credentials": {
            "type": "custom",
            "client_id": "acme-client",
            "client_secret": SECRETS["acme-crm", "user"],
        },
    },
    {
        "provider": "acme_crm",
        "ownership": "user",
        "custom_provider": {
            "name": "Another Acme",
            "authorization_url": "https://acme.example/authorize",  # required for OAuth
            "token_url": "https://acme.example/token",
        },
        "credentials": {
            "type": "custom",
            "client_id": "acme-underscore",
            "client_secret": SECRETS["acme_crm", "user"],
        },
    },
    {
        "provider": "snowflake",
        "ownership": "user",
        "description": "Warehouse",
        "auth_methods": ["api_key"],
        "config": {"account": "xy12345"},
    },
    {
        "provider": "notion",
        "ownership": "user",
        "description": "",
        "credentials": {
            "type": "custom",
            "client_id": "notion-app",
            "client_secret": SECRETS["notion", "user"],
        },
    },
]


def _remote_state(seed: list[dict[str, Any]]) -> list[RemoteIntegration]:
    app = create_app(seed=seed)
    try:

        async def fetch() -> list[RemoteIntegration]:
            async with client_for(app) as client:
                return await client.list_integrations()

        return run(fetch())
    finally:
        store_of(app).close()


@pytest.fixture(scope="module")
def remote_state() -> list[RemoteIntegration]:
    return _remote_state(SEED)


def _secret_environ(export: Export) -> dict[str, str]:
    """Each variable set to the secret it stands for (the one the emulator was seeded with)."""
    return {
        variable.name: SECRETS[variable.slug, variable.ownership] for variable in export.secrets
    }


def _entries(export: Export) -> list[dict[str, Any]]:
    data = yaml.safe_load(export.text)
    assert isinstance(data, dict) and data["version"] == 1
    entries: list[dict[str, Any]] = data["integrations"]
    return entries


def _entry(export: Export, slug: str, ownership: str = "user") -> dict[str, Any]:
    (found,) = [
        entry
        for entry in _entries(export)
        if entry["slug"] == slug and entry.get("ownership", "user") == ownership
    ]
    return found


def test_round_trip_plans_clean(remote_state: list[RemoteIntegration], tmp_path: Path) -> None:
    export = export_manifest(remote_state)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    desired = load([manifest], environ=_secret_environ(export))
    assert len(desired.integrations) == len(SEED)
    result = plan(desired, remote_state)
    assert result.actions == ()
    assert result.unmanaged == ()
    assert len(result.unchanged) == len(SEED)


def test_a_wrong_secret_shows_as_a_change(
    remote_state: list[RemoteIntegration], tmp_path: Path
) -> None:
    """The round trip is clean because of the secrets, not in spite of them."""
    export = export_manifest(remote_state)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    environ = {
        **_secret_environ(export),
        "RECONCILER_GITHUB_CLIENT_SECRET": "a-different-secret-0000",
    }
    result = plan(load([manifest], environ=environ), remote_state)
    assert [(a.slug, a.ownership) for a in result.actions] == [("github", "user")]


def test_export_is_deterministic_whatever_the_remote_order(
    remote_state: list[RemoteIntegration],
) -> None:
    assert export_manifest(remote_state) == export_manifest(list(reversed(remote_state)))


def test_order_is_slug_then_user_before_organization(
    remote_state: list[RemoteIntegration],
) -> None:
    identities = [
        (entry["slug"], entry.get("ownership", "user"))
        for entry in _entries(export_manifest(remote_state))
    ]
    assert identities == [
        ("acme-crm", "user"),
        ("acme-crm", "organization"),
        ("acme_crm", "user"),
        ("github", "user"),
        ("github", "organization"),
        ("notion", "user"),
        ("snowflake", "user"),
    ]


def test_header_and_key_order(remote_state: list[RemoteIntegration]) -> None:
    export = export_manifest(remote_state)
    first = export.text.splitlines()[0]
    assert "yaml-language-server" not in export.text  # no schema named: no comment
    assert "Exported by `reconciler export`" in first
    assert "version: 1\nintegrations:\n" in export.text
    assert list(_entry(export, "github")) == [
        "slug",
        "description",
        "enabled",
        "scopes",
        "auth_methods",
        "config",
        "credentials",
    ]
    assert list(_entry(export, "acme-crm")) == [
        "slug",
        "description",
        "enabled",
        "scopes",
        "auth_methods",
        "config",
        "credentials",
        "custom_provider",
    ]
    assert list(_entry(export, "acme-crm")["custom_provider"]) == [
        f.key for f in CUSTOM_PROVIDER_FIELDS
    ]
    custom = export_manifest(remote_state, schema="../schemas/manifest.schema.json")
    assert custom.text.startswith(
        "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
    )


def test_every_field_is_written_defaults_included(remote_state: list[RemoteIntegration]) -> None:
    """A field left out of a manifest is unmanaged: a default left out would hide drift."""
    export = export_manifest(remote_state)
    assert _entry(export, "github", "organization") == {
        "slug": "github",
        "ownership": "organization",
        "description": "GitHub for organizations",
        "enabled": False,
        "scopes": None,
        "auth_methods": ["oauth"],
        "config": {},
        "credentials": {"type": "organization"},
    }
    assert _entry(export, "snowflake") == {
        "slug": "snowflake",
        "description": "Warehouse",
        "enabled": False,
        "scopes": None,
        "auth_methods": ["api_key"],
        "config": {"account": "xy12345"},
    }
    assert "    enabled: false\n" in export.text
    assert "    scopes: null\n" in export.text
    assert "    description: null\n" in export.text
    # An empty description and empty scopes are values, not defaults.
    assert _entry(export, "notion")["description"] == ""
    assert _entry(export, "acme-crm")["scopes"] == []


def test_an_integration_at_every_default_is_written_whole() -> None:
    """Each row of the field table a manifest can hold is written at its API default."""
    item = remote("tracker", custom_provider={"name": "Tracker"})
    (entry,) = yaml.safe_load(export_manifest([item]).text)["integrations"]
    for f in FIELDS:
        if f.path[0] == "credentials" or f.name == "custom_provider.name":
            continue
        assert f.get(entry) == api_default(f), f.name
    assert entry["custom_provider"]["name"] == "Tracker"
    assert entry["credentials"] == {"type": "organization"}


def test_every_written_field_is_managed_once_loaded(
    remote_state: list[RemoteIntegration], tmp_path: Path
) -> None:
    """``description: null`` and ``scopes: null`` load as managed ("reset"), not as omitted."""
    export = export_manifest(remote_state)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    desired = load([manifest], environ=_secret_environ(export))
    for item in desired.integrations:
        for f in INTEGRATION_FIELDS:
            assert item.managed(f.key), (item.identity, f.name)
        provider = item.spec.custom_provider
        if provider is not None:
            assert provider.model_fields_set == {f.key for f in CUSTOM_PROVIDER_FIELDS}


def test_custom_provider_written_whole_on_both_entries(
    remote_state: list[RemoteIntegration],
) -> None:
    export = export_manifest(remote_state)
    user, organization = _entry(export, "acme-crm"), _entry(export, "acme-crm", "organization")
    assert user["custom_provider"] == organization["custom_provider"] == SEED[2]["custom_provider"]
    assert _entry(export, "acme_crm")["custom_provider"] == {
        **{f.key: api_default(f) for f in CUSTOM_PROVIDER_FIELDS},
        **SEED[4]["custom_provider"],
    }
    assert "&id" not in export.text and "*id" not in export.text


def test_a_null_the_manifest_cannot_hold_is_left_out_with_a_warning() -> None:
    item = remote("tracker", custom_provider={"name": "Tracker"})
    nameless = item.model_copy(
        update={"custom_provider": {**(item.custom_provider or {}), "name": None}}
    )
    export = export_manifest([nameless])
    (entry,) = yaml.safe_load(export.text)["integrations"]
    assert "name" not in entry["custom_provider"]
    assert entry["custom_provider"]["refresh_token_url"] is None  # a null it may hold
    (warning,) = export.warnings
    assert "tracker (user): custom_provider.name is null remotely" in warning


def test_credentials_refer_to_variables_and_never_hold_a_secret(
    remote_state: list[RemoteIntegration],
) -> None:
    export = export_manifest(remote_state)
    assert _entry(export, "github")["credentials"] == {
        "type": "custom",
        "client_id": "Iv1.8a61f9b3a7aba766",
        "client_secret": "${env:RECONCILER_GITHUB_CLIENT_SECRET}",
    }
    assert export.secret_variables == (
        "RECONCILER_ACME_CRM_CLIENT_SECRET",
        "RECONCILER_ACME_CRM_2_CLIENT_SECRET",
        "RECONCILER_GITHUB_CLIENT_SECRET",
        "RECONCILER_NOTION_CLIENT_SECRET",
    )
    assert _entry(export, "acme_crm")["credentials"]["client_secret"] == (
        "${env:RECONCILER_ACME_CRM_2_CLIENT_SECRET}"
    )
    note = secret_note(export)
    for secret in SECRETS.values():
        assert secret not in export.text
        assert secret not in note


@pytest.mark.parametrize(
    ("slug", "ownership", "name"),
    [
        ("github", "user", "RECONCILER_GITHUB_CLIENT_SECRET"),
        ("github", "organization", "RECONCILER_GITHUB_ORGANIZATION_CLIENT_SECRET"),
        ("acme-crm", "user", "RECONCILER_ACME_CRM_CLIENT_SECRET"),
        ("acme--crm_", "user", "RECONCILER_ACME_CRM_CLIENT_SECRET"),
        ("1password", "user", "RECONCILER_1PASSWORD_CLIENT_SECRET"),
    ],
)
def test_variable_name_derivation(slug: str, ownership: Any, name: str) -> None:
    assert secret_variable_name(slug, ownership) == name


def test_variable_names_are_unique() -> None:
    colliding = [
        remote(slug, ownership, credentials=custom_credentials(f"{slug}-app", "1234"))
        for slug, ownership in (
            ("github", "organization"),
            ("github-organization", "user"),
            ("acme-crm", "user"),
            ("acme_crm", "user"),
            ("acme--crm", "user"),
        )
    ]
    names = export_manifest(colliding).secret_variables
    assert names == (
        "RECONCILER_ACME_CRM_CLIENT_SECRET",
        "RECONCILER_ACME_CRM_2_CLIENT_SECRET",
        "RECONCILER_ACME_CRM_3_CLIENT_SECRET",
        "RECONCILER_GITHUB_ORGANIZATION_CLIENT_SECRET",
        "RECONCILER_GITHUB_ORGANIZATION_2_CLIENT_SECRET",
    )


def test_output_validates(remote_state: list[RemoteIntegration], tmp_path: Path) -> None:
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export_manifest(remote_state).text, encoding="utf-8")
    desired = load([manifest], environ={}, resolve_secrets=False)
    assert len(desired.integrations) == len(SEED)


def test_an_empty_environment_exports_a_valid_empty_manifest(tmp_path: Path) -> None:
    export = export_manifest([])
    assert export.secrets == () and secret_note(export) == ""
    manifest = tmp_path / "empty.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    assert load([manifest], environ={}).integrations == ()


def test_secret_note_names_each_variable_its_integration_and_last_4(
    remote_state: list[RemoteIntegration],
) -> None:
    note = secret_note(export_manifest(remote_state))
    lines = note.splitlines()
    assert note.endswith("\n")
    assert any(
        "RECONCILER_GITHUB_CLIENT_SECRET" in line and "github (user)" in line and "…b7c4" in line
        for line in lines
    )
    assert any(
        "RECONCILER_ACME_CRM_2_CLIENT_SECRET" in line
        and "acme_crm (user)" in line
        and "…0042" in line
        for line in lines
    )
    unknown = Export(
        "version: 1\n", (SecretVariable("RECONCILER_X_CLIENT_SECRET", "x", "user", None),)
    )
    assert "last 4 unknown" in secret_note(unknown)


def test_values_that_read_as_references_are_written_literally() -> None:
    item = remote("github", description="${env:HOME} and $${x}", scopes=["${var:S}"])
    export = export_manifest([item])
    assert export.warnings == ()
    assert "description: $${env:HOME} and $$${x}" in export.text
    assert "- $${var:S}" in export.text


def test_strings_stay_strings_under_yaml_1_2(tmp_path: Path) -> None:
    """``0o17`` and ``1e3`` are numbers in YAML 1.2 though PyYAML writes them plain."""
    item = remote(
        "slack",
        description="two\nlines\n  - slug: injected",
        scopes=["no", "0o17", "1e3", "~"],
        credentials=custom_credentials("12e45", "0001"),
    )
    export = export_manifest([item])
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    (entry,) = load(
        [manifest], environ={"RECONCILER_SLACK_CLIENT_SECRET": "x-secret-0001"}
    ).integrations
    assert entry.spec.description == "two\nlines\n  - slug: injected"
    assert entry.spec.scopes == ["no", "0o17", "1e3", "~"]
    assert entry.spec.credentials is not None and entry.spec.credentials.client_id == "12e45"
    assert (
        plan(
            load([manifest], environ={"RECONCILER_SLACK_CLIENT_SECRET": "x-secret-0001"}), [item]
        ).actions
        == ()
    )


# --- drift: a change made by hand to any exported field shows in plan ------------------

DRIFT_SECRET = "drift-secret-value-3141"
DRIFT_BASE: dict[str, Any] = {
    "provider": "tracker",
    "ownership": "user",
    "custom_provider": {
        "name": "Tracker",
        "authorization_url": "https://tracker.example/oauth/authorize",
        "token_url": "https://tracker.example/oauth/token",
    },
    "credentials": {"type": "custom", "client_id": "tracker-app", "client_secret": DRIFT_SECRET},
}
_SAME_CREDENTIALS = {"type": "custom", "client_id": "tracker-app", "client_secret": DRIFT_SECRET}
# Per field: what a manager changes by hand (a PUT body; for a creation-only field, the
# create body of the integration made again), and the fields the plan then shows changed
# (credentials go whole: a new client_id, or the create of a replace, sends the secret again).
DRIFT: dict[str, tuple[dict[str, Any], set[str]]] = {
    "description": ({"description": "changed by hand"}, set()),
    "enabled": ({"enabled": True}, set()),
    "scopes": ({"scopes": ["read", "write"]}, set()),
    "auth_methods": ({"auth_methods": ["oauth", "api_key"]}, {"credentials.client_secret"}),
    "credentials.type": (
        {"credentials": {"type": "organization"}},
        {"credentials.client_id", "credentials.client_secret"},
    ),
    "credentials.client_id": (
        {"credentials": {**_SAME_CREDENTIALS, "client_id": "another-app"}},
        {"credentials.client_secret"},
    ),
    "credentials.client_secret": (
        {"credentials": {**_SAME_CREDENTIALS, "client_secret": "rotated-by-hand-2718"}},
        set(),
    ),
    "custom_provider.name": ({"custom_provider": {"name": "Renamed"}}, set()),
    "custom_provider.authorization_url": (
        {"custom_provider": {"authorization_url": "https://other.example/authorize"}},
        set(),
    ),
    "custom_provider.token_url": (
        {"custom_provider": {"token_url": "https://other.example/token"}},
        set(),
    ),
    "custom_provider.refresh_token_url": (
        {"custom_provider": {"refresh_token_url": "https://other.example/refresh"}},
        set(),
    ),
    "custom_provider.pkce_enabled": ({"custom_provider": {"pkce_enabled": False}}, set()),
    "custom_provider.request_scope_separator": (
        {"custom_provider": {"request_scope_separator": ","}},
        set(),
    ),
    "custom_provider.scopes_required": ({"custom_provider": {"scopes_required": True}}, set()),
    "custom_provider.client_secret_required": (
        {"custom_provider": {"client_secret_required": False}},
        set(),
    ),
    "custom_provider.additional_authorization_parameters": (
        {"custom_provider": {"additional_authorization_parameters": {"prompt": "consent"}}},
        set(),
    ),
    "custom_provider.token_body_content_type": (
        {"custom_provider": {"token_body_content_type": "application/json"}},
        set(),
    ),
    "custom_provider.authenticate_via": (
        {"custom_provider": {"authenticate_via": "basic_auth_header"}},
        set(),
    ),
}


def test_every_field_of_the_table_has_a_drift_case() -> None:
    """A row added to the field table needs a case below: the exporter writes it too."""
    # config: a custom provider takes no config key (the API refuses any), so the tracker
    # cannot drift there; a config change is a replace (tests/unit/test_planner.py).
    assert set(DRIFT) == {f.name for f in FIELDS} - {"config"}


def _field_of(path: str) -> str:
    """The table's field a plan path belongs to (``config.account`` is ``config``)."""
    (found,) = [f.name for f in FIELDS if path == f.name or path.startswith(f.name + ".")]
    return found


async def _change_by_hand(app: FastAPI, name: str, change: dict[str, Any]) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
    ) as http:
        if BY_NAME[name].creation_only:  # made again with the field changed
            deleted = await http.delete("/data-integrations/tracker")
            assert deleted.status_code == 204, deleted.text
            created = await http.post("/data-integrations", json={**DRIFT_BASE, **change})
            assert created.status_code == 201, created.text
        else:
            updated = await http.put("/data-integrations/tracker", json=change)
            assert updated.status_code == 200, updated.text


@pytest.mark.parametrize("name", sorted(DRIFT))
def test_a_change_by_hand_to_any_field_shows_in_plan(name: str, tmp_path: Path) -> None:
    """Export, change one field through the API (as in the dashboard), plan on the export:
    exactly that field shows, defaults included (``enabled: false``, ``scopes: null``,
    ``pkce_enabled: true``...), which an export that leaves defaults out would hide."""
    change, consequences = DRIFT[name]
    app = create_app(seed=[DRIFT_BASE])
    try:

        async def scenario() -> tuple[list[RemoteIntegration], list[RemoteIntegration]]:
            async with client_for(app) as client:
                before = await client.list_integrations()
                await _change_by_hand(app, name, change)
                return before, await client.list_integrations()

        before, after = run(scenario())
    finally:
        store_of(app).close()
    export = export_manifest(before)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    desired = load([manifest], environ={"RECONCILER_TRACKER_CLIENT_SECRET": DRIFT_SECRET})
    assert plan(desired, before).actions == ()
    (action,) = plan(desired, after).actions
    assert action.identity == ("tracker", "user")
    changed = {_field_of(c.path) for c in action.fields if c.changed}
    assert changed == {name} | consequences


# --- round trip, property: any remote state exports to a manifest that plans clean ------

PROPERTY_CUSTOM = ("crm-a", "crm_b")
PROPERTY_IDENTITIES = [
    (slug, ownership)
    for slug in ("github", "snowflake", *PROPERTY_CUSTOM)
    for ownership in ("user", "organization")
]
_texts = st.sampled_from(["", "Prod | <app>", "0o17", "yes", "two\nlines"])
_urls = st.sampled_from(["https://a.example/x", "https://b.example/y"])
_provider_values: dict[str, st.SearchStrategy[Any]] = {
    "name": st.sampled_from(["CRM", "Other CRM"]),
    "authorization_url": _urls,  # required for OAuth: never null
    "token_url": _urls,
    "refresh_token_url": st.one_of(st.none(), _urls),
    "pkce_enabled": st.booleans(),
    "request_scope_separator": st.sampled_from([" ", ",", "+"]),
    "scopes_required": st.booleans(),
    "client_secret_required": st.booleans(),
    "additional_authorization_parameters": st.dictionaries(
        st.sampled_from(["prompt", "access_type"]), st.sampled_from(["consent", "offline"])
    ),
    "token_body_content_type": st.sampled_from(
        ["application/x-www-form-urlencoded", "application/json"]
    ),
    "authenticate_via": st.sampled_from(["request_body", "basic_auth_header"]),
}


_REQUIRED_PROVIDER_KEYS = ("name", "authorization_url", "token_url")


@st.composite
def remote_bodies(draw: st.DrawFn) -> list[dict[str, Any]]:
    """Create bodies of a random remote state: any field given or left at its default."""
    assert set(_provider_values) == {f.key for f in CUSTOM_PROVIDER_FIELDS}
    definitions = {
        slug: draw(
            st.fixed_dictionaries(
                {k: _provider_values[k] for k in _REQUIRED_PROVIDER_KEYS},
                optional={
                    k: v for k, v in _provider_values.items() if k not in _REQUIRED_PROVIDER_KEYS
                },
            )
        )
        for slug in PROPERTY_CUSTOM
    }
    bodies = []
    for index, (slug, ownership) in enumerate(
        draw(st.lists(st.sampled_from(PROPERTY_IDENTITIES), unique=True, max_size=5))
    ):
        methods = draw(st.sampled_from([["oauth"], ["oauth", "api_key"], ["api_key"]]))
        optional: dict[str, st.SearchStrategy[Any]] = {
            "description": st.one_of(st.none(), _texts),
            "enabled": st.booleans(),
            "scopes": st.one_of(
                st.none(), st.lists(st.sampled_from(["write", "read", "a b"]), unique=True)
            ),
        }
        if slug == "snowflake":  # the one provider that declares a config key
            optional["config"] = st.dictionaries(st.just("account"), _texts)
        body: dict[str, Any] = {
            "provider": slug,
            "ownership": ownership,
            "auth_methods": methods,
            **draw(st.fixed_dictionaries({}, optional=optional)),
        }
        if "oauth" in methods:
            body["credentials"] = draw(
                st.sampled_from(
                    [
                        {"type": "organization"},
                        {
                            "type": "custom",
                            "client_id": f"app-{index}",
                            "client_secret": f"secret-{index}-value-{index:04d}",
                        },
                    ]
                )
            )
        if slug in PROPERTY_CUSTOM:
            body["custom_provider"] = definitions[slug]
        bodies.append(body)
    return bodies


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(bodies=remote_bodies())
def test_any_remote_state_exports_to_a_manifest_that_plans_clean(
    bodies: list[dict[str, Any]], tmp_path: Path
) -> None:
    state = _remote_state(bodies)
    export = export_manifest(state)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    secrets = {
        (body["provider"], body["ownership"]): body["credentials"]["client_secret"]
        for body in bodies
        if body.get("credentials", {}).get("type") == "custom"
    }
    environ = {v.name: secrets[v.slug, v.ownership] for v in export.secrets}
    desired = load([manifest], environ=environ)
    result = plan(desired, state)
    assert result.actions == ()
    assert result.unmanaged == ()
    for item in desired.integrations:  # every field managed: none left to hide drift
        assert all(item.managed(f.key) for f in INTEGRATION_FIELDS), item.identity


# --- settings.ignore, policy warnings, the $schema path ---------------------------------


def test_ignored_slugs_are_left_out(remote_state: list[RemoteIntegration]) -> None:
    export = export_manifest(remote_state, ignore=["acme*", "GitHub"])  # case-sensitive
    slugs = {entry["slug"] for entry in _entries(export)}
    assert slugs == {"github", "notion", "snowflake"}
    assert export.ignored == (
        ("acme-crm", "user"),
        ("acme-crm", "organization"),
        ("acme_crm", "user"),
    )
    assert export.count == 4
    assert "# 3 integrations left out: settings.ignore matches their slugs." in export.text
    # Their secrets are not asked for either.
    assert export.secret_variables == (
        "RECONCILER_GITHUB_CLIENT_SECRET",
        "RECONCILER_NOTION_CLIENT_SECRET",
    )
    assert export_manifest(remote_state).ignored == ()


def test_variables_the_policy_refuses_are_warned_about(
    remote_state: list[RemoteIntegration],
) -> None:
    strict = Policy(path="ci/policy.yaml", env_globs=("RECONCILER_GITHUB_*",))
    warnings = export_manifest(remote_state, policy=strict).warnings
    refused = [w for w in warnings if "is not allowed by policy ci/policy.yaml" in w]
    assert len(refused) == 3
    assert any(
        w.startswith("acme_crm (user): ${env:RECONCILER_ACME_CRM_2_CLIENT_SECRET} is not allowed")
        for w in refused
    )
    assert not any("RECONCILER_GITHUB_CLIENT_SECRET" in w for w in warnings)
    assert export_manifest(remote_state, policy=DEFAULT_POLICY).warnings == ()


def test_schema_reference_resolves_from_the_output_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert SCHEMA_FILE.is_file()  # a source checkout
    out = tmp_path / "deep" / "er" / "integrations.yaml"
    out.parent.mkdir(parents=True)
    reference = schema_reference(out)
    assert reference is not None and "\\" not in reference
    assert (out.parent / reference).resolve() == SCHEMA_FILE.resolve()
    monkeypatch.chdir(tmp_path)
    relative = schema_reference("integrations.yaml")
    assert relative is not None and (tmp_path / relative).resolve() == SCHEMA_FILE.resolve()
    standard_output = schema_reference(None)  # relative to the current directory
    assert standard_output is not None and Path(standard_output).resolve() == SCHEMA_FILE.resolve()
    # An installed wheel has no schemas/: no comment rather than a dangling path.
    assert schema_reference(out, schema_file=tmp_path / "absent.json") is None
