"""CLI tests through click's CliRunner, with the emulator in-process."""

from __future__ import annotations

import json
from pathlib import Path

import click
import pytest
from fastapi import FastAPI

from reconciler.cli import cli
from reconciler.emulator.app import create_app
from tests.support import API_KEY, CANARY_SECRET, SLACK_AND_NOTION_SEED, invoke, run, stats, writes

CANARY = CANARY_SECRET
MANIFEST = """\
version: 1
integrations:
  - slug: github
    description: Production GitHub app
    enabled: true
    scopes: [repo, read:org]
    credentials:
      type: custom
      client_id: Iv1.abc123
      client_secret: ${env:RECONCILER_GITHUB_SECRET}
  - slug: slack
    ownership: organization
    description: Slack for organizations
    credentials:
      type: organization
"""
SEED = SLACK_AND_NOTION_SEED


@pytest.fixture
def manifest_text() -> str:
    return MANIFEST


@pytest.fixture
def app() -> FastAPI:
    return create_app(seed=SEED)


def test_validate_ok_and_offline(manifest: Path) -> None:
    result = invoke(None, "validate", "-f", str(manifest), WORKOS_API_KEY="")
    assert result.exit_code == 0, result.output
    assert "Valid: 2 integrations in 1 file." in result.output


def test_validate_reports_file_line_col_and_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nintegrations:\n  - slug: github\n    scoeps: [repo]\n")
    result = invoke(None, "validate", "-f", str(bad))
    assert result.exit_code == 1
    assert f"{bad}:4:5:" in result.stderr
    assert "did you mean 'scopes'" in result.stderr
    assert "Traceback" not in result.output


def test_plan_text_shows_each_kind_and_summary(manifest: Path, app: FastAPI) -> None:
    result = invoke(app, "plan", "-f", str(manifest))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "+ github (user) will be created" in out
    assert "~ slack (organization) will be updated in place" in out
    assert '~ description: "old description" → "Slack for organizations"' in out
    assert "? notion (user)" in out
    assert "credentials.client_secret: (sensitive, ends …q7Zx)" in out
    assert "Plan: 0 to replace, 0 to delete, 1 to create, 1 to update." in out
    assert "\x1b[" not in out
    assert writes(app) == 0


def test_plan_detailed_exitcode(manifest: Path, app: FastAPI) -> None:
    assert invoke(app, "plan", "-f", str(manifest), "--detailed-exitcode").exit_code == 2
    assert invoke(app, "apply", "-f", str(manifest), "--yes").exit_code == 0
    clean = invoke(app, "plan", "-f", str(manifest), "--detailed-exitcode")
    assert clean.exit_code == 0, clean.output
    assert "No changes." in clean.stdout


def test_plan_json_has_the_fixed_keys(manifest: Path, app: FastAPI) -> None:
    result = invoke(app, "plan", "-f", str(manifest), "--format", "json")
    assert result.exit_code == 0
    data = json.loads(result.stdout)
    assert data["format_version"] == 1
    assert data["summary"]["create"] == 1 and data["summary"]["unmanaged"] == 1
    assert [(c["action"], c["slug"], c["ownership"]) for c in data["changes"]] == [
        ("create", "github", "user"),
        ("update", "slack", "organization"),
    ]
    assert data["unmanaged"] == [{"slug": "notion", "ownership": "user"}]


def test_apply_yes_applies_and_reports_each_action(manifest: Path, app: FastAPI) -> None:
    result = invoke(app, "apply", "-f", str(manifest), "--yes")
    assert result.exit_code == 0, result.output
    assert "ok create github (user)" in result.stdout
    assert "ok update slack (organization)" in result.stdout
    assert "Apply complete: 2 succeeded, 0 failed, 0 skipped." in result.stdout
    second = invoke(app, "apply", "-f", str(manifest), "--yes")
    assert second.exit_code == 0
    assert "No changes." in second.stdout
    assert writes(app) == 2


def test_apply_without_terminal_and_without_yes_refuses(manifest: Path, app: FastAPI) -> None:
    result = invoke(app, "apply", "-f", str(manifest))
    assert result.exit_code == 1
    assert "--yes" in result.stderr
    assert writes(app) == 0


def test_apply_asks_on_a_terminal(manifest: Path, app: FastAPI) -> None:
    declined = invoke(app, "apply", "-f", str(manifest), interactive=True, input="n\n")
    assert declined.exit_code == 1
    assert "cancelled" in declined.stderr
    assert writes(app) == 0
    accepted = invoke(app, "apply", "-f", str(manifest), interactive=True, input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert writes(app) == 2


def test_apply_dry_run_changes_nothing(manifest: Path, app: FastAPI) -> None:
    result = invoke(app, "apply", "-f", str(manifest), "--dry-run")
    assert result.exit_code == 0
    assert "Dry run: nothing was changed." in result.stdout
    assert writes(app) == 0


def test_apply_with_a_failure_exits_1_and_rerun_finishes(tmp_path: Path, app: FastAPI) -> None:
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nintegrations:\n"
        "  - slug: not-a-provider\n    credentials: {type: organization}\n"
        "  - slug: linear\n    credentials: {type: organization}\n"
    )
    result = invoke(app, "apply", "-f", str(path), "--yes")
    assert result.exit_code == 1
    assert "FAILED create not-a-provider (user)" in result.stdout
    assert "ok create linear (user)" in result.stdout
    assert "1 failed of 2 actions" in result.stderr


def test_protected_replace_is_refused_with_exit_3(tmp_path: Path) -> None:
    app = create_app(seed=[{"provider": "snowflake", "auth_methods": ["api_key"]}])
    path = tmp_path / "m.yaml"
    path.write_text(
        "version: 1\nintegrations:\n"
        "  - slug: snowflake\n    auth_methods: [oauth]\n    protect: true\n"
        "    credentials: {type: organization}\n"
    )
    for command in (["plan"], ["apply", "--yes", "--force"]):
        result = invoke(app, *command, "-f", str(path))
        assert result.exit_code == 3, result.output
        assert "protected" in result.stderr
    assert writes(app) == 0


def test_delete_threshold_refuses_without_force(tmp_path: Path) -> None:
    seed = [
        {
            "provider": f"p{i:02d}",
            "custom_provider": {
                "name": "P",
                "authorization_url": "https://p.example/authorize",
                "token_url": "https://p.example/token",
            },
            "credentials": {"type": "organization"},
        }
        for i in range(10)
    ]
    app = create_app(seed=seed)
    path = tmp_path / "m.yaml"
    path.write_text("version: 1\nsettings:\n  prune: true\nintegrations: []\n")
    refused = invoke(app, "apply", "-f", str(path), "--yes")
    assert refused.exit_code == 3
    assert "10 of 10" in refused.stderr
    assert writes(app) == 0
    forced = invoke(app, "apply", "-f", str(path), "--yes", "--force")
    assert forced.exit_code == 0, forced.output
    assert run(stats(app))["integrations"] == 0


def test_missing_api_key_is_a_clear_error(manifest: Path) -> None:
    result = invoke(None, "plan", "-f", str(manifest), WORKOS_API_KEY="")
    assert result.exit_code == 1
    assert "WORKOS_API_KEY is not set" in result.stderr


def test_plain_http_to_a_remote_host_is_refused(manifest: Path) -> None:
    result = invoke(None, "plan", "-f", str(manifest), "--api-url", "http://api.example.com")
    assert result.exit_code == 1
    assert "plain http" in result.stderr


def test_canary_secret_never_appears(manifest: Path, app: FastAPI) -> None:
    outputs = [
        invoke(app, "plan", "-f", str(manifest)),
        invoke(app, "plan", "-f", str(manifest), "--format", "json"),
        invoke(app, "apply", "-f", str(manifest), "--dry-run", "--format", "json"),
        invoke(app, "apply", "-f", str(manifest), "--yes", "--format", "json"),
        invoke(app, "apply", "-f", str(manifest), "--yes"),
        invoke(app, "validate", "-f", str(manifest)),
    ]
    for result in outputs:
        assert CANARY not in result.output
        assert API_KEY not in result.output


def test_schema_command_prints_the_committed_schema() -> None:
    result = invoke(None, "schema")
    assert result.exit_code == 0
    committed = json.loads(Path("schemas/manifest.schema.json").read_text())
    assert json.loads(result.stdout) == committed


def _commands() -> list[tuple[str, click.Command]]:
    assert isinstance(cli, click.Group)
    return sorted(cli.commands.items())


@pytest.mark.parametrize(("name", "command"), _commands())
def test_every_command_has_help_with_examples(name: str, command: click.Command) -> None:
    result = invoke(None, name, "--help")
    assert result.exit_code == 0
    assert command.help and len(command.help.strip()) > 20
    assert "Examples:" in result.output, f"{name} --help has no examples"


class _Terminal:
    """Stands in for stdout attached to a terminal."""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        return None


def test_colour_only_on_a_terminal_and_never_with_no_color(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from reconciler.cli import console
    from reconciler.render import render_text
    from tests.support.factories import desired, desired_state

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert console.color_enabled() is False  # pytest's captured stdout is no terminal
    monkeypatch.setattr("sys.stdout", _Terminal())
    assert console.color_enabled() is True
    monkeypatch.setenv("NO_COLOR", "1")
    assert console.color_enabled() is False
    from reconciler.planner import plan as make_plan

    result = make_plan(desired_state(desired(slug="snowflake", auth_methods=["api_key"])), [])
    assert "\x1b[" in render_text(result, color=True)
    assert "\x1b[" not in render_text(result, color=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["plan", "--bogus"], "No such option '--bogus'"),
        (["nosuchcommand"], "No such command 'nosuchcommand'"),
        (["--bogus"], "No such option '--bogus'"),
        (["apply", "--concurrency", "0"], "Invalid value for '--concurrency'"),
        (["plan", "--format", "xml"], "Invalid value for '--format'"),
    ],
)
def test_usage_errors_exit_1_never_2(args: list[str], message: str) -> None:
    """2 means "changes pending" to a script running plan --detailed-exitcode."""
    result = invoke(None, *args)
    assert result.exit_code == 1, result.output
    assert message in result.stderr
    assert "Traceback" not in result.output


def test_a_mistyped_flag_exits_1_from_the_installed_command() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "reconciler", "plan", "--detailed-exitcod"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1, done.stderr
    assert "No such option '--detailed-exitcod'" in done.stderr
