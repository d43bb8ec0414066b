"""The CI building blocks parse, and every ``reconciler`` command in them exists.

Each ``reconciler ...`` invocation in a workflow's shell steps (or the
pre-commit hook's entry) is checked against the click CLI: the subcommand
must exist, and so must each option, except those in ``EXPECTED_SOON``
(being built now) while they are still missing.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from reconciler.cli import cli
from reconciler.yamlsource import parse

ROOT = Path(__file__).resolve().parent.parent
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
EXPECTED_SOON = {"--out", "--plan", "--environment"}
EXPECTED_SOON_VALUES = {("--format", "markdown")}
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "$("}
_REDIRECTIONS = re.compile(r"\d*[<>]+&?")
_SCRIPT_KEYS = ("before_script", "script", "after_script")


def _load(path: Path) -> Any:
    """A YAML file as the project reads YAML (1.2 core: ``on`` stays a string).

    It must read with PyYAML too, as CI systems' YAML 1.1 parsers would.
    """
    assert yaml.safe_load(path.read_text(encoding="utf-8")) is not None
    document = parse(path.read_bytes(), str(path))
    assert not document.problems, [str(problem) for problem in document.problems]
    assert document.root is not None
    return document.root.value


def reconciler_commands(script: str) -> list[list[str]]:
    """The arguments of each ``reconciler`` command a shell script runs."""
    found: list[list[str]] = []
    for line in script.replace("\\\n", " ").splitlines():
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        command: list[str] = []
        tokens = list(lexer)
        index = 0
        while index <= len(tokens):
            token = tokens[index] if index < len(tokens) else ";"
            if token in _SEPARATORS:
                if command[:1] == ["reconciler"]:
                    found.append(command[1:])
                command = []
            elif _REDIRECTIONS.fullmatch(token):
                index += 1  # the redirection's target
            elif command or not re.fullmatch(r"[A-Za-z_]\w*=.*", token):
                command.append(token)
            index += 1
    return found


def _github_scripts(workflow: dict[str, Any]) -> list[str]:
    return [
        step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step
    ]


def _gitlab_scripts(pipeline: dict[str, Any]) -> list[str]:
    scripts: list[str] = []
    for job in pipeline.values():
        if not isinstance(job, dict):
            continue
        for key in _SCRIPT_KEYS:
            lines = job.get(key, [])
            scripts.extend([lines] if isinstance(lines, str) else lines)
    return scripts


def _hook_scripts(hooks: list[dict[str, Any]]) -> list[str]:
    return [" ".join([hook["entry"], *map(shlex.quote, hook.get("args", []))]) for hook in hooks]


def _option_names(command: click.Command) -> dict[str, click.Option]:
    names = {
        name: option
        for option in command.params
        if isinstance(option, click.Option)
        for name in (*option.opts, *option.secondary_opts)
    }
    return names


def _check(arguments: list[str]) -> None:
    """One ``reconciler`` command line: a real subcommand, real options, valid choices."""
    assert arguments, "a bare `reconciler` runs nothing"
    name, *rest = arguments
    assert name in cli.commands, f"`reconciler {name}` is not a command"
    command = cli.commands[name]
    options = _option_names(command)
    help_names = set(command.get_help_option_names(click.Context(command)))
    index = 0
    while index < len(rest):
        token = rest[index]
        index += 1
        if not token.startswith("-"):
            continue
        option_name, has_value, inline = token.partition("=")
        option = options.get(option_name)
        if option is None:
            assert option_name in help_names or option_name in EXPECTED_SOON, (
                f"`reconciler {name}` has no option {option_name}"
            )
            pending_value = not has_value and index < len(rest)
            if pending_value and not rest[index].startswith("-"):
                index += 1  # assume the missing option takes a value
            continue
        if option.is_flag or option.count:
            continue
        value = inline if has_value else rest[index]
        index += 0 if has_value else 1
        if isinstance(option.type, click.Choice) and (option_name, value) not in (
            EXPECTED_SOON_VALUES
        ):
            assert value in option.type.choices, f"{name} {option_name} {value}"


def test_command_extraction() -> None:
    script = (
        'set +e\nFOO=1 reconciler plan -f "$A dir" --out=plan.json \\\n  --format json > plan.md\n'
        "echo reconciler; reconciler validate || exit 1\npip install reconciler\n"
        "x=$(reconciler schema)"
    )
    assert reconciler_commands(script) == [
        ["plan", "-f", "$A dir", "--out=plan.json", "--format", "json"],
        ["validate"],
        ["schema"],
    ]


def test_the_check_catches_what_does_not_exist() -> None:
    _check(["plan", "-f", "x", "--format", "markdown", "--detailed-exitcode"])
    with pytest.raises(AssertionError, match="not a command"):
        _check(["deploy"])
    with pytest.raises(AssertionError, match="has no option --colour"):
        _check(["plan", "--colour"])
    with pytest.raises(AssertionError):
        _check(["plan", "--format", "yaml"])


def test_github_actions_workflow() -> None:
    workflow = _load(GITHUB)
    assert set(workflow["on"]) >= {"pull_request", "push"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    plan_job, apply_job = jobs["plan"], jobs["apply"]
    assert "pull_request" in plan_job["if"]
    assert plan_job["permissions"]["pull-requests"] == "write"
    assert apply_job["environment"] == "production"
    assert "refs/heads/main" in apply_job["if"]
    assert apply_job["env"]["WORKOS_API_KEY"] == "${{ secrets.WORKOS_API_KEY }}"
    assert all(
        "secrets." in value
        for key, value in apply_job["env"].items()
        if key.endswith("SECRET") or key.endswith("API_KEY")
    )
    uses = [step.get("uses", "") for step in plan_job["steps"]]
    assert any(use.startswith("actions/upload-artifact@") for use in uses)
    assert any("gh pr comment" in step.get("run", "") for step in plan_job["steps"])

    commands = [
        args for script in _github_scripts(workflow) for args in reconciler_commands(script)
    ]
    for arguments in commands:
        _check(arguments)
    plans = [args for args in commands if args[0] == "plan"]
    assert any({"--format", "markdown", "--out"} <= set(args) for args in plans)
    assert any("--detailed-exitcode" in args for args in plans)
    applies = [args for args in commands if args[0] == "apply"]
    assert applies and all({"--plan", "--yes"} <= set(args) for args in applies)


def test_gitlab_ci_pipeline() -> None:
    pipeline = _load(GITLAB)
    assert pipeline["stages"] == ["plan", "apply"]
    plan_job, apply_job = pipeline["plan"], pipeline["apply"]
    assert "merge_request_event" in plan_job["rules"][0]["if"]
    assert plan_job["allow_failure"] == {"exit_codes": [2]}
    assert "plan.json" in plan_job["artifacts"]["paths"]
    assert apply_job["environment"]["name"] == "production"
    assert "CI_DEFAULT_BRANCH" in apply_job["rules"][0]["if"]

    commands = [
        args for script in _gitlab_scripts(pipeline) for args in reconciler_commands(script)
    ]
    for arguments in commands:
        _check(arguments)
    plans = [args for args in commands if args[0] == "plan"]
    assert any(
        {"--format", "markdown", "--out", "--detailed-exitcode"} <= set(args) for args in plans
    )
    applies = [args for args in commands if args[0] == "apply"]
    assert applies and all({"--plan", "--yes"} <= set(args) for args in applies)


def test_pre_commit_hook() -> None:
    hooks = _load(HOOKS)
    (hook,) = hooks
    assert hook["id"] == "reconciler-validate"
    assert {"id", "name", "entry", "language"} <= set(hook)
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    (arguments,) = reconciler_commands(_hook_scripts(hooks)[0])
    _check(arguments)
    assert arguments[:2] == ["validate", "--no-secrets"]
    assert "-f" in arguments
    files = re.compile(hook["files"])
    for path in ("integrations.yaml", "integrations.yml", "integrations/prod/github.yaml"):
        assert files.search(path), path
    for path in (".pre-commit-config.yaml", "README.md", "docs/integrations.md"):
        assert not files.search(path), path
