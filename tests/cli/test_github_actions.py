"""GitHub Actions through the CLI: error annotations with file and line, the step summary,
unmanaged warnings, the JSON plan against its schema, and no injected workflow command."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from reconciler.emulator.app import create_app
from tests.support import REPO_ROOT, invoke

SEED = [{"provider": "notion", "ownership": "user", "credentials": {"type": "organization"}}]
PLAN_SCHEMA = REPO_ROOT / "schemas" / "plan.schema.json"


def test_validation_errors_become_error_annotations(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nintegrations:\n  - slug: github\n    scoeps: [repo]\n")
    result = invoke(None, "validate", "-f", str(bad), GITHUB_ACTIONS="true")
    assert result.exit_code == 1
    lines = [line for line in result.stderr.splitlines() if line.startswith("::error")]
    assert len(lines) == 1
    assert lines[0].startswith(f"::error file={bad},line=4,col=5,title=reconciler validate::")
    assert "did you mean 'scopes'" in lines[0]


def test_no_annotations_outside_github_actions(tmp_path: Path, manifest: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nintegrations:\n  - slug: github\n    scoeps: [repo]\n")
    assert "::error" not in invoke(None, "validate", "-f", str(bad)).output
    summary = tmp_path / "summary.md"
    result = invoke(
        create_app(seed=SEED), "plan", "-f", str(manifest), GITHUB_STEP_SUMMARY=str(summary)
    )
    assert "::warning" not in result.output
    assert not summary.exists()


def test_plan_writes_step_summary_and_unmanaged_warnings(tmp_path: Path, manifest: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = invoke(
        create_app(seed=SEED),
        "plan",
        "-f",
        str(manifest),
        GITHUB_ACTIONS="true",
        GITHUB_STEP_SUMMARY=str(summary),
    )
    assert result.exit_code == 0, result.output
    written = summary.read_text()
    assert written.startswith("earlier step\n")  # appended, not overwritten
    assert (
        "**Plan:** 0 to replace, 0 to delete, 1 to create, 0 to update, 0 unchanged, 1 unmanaged"
        in written
    )
    warnings = [line for line in result.stderr.splitlines() if line.startswith("::warning")]
    assert len(warnings) == 1 and "notion (user)" in warnings[0]


def test_json_plan_validates_against_its_schema(manifest: Path) -> None:
    schema = json.loads(PLAN_SCHEMA.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    app = create_app(seed=SEED)
    planned = invoke(app, "plan", "-f", str(manifest), "--format", "json")
    assert planned.exit_code == 0
    jsonschema.validate(json.loads(planned.stdout), schema)
    applied = invoke(app, "apply", "-f", str(manifest), "--yes", "--format", "json")
    assert applied.exit_code == 0, applied.output
    document = json.loads(applied.stdout)
    jsonschema.validate(document, schema)
    assert document["results"][0]["outcome"] == "succeeded"


def test_annotations_never_mix_into_json_or_markdown_on_stdout(manifest: Path) -> None:
    app = create_app(seed=SEED)
    result = invoke(app, "plan", "-f", str(manifest), "--format", "json", GITHUB_ACTIONS="true")
    assert result.exit_code == 0
    json.loads(result.stdout)  # one JSON document, nothing else
    assert "::warning" in result.stderr
    markdown = invoke(
        app, "plan", "-f", str(manifest), "--format", "markdown", GITHUB_ACTIONS="true"
    )
    assert "::" not in markdown.stdout


def _commands(output: str) -> list[str]:
    """The lines the runner would read as workflow commands (``::`` after spaces, or ``##[``)."""
    return [line for line in output.splitlines() if line.lstrip().startswith("::") or "##[" in line]


BAD = "version: 1\nintegrations:\n  - slug: github\n    scoeps: [repo]\n"


def test_a_file_name_cannot_inject_a_workflow_command(tmp_path: Path) -> None:
    bad = tmp_path / "bad\n::error::pwned.yaml"
    bad.write_text(BAD)
    result = invoke(None, "validate", "-f", str(bad), GITHUB_ACTIONS="true")
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    escaped = f"{tmp_path}/bad\\n::error::pwned.yaml"
    assert f"{escaped}:4:5: unknown key" in result.stderr
    file_property = f"{tmp_path}/bad%0A::error::pwned.yaml".replace(":", "%3A")
    commands = _commands(result.output)
    assert len(commands) == 1  # the intended annotation, and nothing else
    assert commands[0].startswith(
        f"::error file={file_property},line=4,col=5,title=reconciler validate::unknown key"
    )


def test_a_relative_file_name_cannot_start_a_workflow_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    Path("::error::pwned.yaml").write_text(BAD)
    result = invoke(None, "validate", "-f", "::error::pwned.yaml", GITHUB_ACTIONS="true")
    assert result.exit_code == 1
    assert "./::error::pwned.yaml:4:5: unknown key" in result.stderr
    commands = _commands(result.output)
    assert len(commands) == 1
    assert commands[0].startswith("::error file=%3A%3Aerror%3A%3Apwned.yaml,line=4,col=5,")
