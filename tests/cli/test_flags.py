"""The flags people reach for: -v/-q/--no-color on either side of the command, the -f
default (integrations.yaml, else integrations/), and shell completion."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result
from fastapi import FastAPI

from reconciler.cli import Runtime, cli
from reconciler.emulator.app import create_app
from tests.support import ONE_INTEGRATION, TWO_INTEGRATIONS, cli_env, invoke, writes

TWO = TWO_INTEGRATIONS


@pytest.fixture
def app() -> FastAPI:
    return create_app()


# -- -v and -q, before or after the command -----------------------------------------------------


@pytest.mark.parametrize("where", ["before", "after"])
def test_verbose_logs_each_request_before_or_after_the_command(
    where: str, manifest: Path, app: FastAPI
) -> None:
    args = ["plan", "-f", str(manifest)]
    args = ["-v", *args] if where == "before" else [*args, "-v"]
    result = invoke(app, *args)
    assert result.exit_code == 0, result.output
    assert "GET http://localhost/data-integrations" in result.stderr
    quiet = invoke(app, "plan", "-f", str(manifest))
    assert "GET http://localhost/data-integrations" not in quiet.stderr


@pytest.mark.parametrize("where", ["before", "after"])
def test_quiet_validate_prints_nothing_when_valid(where: str, manifest: Path) -> None:
    args = ["validate", "-f", str(manifest)]
    result = invoke(None, *(["-q", *args] if where == "before" else [*args, "-q"]))
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert "Valid: 1 integration in 1 file." in invoke(None, *args).stdout


def test_quiet_still_shows_problems(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nintegrations:\n  - slug: Not A Slug\n")
    result = invoke(None, "validate", "-q", "-f", str(bad))
    assert result.exit_code == 1
    assert "is not a valid slug" in result.stderr
    assert "Error: the manifest has 1 problem." in result.stderr


def test_quiet_plan_shows_the_plan_but_not_the_saved_plan_note(
    manifest: Path, app: FastAPI, tmp_path: Path
) -> None:
    out = tmp_path / "plan.json"
    result = invoke(app, "plan", "-f", str(manifest), "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert "+ slack (user) will be created" in result.stdout
    assert "Saved the plan" not in result.output
    assert out.exists()
    loud = invoke(app, "plan", "-f", str(manifest), "--out", str(tmp_path / "again.json"))
    assert "Saved the plan to" in loud.stderr


def test_quiet_apply_shows_the_summary_and_failures_only(tmp_path: Path) -> None:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text(TWO)
    app = create_app()
    result = invoke(app, "-q", "apply", "-f", str(manifest), "--yes")
    assert result.exit_code == 0, result.output
    assert "ok create" not in result.stdout
    assert "Apply complete: 2 succeeded, 0 failed, 0 skipped." in result.stdout
    assert writes(app) == 2

    class FailingPosts(httpx.AsyncBaseTransport):
        def __init__(self) -> None:
            self.inner = httpx.ASGITransport(app=create_app())

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            if request.method == "POST" and b'"notion"' in request.content:
                return httpx.Response(422, json={"message": "rejected"})
            return await self.inner.handle_async_request(request)

    failing = invoke(None, "apply", "-q", "-f", str(manifest), "--yes", transport=FailingPosts())
    assert failing.exit_code == 1
    assert "ok create slack" not in failing.stdout
    assert "FAILED create notion (user)" in failing.stdout
    assert "Apply complete: 1 succeeded, 1 failed, 0 skipped." in failing.stdout


def test_quiet_export_leaves_out_the_notes(tmp_path: Path) -> None:
    app = create_app(seed=[{"provider": "slack", "credentials": {"type": "organization"}}])
    out = tmp_path / "adopted.yaml"
    result = invoke(app, "export", "--out", str(out), "-q")
    assert result.exit_code == 0, result.output
    assert "Wrote" not in result.output
    assert "slug: slack" in out.read_text()


@pytest.mark.parametrize(
    "args",
    [
        ["-v", "-q", "validate"],
        ["-q", "validate", "-v"],
        ["validate", "--verbose", "--quiet"],
    ],
)
def test_verbose_and_quiet_together_is_a_usage_error_exiting_1(
    args: list[str], manifest: Path
) -> None:
    result = invoke(None, *args, "-f", str(manifest))
    assert result.exit_code == 1
    assert "-v/--verbose and -q/--quiet cannot be used together" in result.stderr


# -- colour ----------------------------------------------------------------------------------


def _in_colour(app: FastAPI, *args: str, **env: str) -> Result:
    """Run as on a terminal that shows colour (NO_COLOR unset unless ``env`` sets it)."""
    runtime = Runtime(transport=httpx.ASGITransport(app=app))
    environment = cli_env(**{"NO_COLOR": "", **env})
    return CliRunner().invoke(cli, list(args), obj=runtime, env=environment, color=True)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("reconciler.cli.console._terminal", lambda: True)


@pytest.mark.usefixtures("terminal")
@pytest.mark.parametrize(
    "args",
    [["--no-color", "plan"], ["plan", "--no-color"]],
    ids=["before", "after"],
)
def test_no_color_before_or_after_the_command(
    args: list[str], manifest: Path, app: FastAPI
) -> None:
    coloured = _in_colour(app, "plan", "-f", str(manifest))
    assert coloured.exit_code == 0, coloured.output
    assert "\x1b[" in coloured.stdout
    plain = _in_colour(app, *args, "-f", str(manifest))
    assert plain.exit_code == 0, plain.output
    assert "\x1b[" not in plain.stdout
    assert "+ slack (user) will be created" in plain.stdout


@pytest.mark.usefixtures("terminal")
def test_no_color_environment_variable_still_honoured(manifest: Path, app: FastAPI) -> None:
    result = _in_colour(app, "plan", "-f", str(manifest), NO_COLOR="1")
    assert result.exit_code == 0, result.output
    assert "\x1b[" not in result.stdout


# -- the -f default ----------------------------------------------------------------------------


@pytest.fixture
def here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_without_f_integrations_yaml_is_read(here: Path, app: FastAPI) -> None:
    (here / "integrations.yaml").write_text(ONE_INTEGRATION)
    (here / "integrations").mkdir()  # integrations.yaml wins
    (here / "integrations" / "other.yaml").write_text(TWO)
    assert "Valid: 1 integration in 1 file." in invoke(None, "validate").stdout
    plan = invoke(app, "plan")
    assert plan.exit_code == 0, plan.output
    assert "integrations.yaml" in plan.stdout
    assert "notion" not in plan.stdout


def test_without_f_the_integrations_directory_is_read(here: Path, app: FastAPI) -> None:
    (here / "integrations").mkdir()
    (here / "integrations" / "a.yaml").write_text(TWO)
    validated = invoke(None, "validate")
    assert validated.exit_code == 0, validated.output
    assert "Valid: 2 integrations in 1 file." in validated.stdout
    plan = invoke(app, "plan")
    assert plan.exit_code == 0, plan.output
    assert "+ notion (user) will be created" in plan.stdout
    applied = invoke(app, "apply", "--yes")
    assert applied.exit_code == 0, applied.output
    assert writes(app) == 2


@pytest.mark.parametrize("command", ["validate", "plan", "apply"])
def test_without_f_and_no_default_manifest_the_error_names_both(
    command: str, here: Path, app: FastAPI
) -> None:
    (here / "integrations").write_text("not a directory")
    result = invoke(app, command)
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: no manifest given, and neither integrations.yaml nor an integrations/ "
        "directory is in the current directory: pass -f FILE or -f DIRECTORY\n"
    )
    assert writes(app) == 0


def test_export_f_still_has_no_default(here: Path) -> None:
    (here / "integrations.yaml").write_text(
        "version: 1\nsettings: {ignore: [slack]}\nintegrations: []\n"
    )
    app = create_app(seed=[{"provider": "slack", "credentials": {"type": "organization"}}])
    result = invoke(app, "export")
    assert result.exit_code == 0, result.output
    assert "slug: slack" in result.stdout  # integrations.yaml's settings.ignore not read


# -- shell completion --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shell", "marker"),
    [
        ("bash", "complete -o nosort -F _reconciler_completion reconciler"),
        ("zsh", "#compdef reconciler"),
        ("fish", "complete --no-files --command reconciler"),
    ],
)
def test_completion_prints_the_script(shell: str, marker: str) -> None:
    result = invoke(None, "completion", shell)
    assert result.exit_code == 0, result.output
    assert marker in result.stdout
    assert "_RECONCILER_COMPLETE" in result.stdout


def test_completion_of_an_unknown_shell_is_a_usage_error_exiting_1() -> None:
    result = invoke(None, "completion", "tcsh")
    assert result.exit_code == 1
    assert "'tcsh' is not one of 'bash', 'zsh', 'fish'" in result.stderr


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("reconciler pl", "plain,plan"),
        ("reconciler plan --form", "plain,--format"),
        ("reconciler plan --no-c", "plain,--no-color"),
        ("reconciler completion f", "plain,fish"),
    ],
)
def test_the_script_completes_commands_and_options(words: str, expected: str) -> None:
    env = cli_env(
        _RECONCILER_COMPLETE="bash_complete",
        COMP_WORDS=words,
        COMP_CWORD=str(len(words.split()) - 1),
    )
    result = CliRunner().invoke(cli, [], prog_name="reconciler", env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [expected]
