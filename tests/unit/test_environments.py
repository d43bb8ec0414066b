"""Tests of the environment guard and of the examples/environments layout."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from reconciler.environments import ENVIRONMENT_VARIABLE, check_environment
from reconciler.errors import ConfigError, ManifestError
from reconciler.manifest import load
from reconciler.models import Desired

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "environments"
SCHEMA_HEADER = re.compile(r"^# yaml-language-server: \$schema=(\S+)$", re.MULTILINE)

STAGING_ENVIRON = {
    "RECONCILER_VAR_GITHUB_CLIENT_ID": "Iv1.staging-app",
    "RECONCILER_GITHUB_CLIENT_SECRET": "staging-github-secret-0001",
    "RECONCILER_VAR_ACME_CRM_AUTHORIZATION_URL": "https://sandbox.crm.acme.example/oauth/authorize",
    "RECONCILER_VAR_ACME_CRM_TOKEN_URL": "https://sandbox.crm.acme.example/oauth/token",
    "RECONCILER_VAR_NOTION_CLIENT_ID": "notion-staging",
    "RECONCILER_NOTION_CLIENT_SECRET": "staging-notion-secret-0002",
}
PRODUCTION_ENVIRON = {
    "RECONCILER_VAR_GITHUB_CLIENT_ID": "Iv1.production-app",
    "RECONCILER_GITHUB_CLIENT_SECRET": "production-github-secret-0003",
    "RECONCILER_VAR_SLACK_CLIENT_ID": "2841739562.7731904455",
    "RECONCILER_SLACK_CLIENT_SECRET": "production-slack-secret-0004",
    "RECONCILER_VAR_SNOWFLAKE_ACCOUNT": "xy12345",
}


def _load(environment: str, environ: dict[str, str]) -> Desired:
    return load([EXAMPLES / "base", EXAMPLES / environment], environ=environ)


@pytest.mark.parametrize(
    ("manifest_env", "selected"),
    [
        (None, None),
        ("production", "production"),
        (None, "staging"),  # the command may say more than the manifest
    ],
)
def test_accepted(manifest_env: str | None, selected: str | None) -> None:
    check_environment(manifest_env, selected)


def test_refused_when_they_differ() -> None:
    with pytest.raises(ConfigError) as caught:
        check_environment("production", "staging")
    assert str(caught.value).startswith(
        "this manifest is for environment 'production' but the command targets 'staging'"
    )


@pytest.mark.parametrize("selected", [None, ""])
def test_refused_when_the_command_names_none(selected: str | None) -> None:
    with pytest.raises(ConfigError) as caught:
        check_environment("production", selected)
    message = str(caught.value)
    assert message.startswith("the manifest names environment 'production'")
    assert "--environment production" in message
    assert f"{ENVIRONMENT_VARIABLE}=production" in message


def test_names_are_compared_exactly() -> None:
    with pytest.raises(ConfigError):
        check_environment("production", "Production")


def test_staging_and_production_examples_validate_and_differ() -> None:
    staging = _load("staging", STAGING_ENVIRON)
    production = _load("production", PRODUCTION_ENVIRON)

    assert staging.settings.environment == "staging"
    assert production.settings.environment == "production"
    check_environment(staging.settings.environment, "staging")
    check_environment(production.settings.environment, "production")
    with pytest.raises(ConfigError):
        check_environment(production.settings.environment, "staging")

    shared = {("github", "user"), ("github", "organization"), ("acme-crm", "organization")}
    staging_ids = {entry.identity for entry in staging.integrations}
    production_ids = {entry.identity for entry in production.integrations}
    assert staging_ids == shared | {("notion", "user")}
    assert production_ids == shared | {("slack", "user"), ("snowflake", "user")}

    assert staging.settings.prune and not production.settings.prune
    assert production.settings.ignore == ["legacy-*"]

    def github_client_id(desired: Desired) -> str | None:
        (github,) = [e for e in desired.integrations if e.identity == ("github", "user")]
        assert github.spec.credentials is not None
        return github.spec.credentials.client_id

    assert github_client_id(staging) == "Iv1.staging-app"
    assert github_client_id(production) == "Iv1.production-app"

    def crm_token_url(desired: Desired) -> str | None:
        (crm,) = [e for e in desired.integrations if e.spec.slug == "acme-crm"]
        assert crm.spec.custom_provider is not None
        return crm.spec.custom_provider.token_url

    assert crm_token_url(staging) == "https://sandbox.crm.acme.example/oauth/token"
    assert crm_token_url(production) == "https://crm.acme.example/oauth/token"


@pytest.mark.parametrize("environment", ["staging", "production"])
def test_examples_validate_offline_without_any_variable(environment: str) -> None:
    """What the pre-commit hook runs: ``validate --no-secrets``, no variable set."""
    desired = load([EXAMPLES / "base", EXAMPLES / environment], environ={}, resolve_secrets=False)
    assert desired.settings.environment == environment


def test_an_unset_variable_fails_a_real_run() -> None:
    environ = {
        k: v for k, v in PRODUCTION_ENVIRON.items() if k != "RECONCILER_VAR_GITHUB_CLIENT_ID"
    }
    with pytest.raises(
        ManifestError, match="environment variable RECONCILER_VAR_GITHUB_CLIENT_ID is not set"
    ):
        _load("production", environ)


def test_base_and_both_environments_cannot_be_combined() -> None:
    """Each environment folder has its own settings: mixing them is an error, not a merge."""
    with pytest.raises(ManifestError, match="settings may appear in one file only"):
        load(
            [EXAMPLES / "base", EXAMPLES / "staging", EXAMPLES / "production"],
            environ={**STAGING_ENVIRON, **PRODUCTION_ENVIRON},
        )


def test_every_example_points_editors_at_the_schema() -> None:
    manifests = sorted(EXAMPLES.glob("*/*.yaml"))
    assert len(manifests) == 5
    for manifest in manifests:
        match = SCHEMA_HEADER.search(manifest.read_text(encoding="utf-8"))
        assert match is not None, manifest
        assert (manifest.parent / match.group(1)).resolve().is_file(), manifest
