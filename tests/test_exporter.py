"""Tests of the exporter: round trip through the emulator, defaults omitted, variable names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from reconciler.emulator.app import create_app, store_of
from reconciler.exporter import (
    DEFAULT_SCHEMA_REF,
    Export,
    SecretVariable,
    export_manifest,
    secret_note,
    secret_variable_name,
)
from reconciler.loader import load
from reconciler.models import RemoteIntegration
from reconciler.planner import plan
from tests.factories import custom_credentials, remote
from tests.support import client_for, run

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
        "custom_provider": {"name": "Another Acme"},
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
    first, second = export.text.splitlines()[:2]
    assert first == f"# yaml-language-server: $schema={DEFAULT_SCHEMA_REF}"
    assert "Exported by `reconciler export`" in second
    assert "version: 1\nintegrations:\n" in export.text
    assert list(_entry(export, "github")) == [
        "slug",
        "description",
        "enabled",
        "scopes",
        "credentials",
    ]
    assert list(_entry(export, "acme-crm")) == ["slug", "scopes", "credentials", "custom_provider"]
    custom = export_manifest(remote_state, schema="../schemas/manifest.schema.json")
    assert custom.text.startswith(
        "# yaml-language-server: $schema=../schemas/manifest.schema.json\n"
    )


def test_only_non_default_fields_are_written(remote_state: list[RemoteIntegration]) -> None:
    export = export_manifest(remote_state)
    assert _entry(export, "github", "organization") == {
        "slug": "github",
        "ownership": "organization",
        "description": "GitHub for organizations",
        "credentials": {"type": "organization"},
    }
    assert _entry(export, "snowflake") == {
        "slug": "snowflake",
        "description": "Warehouse",
        "auth_methods": ["api_key"],
        "config": {"account": "xy12345"},
    }
    # An empty description and empty scopes are values, not defaults.
    assert _entry(export, "notion")["description"] == ""
    assert _entry(export, "acme-crm")["scopes"] == []


def test_custom_provider_keeps_name_and_non_defaults_on_both_entries(
    remote_state: list[RemoteIntegration],
) -> None:
    export = export_manifest(remote_state)
    user, organization = _entry(export, "acme-crm"), _entry(export, "acme-crm", "organization")
    assert user["custom_provider"] == organization["custom_provider"] == SEED[2]["custom_provider"]
    assert _entry(export, "acme_crm")["custom_provider"] == {"name": "Another Acme"}
    assert "&id" not in export.text and "*id" not in export.text


def test_defaults_are_omitted_field_by_field() -> None:
    item = remote(
        "tracker",
        custom_provider={
            "name": "Tracker",
            "token_url": "https://tracker.example/token",
            "pkce_enabled": True,
            "authenticate_via": "basic_auth_header",
        },
    )
    (entry,) = yaml.safe_load(export_manifest([item]).text)["integrations"]
    assert entry == {
        "slug": "tracker",
        "credentials": {"type": "organization"},
        "custom_provider": {
            "name": "Tracker",
            "token_url": "https://tracker.example/token",
            "authenticate_via": "basic_auth_header",
        },
    }


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


def test_values_that_read_as_references_are_warned_about() -> None:
    item = remote("github", description="${env:HOME}")
    (warning,) = export_manifest([item]).warnings
    assert "github (user): description" in warning
    assert export_manifest([remote("github", description="plain")]).warnings == ()


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
    (entry,) = load([manifest], environ={"RECONCILER_SLACK_CLIENT_SECRET": "x-0001"}).integrations
    assert entry.spec.description == "two\nlines\n  - slug: injected"
    assert entry.spec.scopes == ["no", "0o17", "1e3", "~"]
    assert entry.spec.credentials is not None and entry.spec.credentials.client_id == "12e45"
    assert (
        plan(load([manifest], environ={"RECONCILER_SLACK_CLIENT_SECRET": "x-0001"}), [item]).actions
        == ()
    )
