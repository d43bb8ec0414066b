"""Tests of the exporter's entries: a faithful snapshot (defaults included), order and
keys, settings.ignore, the $schema path, output that validates and reads back as written."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from reconciler.exporter import (
    SCHEMA_FILE,
    export_manifest,
    schema_reference,
    secret_note,
)
from reconciler.fields import (
    CUSTOM_PROVIDER_FIELDS,
    FIELDS,
    INTEGRATION_FIELDS,
    api_default,
)
from reconciler.manifest import load
from reconciler.models import RemoteIntegration
from reconciler.planner import plan
from tests.support.exporter import SEED, _entries, _entry, _secret_environ
from tests.support.factories import custom_credentials, remote


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
