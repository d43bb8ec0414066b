"""`export` (a faithful snapshot, -f with settings.ignore, --policy, the $schema header)
and the environment guard, through the CLI."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import AUTH, BASE_URL, invoke, run, stats

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
        "custom_provider": {
            "name": "Acme",
            "authorization_url": "https://acme.example/authorize",
            "token_url": "https://acme.example/token",
        },
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


def test_export_is_a_faithful_snapshot_so_drift_shows(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The issue's scenario: an integration exported disabled, then enabled by hand in
    the dashboard: the nightly `plan --detailed-exitcode` on the export must see it."""
    monkeypatch.chdir(tmp_path)
    assert invoke(app, "export", "--out", "integrations.yaml").exit_code == 0
    text = Path("integrations.yaml").read_text()
    assert "  - slug: github\n    ownership: organization\n    description: null\n" in text
    assert "    enabled: false\n    scopes: null\n" in text
    secret = "my-real-secret-6789"
    clean = invoke(app, "plan", "--detailed-exitcode", RECONCILER_GITHUB_CLIENT_SECRET=secret)
    assert clean.exit_code == 0, clean.output

    async def enable_by_hand() -> None:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
        ) as http:
            answer = await http.put(
                "/data-integrations/github/organization", json={"enabled": True}
            )
            answer.raise_for_status()

    run(enable_by_hand())
    drift = invoke(
        app,
        "plan",
        "--detailed-exitcode",
        "--format",
        "json",
        RECONCILER_GITHUB_CLIENT_SECRET=secret,
    )
    assert drift.exit_code == 2, drift.output
    (change,) = json.loads(drift.stdout)["changes"]
    assert (change["action"], change["slug"], change["ownership"]) == (
        "update",
        "github",
        "organization",
    )
    assert [(f["path"], f["before"], f["after"]) for f in change["fields"]] == [
        ("enabled", True, False)
    ]


IGNORING_MANIFEST = """\
version: 1
settings:
  ignore: ["snow*", "Acme-*"]
integrations: []
"""


def test_export_leaves_out_what_settings_ignore_matches(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("manifests").mkdir()
    Path("manifests/settings.yaml").write_text(IGNORING_MANIFEST)
    result = invoke(app, "export", "-f", "manifests", "--out", "adopted.yaml")
    assert result.exit_code == 0, result.output
    text = Path("adopted.yaml").read_text()
    assert "slug: snowflake" not in text
    assert "slug: acme-crm" in text  # globs are case-sensitive, as plan matches them
    assert "Wrote 3 integrations to adopted.yaml." in result.stderr
    assert "Left out (settings.ignore): snowflake (user)." in result.stderr
    # Without -f, everything is exported.
    everything = invoke(app, "export")
    assert "slug: snowflake" in everything.stdout
    # A manifest with problems is an error before any export.
    Path("manifests/broken.yaml").write_text("version: 1\nintegrationz: []\n")
    broken = invoke(app, "export", "-f", "manifests", "--out", "other.yaml")
    assert broken.exit_code == 1
    assert "integrationz" in broken.stderr and not Path("other.yaml").exists()


POLICY = """\
version: 1
references:
  env: ["GITHUB_*"]
"""


@pytest.mark.parametrize("through", ["option", "environment"])
def test_export_warns_about_variables_the_policy_refuses(
    app: FastAPI, tmp_path: Path, through: str
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    if through == "option":
        result = invoke(app, "export", "--policy", str(policy))
    else:
        result = invoke(app, "export", RECONCILER_POLICY=str(policy))
    assert result.exit_code == 0, result.output
    (warning,) = [line for line in result.stderr.splitlines() if line.startswith("Warning: ")]
    assert "github (user): ${env:RECONCILER_GITHUB_CLIENT_SECRET} is not allowed by policy" in (
        warning
    )
    assert "(references.env: GITHUB_*)" in warning
    assert "Warning" not in invoke(app, "export").stderr  # the default policy allows it


def test_export_schema_comment_resolves_from_the_output(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    out = Path("nested/deeper/integrations.yaml")
    out.parent.mkdir(parents=True)
    assert invoke(app, "export", "--out", str(out)).exit_code == 0
    first = out.read_text().splitlines()[0]
    prefix = "# yaml-language-server: $schema="
    assert first.startswith(prefix)
    schema = out.parent / first.removeprefix(prefix)
    assert schema.is_file() and schema.name == "manifest.schema.json"
    assert json.loads(schema.read_text())["title"] == "reconciler manifest"
    # To stdout the path is relative to the current directory (as the help says).
    first = invoke(app, "export").stdout.splitlines()[0]
    assert first.startswith(prefix) and Path(first.removeprefix(prefix)).is_file()


def test_export_help_lists_the_new_options() -> None:
    text = invoke(None, "export", "--help").stdout
    for expected in ("-f, --file", "--policy", "settings.ignore", "RECONCILER_POLICY", "$schema"):
        assert expected in text


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
