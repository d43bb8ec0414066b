"""`export` and the environment guard, through the CLI."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import invoke, run, stats

SEED: list[dict[str, Any]] = [
    {
        "provider": "github",
        "description": "made by hand",
        "enabled": True,
        "credentials": {
            "type": "custom",
            "client_id": "Iv1.x",
            "client_secret": "hand-secret-6789",
        },
    },
    {"provider": "github", "ownership": "organization", "credentials": {"type": "organization"}},
    {
        "provider": "acme-crm",
        "custom_provider": {"name": "Acme", "token_url": "https://acme.example/token"},
        "credentials": {"type": "organization"},
    },
    {"provider": "snowflake", "auth_methods": ["api_key"], "config": {"account": "acme"}},
]


@pytest.fixture
def app() -> FastAPI:
    return create_app(seed=SEED)


def test_export_round_trip_through_the_cli(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    result = invoke(app, "export", "--out", "integrations.yaml")
    assert result.exit_code == 0, result.output
    assert "RECONCILER_GITHUB_CLIENT_SECRET" in result.stderr
    assert "6789" in result.stderr  # the last 4 the secret must end with
    assert "hand-secret" not in result.output
    text = Path("integrations.yaml").read_text()
    assert "${env:RECONCILER_GITHUB_CLIENT_SECRET}" in text
    validated = invoke(None, "validate", "--no-secrets")
    assert validated.exit_code == 0, validated.output
    planned = invoke(
        app, "plan", "--detailed-exitcode", RECONCILER_GITHUB_CLIENT_SECRET="my-real-secret-6789"
    )
    assert planned.exit_code == 0, planned.output
    assert "No changes." in planned.stdout
    assert "Unmanaged" not in planned.stdout


def test_export_refuses_to_overwrite_without_force(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("integrations.yaml").write_text("keep me\n")
    refused = invoke(app, "export", "--out", "integrations.yaml")
    assert refused.exit_code == 1
    assert "exists: pass --force" in refused.stderr
    assert Path("integrations.yaml").read_text() == "keep me\n"
    forced = invoke(app, "export", "--out", "integrations.yaml", "--force")
    assert forced.exit_code == 0
    assert Path("integrations.yaml").read_text().startswith("# yaml-language-server")


def test_export_to_stdout(app: FastAPI) -> None:
    result = invoke(app, "export")
    assert result.exit_code == 0
    assert "slug: snowflake" in result.stdout
    assert "RECONCILER_GITHUB_CLIENT_SECRET" in result.stderr


ENV_MANIFEST = """\
version: 1
settings:
  environment: production
integrations:
  - slug: slack
    credentials: {type: organization}
"""


@pytest.mark.parametrize("command", [["plan"], ["apply", "--yes"]])
def test_environment_guard_refuses_before_any_request(
    app: FastAPI, tmp_path: Path, command: list[str]
) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(ENV_MANIFEST)
    before = run(stats(app))["by_method"]
    wrong = invoke(app, *command, "-f", str(path), "--environment", "staging")
    assert wrong.exit_code == 1
    assert "for environment 'production' but the command targets 'staging'" in wrong.stderr
    unnamed = invoke(app, *command, "-f", str(path))
    assert unnamed.exit_code == 1
    assert "pass --environment production" in unnamed.stderr
    assert run(stats(app))["by_method"] == before
    right = invoke(app, *command, "-f", str(path), RECONCILER_ENVIRONMENT="production")
    assert right.exit_code == 0, right.output
