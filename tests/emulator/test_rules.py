"""Each rule the API documents, twice: the emulator's answer to a request that breaks it,
and the tool refusing the manifest that would send that request (``file:line:col``,
exit 1, before any write). The sources are in docs/api-contract.md ("Where each rule
comes from")."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app, store_of
from reconciler.manifest import builtins as manifest_builtins
from reconciler.manifest import checks
from tests.emulator.contract import ACME, ORG_CREDENTIALS, ApiClient, assert_error, create
from tests.support import run as run_async
from tests.support import stats
from tests.support.cli import invoke

LOCATION = r"integrations\.yaml:\d+:\d+: "


def write(tmp_path: Path, integrations: str) -> Path:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text("version: 1\nintegrations:\n" + integrations)
    return manifest


def writes(app: FastAPI) -> int:
    by_method: dict[str, int] = run_async(stats(app))["by_method"]
    return by_method["POST"] + by_method["PUT"] + by_method["DELETE"]


def refused(app: FastAPI | None, command: str, manifest: Path, message: str) -> str:
    """``command`` refuses ``manifest`` with ``message`` at a file:line:col, exit 1."""
    result = invoke(app, command, "-f", str(manifest))
    assert result.exit_code == 1, result.output
    assert re.search(LOCATION + re.escape(message), result.output), result.output
    assert "Traceback" not in result.output
    return result.output


# -- config: only the fields the provider declares -----------------------------------------


@pytest.mark.parametrize(
    ("slug", "config", "allowed"),
    [("github", {"account": "a"}, "none"), ("snowflake", {"warehouse": "wh"}, "account")],
)
def test_a_builtin_takes_only_the_config_keys_it_declares(
    client: ApiClient, tmp_path: Path, slug: str, config: dict[str, str], allowed: str
) -> None:
    body: dict[str, Any] = {
        "provider": slug,
        "credentials": ORG_CREDENTIALS,
        "config": config,
    }
    answer = assert_error(client.post("/data-integrations", json=body), 422, "validation_error")
    key = next(iter(config))
    assert answer["errors"] == [
        {"field": f"config.{key}", "code": "unknown_key", "message": f"allowed: {allowed}"}
    ]
    manifest = write(
        tmp_path,
        f"  - slug: {slug}\n    credentials: {{type: organization}}\n    config: {{{key}: x}}\n",
    )
    refused(None, "validate", manifest, f"config.{key}: unknown config key")


def test_the_declared_config_key_is_taken(client: ApiClient) -> None:
    body = {"provider": "snowflake", "auth_methods": ["api_key"], "config": {"account": "a"}}
    assert create(client, body)["config"] == {"account": "a"}


def test_a_custom_provider_takes_no_config_key(client: ApiClient, tmp_path: Path) -> None:
    body = {
        "provider": "acme-crm",
        "custom_provider": ACME,
        "credentials": ORG_CREDENTIALS,
        "config": {"tenant": "t"},
    }
    answer = assert_error(client.post("/data-integrations", json=body), 422, "validation_error")
    assert answer["errors"][0]["field"] == "config.tenant"
    manifest = write(
        tmp_path,
        "  - slug: acme-crm\n    credentials: {type: organization}\n"
        "    config: {tenant: t}\n    custom_provider:\n      name: Acme\n"
        "      authorization_url: https://crm.acme.example/a\n"
        "      token_url: https://crm.acme.example/t\n",
    )
    refused(None, "validate", manifest, "config.tenant: unknown config key (a custom provider")


def test_the_manifest_catalogue_is_the_emulators() -> None:
    """Same slugs, same declared config fields: the tool refuses what the emulator does."""
    from reconciler.emulator.providers import BUILTIN_PROVIDERS

    assert {slug: p.config_fields for slug, p in BUILTIN_PROVIDERS.items()} == (
        manifest_builtins.BUILTIN_CONFIG_FIELDS
    )


# -- custom providers: the endpoints an OAuth provider needs ----------------------------------


def test_an_oauth_custom_provider_needs_both_endpoints(client: ApiClient, tmp_path: Path) -> None:
    body = {
        "provider": "acme-crm",
        "custom_provider": {"name": "Acme"},
        "credentials": ORG_CREDENTIALS,
    }
    answer = assert_error(client.post("/data-integrations", json=body), 422, "validation_error")
    assert [e["field"] for e in answer["errors"]] == [
        "custom_provider.authorization_url",
        "custom_provider.token_url",
    ]
    app = create_app()
    try:
        manifest = write(
            tmp_path,
            "  - slug: acme-crm\n    credentials: {type: organization}\n"
            "    custom_provider:\n      name: Acme\n"
            "      token_url: https://crm.acme.example/t\n",
        )
        invoke(None, "validate", "-f", str(manifest))  # the remote may hold it: not known yet
        refused(app, "plan", manifest, "custom_provider.authorization_url: required for OAuth")
        refused(app, "apply", manifest, "custom_provider.authorization_url: required for OAuth")
        assert writes(app) == 0
    finally:
        store_of(app).close()


def test_a_client_credentials_provider_needs_a_token_url(client: ApiClient, tmp_path: Path) -> None:
    body = {
        "provider": "acme-crm",
        "auth_methods": ["client_credentials"],
        "custom_provider": {"name": "Acme"},
    }
    answer = assert_error(client.post("/data-integrations", json=body), 422, "validation_error")
    assert [e["field"] for e in answer["errors"]] == ["custom_provider.token_url"]
    body["custom_provider"] = {"name": "Acme", "token_url": "https://crm.acme.example/t"}
    assert create(client, body)["custom_provider"]["authorization_url"] is None
    manifest = write(
        tmp_path,
        "  - slug: acme-cc\n    auth_methods: [client_credentials]\n"
        "    custom_provider: {name: Acme}\n",
    )
    app = create_app()
    try:
        message = "custom_provider.token_url: required for OAuth and client_credentials"
        refused(app, "plan", manifest, message)
    finally:
        store_of(app).close()


def test_an_api_key_provider_needs_no_endpoint(client: ApiClient) -> None:
    body = {"provider": "acme-keys", "auth_methods": ["api_key"], "custom_provider": {"name": "A"}}
    assert create(client, body)["custom_provider"]["token_url"] is None


def test_an_endpoint_cannot_be_reset_to_null(client: ApiClient, tmp_path: Path) -> None:
    create(
        client, {"provider": "acme-crm", "custom_provider": ACME, "credentials": ORG_CREDENTIALS}
    )
    put = client.put("/data-integrations/acme-crm", json={"custom_provider": {"token_url": None}})
    answer = assert_error(put, 422, "validation_error")
    assert answer["errors"][0]["field"] == "custom_provider.token_url"
    assert client.get("/data-integrations/acme-crm").json()["custom_provider"]["token_url"]
    manifest = write(
        tmp_path,
        "  - slug: acme-crm\n    credentials: {type: organization}\n"
        "    custom_provider:\n      name: Acme\n      token_url: null\n",
    )
    refused(None, "validate", manifest, "custom_provider.token_url: required for OAuth")


def test_adding_the_other_ownership_checks_the_shared_definition(client: ApiClient) -> None:
    """An api_key integration defined the provider without endpoints; an OAuth one may
    not join it until the definition has them."""
    create(
        client, {"provider": "acme", "auth_methods": ["api_key"], "custom_provider": {"name": "A"}}
    )
    body = {"provider": "acme", "ownership": "organization", "credentials": ORG_CREDENTIALS}
    assert_error(client.post("/data-integrations", json=body), 422, "validation_error")
    create(client, {**body, "custom_provider": {k: v for k, v in ACME.items() if k != "name"}})


def test_an_endpoint_is_a_static_url(client: ApiClient, tmp_path: Path) -> None:
    provider = {**ACME, "token_url": "https://${config.host}/oauth/token"}
    body = {"provider": "acme-crm", "custom_provider": provider, "credentials": ORG_CREDENTIALS}
    answer = assert_error(client.post("/data-integrations", json=body), 422, "validation_error")
    assert "static URL" in answer["errors"][0]["message"]
    manifest = write(
        tmp_path,
        "  - slug: acme-crm\n    credentials: {type: organization}\n"
        "    custom_provider:\n      name: Acme\n"
        "      authorization_url: https://crm.acme.example/a\n"
        "      token_url: https://${config.host}/oauth/token\n",
    )
    result = invoke(None, "validate", "-f", str(manifest))
    assert result.exit_code == 1
    assert re.search(r"integrations\.yaml:8:\d+: ", result.output), result.output  # token_url


# -- custom providers never shadow a built-in -------------------------------------------------


def test_a_custom_provider_cannot_shadow_a_builtin(client: ApiClient, tmp_path: Path) -> None:
    body = {"provider": "github", "custom_provider": ACME, "credentials": ORG_CREDENTIALS}
    answer = assert_error(client.post("/data-integrations", json=body), 422, "validation_error")
    assert answer["errors"][0]["code"] == "builtin_provider"
    manifest = write(
        tmp_path,
        "  - slug: github\n    credentials: {type: organization}\n"
        "    custom_provider: {name: Mine}\n",
    )
    refused(None, "validate", manifest, "custom_provider given for 'github', a built-in")


# -- built-ins the tool's catalogue does not know: trusted to the remote ----------------------


@pytest.fixture
def without_zendesk(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tool's catalogue one provider behind WorkOS's (here: the emulator's)."""
    from reconciler import provider_checks

    slugs = manifest_builtins.BUILTIN_SLUGS - {"zendesk"}
    monkeypatch.setattr(provider_checks, "BUILTIN_SLUGS", slugs)
    monkeypatch.setattr(checks, "BUILTIN_SLUGS", slugs)
    fields = {k: v for k, v in manifest_builtins.BUILTIN_CONFIG_FIELDS.items() if k != "zendesk"}
    monkeypatch.setattr(checks, "BUILTIN_CONFIG_FIELDS", fields)


@pytest.mark.usefixtures("without_zendesk")
def test_an_unknown_builtin_is_trusted_to_the_remote_with_one_warning(tmp_path: Path) -> None:
    seed = [{"provider": "zendesk", "credentials": {"type": "organization"}}]
    app = create_app(seed=seed)
    try:
        manifest = write(
            tmp_path,
            "  - slug: zendesk\n    enabled: true\n    credentials: {type: organization}\n"
            "  - slug: zendesk\n    ownership: organization\n"
            "    credentials: {type: organization}\n",
        )
        result = invoke(app, "apply", "-f", str(manifest), "--yes")
        assert result.exit_code == 0, result.output
        assert result.output.count("catalogue does not know") == 1
        assert "zendesk (listed as built-in)" in result.output
        assert store_of(app).count("zendesk") == 2
    finally:
        store_of(app).close()


@pytest.mark.usefixtures("without_zendesk")
def test_an_unknown_builtin_may_not_be_shadowed_by_a_custom_provider(tmp_path: Path) -> None:
    app = create_app(seed=[{"provider": "zendesk", "credentials": {"type": "organization"}}])
    try:
        manifest = write(
            tmp_path,
            "  - slug: zendesk\n    credentials: {type: organization}\n"
            "    custom_provider:\n      name: Mine\n"
            "      authorization_url: https://crm.acme.example/a\n"
            "      token_url: https://crm.acme.example/t\n",
        )
        invoke(None, "validate", "-f", str(manifest))
        message = "custom_provider given for 'zendesk', which the API lists as a built-in"
        refused(app, "plan", manifest, message)
        refused(app, "apply", manifest, message)
        assert writes(app) == 0  # the replace's delete would have destroyed it for nothing
    finally:
        store_of(app).close()


def test_a_provider_nobody_knows_is_a_warning_then_the_apis_404(tmp_path: Path) -> None:
    app = create_app()
    try:
        manifest = write(tmp_path, "  - slug: pagerduty\n    credentials: {type: organization}\n")
        plan = invoke(app, "plan", "-f", str(manifest))
        assert plan.exit_code == 0, plan.output
        assert "pagerduty (not listed: its create fails with 404" in plan.output
        applied = invoke(app, "apply", "-f", str(manifest), "--yes")
        assert applied.exit_code == 1
        assert "404" in applied.output
    finally:
        store_of(app).close()


def test_a_replace_onto_oauth_needs_the_endpoints_the_remote_definition_lacks(
    tmp_path: Path,
) -> None:
    """api_key → oauth is a replace whose re-create the API would refuse (the definition
    has no endpoints): refused before the delete, which would destroy the accounts."""
    seed = [{"provider": "acme", "auth_methods": ["api_key"], "custom_provider": {"name": "A"}}]
    app = create_app(seed=seed)
    try:
        manifest = write(
            tmp_path,
            "  - slug: acme\n    credentials: {type: organization}\n"
            "    custom_provider: {name: A}\n",
        )
        message = (
            "custom_provider.authorization_url: required for OAuth integrations, "
            "and the remote definition lacks it"
        )
        refused(app, "apply", manifest, message)
        assert writes(app) == 0 and store_of(app).count("acme") == 1
    finally:
        store_of(app).close()
