"""The CI building blocks parse, and every ``reconciler`` command in them exists.

Each ``reconciler ...`` invocation in a workflow's shell steps (or the
pre-commit hook's entry) is checked against the click CLI: the subcommand
must exist, and so must each option, except those in ``EXPECTED_SOON``
(being built now) while they are still missing. A step that uses the GitHub
Action (``action.yml``) is run with a fake ``reconciler`` (tests/e2e/test_action.py)
to learn the command line it builds, which is checked the same way.

The examples install the tool by its distribution name, pinned, and use actions
that run on node24 (actionlint checks them too: tests/e2e/test_actionlint.py).
The trust model of the examples is checked in tests/e2e/test_ci_examples_policy.py
and tests/e2e/test_ci_examples_trust.py.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest

from reconciler.cli import cli
from tests.support.action import DISTRIBUTION
from tests.support.ci_examples import (
    ACTION_USES,
    EXAMPLES,
    GITHUB,
    GITLAB,
    ROOT,
    _action_inputs,
    _action_runs,
    _load,
    _uses_action,
    reconciler_commands,
)

HOOKS = ROOT / ".pre-commit-hooks.yaml"
EXPECTED_SOON = {"--out", "--plan", "--environment"}
EXPECTED_SOON_VALUES = {("--format", "markdown")}
_SCRIPT_KEYS = ("before_script", "script", "after_script")
NODE24_MAJORS = {
    "actions/checkout": 5,
    "actions/setup-python": 6,
    "actions/upload-artifact": 6,
    "actions/download-artifact": 6,
}
"""The first major version of each action that runs on node24 (node20 left the runners)."""


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


def test_github_actions_workflow(tmp_path: Path) -> None:
    """Pull requests planned for review; on merge a plan saved as an artifact, applied by a
    job behind the protected environment with `apply --plan`."""
    workflow = _load(GITHUB)
    assert set(workflow["on"]) >= {"pull_request", "push"}
    assert workflow["on"]["push"]["branches"] == ["main"]
    jobs = workflow["jobs"]
    assert set(jobs) == {"plan", "plan-production", "apply", "drift"}
    plan_job, saving, apply_job = jobs["plan"], jobs["plan-production"], jobs["apply"]
    assert "pull_request" in plan_job["if"]
    assert plan_job["permissions"]["pull-requests"] == "write"
    assert plan_job["concurrency"] == {
        "group": "integrations-plan-${{ github.event.pull_request.number }}",
        "cancel-in-progress": True,
    }, "one plan per pull request at a time"
    (commented,) = [step for step in plan_job["steps"] if _uses_action(step)]
    assert commented["with"]["comment"] is True, "the plan as a sticky pull-request comment"
    assert ".trusted-base/" in commented["with"]["baseline"], "the base branch's manifests"
    assert "no-secrets" not in commented["with"], "the action's default: --no-secrets on PRs"

    assert saving["environment"] == "production-plan"
    assert "refs/heads/main" in saving["if"] and "push" in saving["if"]
    assert saving["outputs"] == {"has-changes": "${{ steps.plan.outputs.has-changes }}"}
    (upload,) = [s for s in saving["steps"] if "upload-artifact" in s.get("uses", "")]
    assert upload["with"]["path"] == "${{ steps.plan.outputs.plan-path }}"
    assert upload["with"]["name"] == "plan-${{ github.sha }}"

    assert apply_job["environment"] == "production"
    assert apply_job["needs"] == "plan-production"
    assert "needs.plan-production.outputs.has-changes == 'true'" in apply_job["if"]
    assert "refs/heads/main" in apply_job["if"]
    assert apply_job["env"]["WORKOS_API_KEY"] == "${{ secrets.WORKOS_API_KEY }}"
    assert all(
        "secrets." in value
        for key, value in apply_job["env"].items()
        if key.endswith("SECRET") or key.endswith("API_KEY")
    )
    (download,) = [s for s in apply_job["steps"] if "download-artifact" in s.get("uses", "")]
    assert download["with"]["name"] == upload["with"]["name"], "the very plan saved"
    (applying,) = [step for step in apply_job["steps"] if _uses_action(step)]
    directory = download["with"]["path"].removeprefix("${{ runner.temp }}/")
    assert applying["with"]["plan-file"] == f"{directory}/plan.json"
    assert applying["with"]["comment"] is True, "the results on the merged pull request"
    assert apply_job["permissions"]["pull-requests"] == "write"
    for job in jobs.values():
        assert not any("gh " in step.get("run", "") for step in job["steps"]), "the action's job"
        assert any(_uses_action(step) for step in job["steps"])

    runs = _action_runs(workflow, tmp_path)
    assert {name for name, _ in runs} == set(jobs)
    commands = [
        args for script in _github_scripts(workflow) for args in reconciler_commands(script)
    ] + [run["arguments"] for _, run in runs]
    for arguments in commands:
        _check(arguments)
    plans = [args for args in commands if args[0] == "plan"]
    assert any({"--format", "markdown", "--out", "--baseline"} <= set(args) for args in plans)
    assert any("--detailed-exitcode" in args for args in plans)
    applies = [args for args in commands if args[0] == "apply"]
    assert applies and all({"--plan", "--yes"} <= set(args) for args in applies)


def test_gitlab_ci_pipeline() -> None:
    pipeline = _load(GITLAB)
    assert pipeline["stages"] == ["plan", "apply"]
    plan_job, saving, apply_job = pipeline["plan"], pipeline["plan-production"], pipeline["apply"]
    assert "merge_request_event" in plan_job["rules"][0]["if"]
    assert plan_job["interruptible"] is True, "one plan per merge request at a time"
    assert plan_job["allow_failure"] == {"exit_codes": [2]}
    assert "plan.json" in plan_job["artifacts"]["paths"]
    assert saving["environment"]["name"] == "production-plan"
    assert "plan.json" in saving["artifacts"]["paths"]
    assert apply_job["needs"] == ["plan-production"], "the plan it applies is that job's"
    assert apply_job["environment"]["name"] == "production"
    assert "CI_DEFAULT_BRANCH" in apply_job["rules"][0]["if"]
    script = "\n".join(plan_job["script"])
    assert "Plans of forks are not run" in script
    assert "CI_MERGE_REQUEST_SOURCE_PROJECT_ID" in script

    commands = [
        args for script in _gitlab_scripts(pipeline) for args in reconciler_commands(script)
    ]
    for arguments in commands:
        _check(arguments)
    plans = [args for args in commands if args[0] == "plan"]
    assert any(
        {"--format", "markdown", "--out", "--detailed-exitcode", "--no-secrets", "--baseline"}
        <= set(args)
        for args in plans
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


# --- what the examples install and use ------------------------------------------------

_PIP_INSTALL = re.compile(r"pip install\s+(\"[^\"]+\"|'[^']+'|\S+)")


def test_the_examples_install_our_distribution_pinned(tmp_path: Path) -> None:
    """Never the bare name ``reconciler`` (an unrelated project on the public index): the
    distribution workos-pipes-reconciler, at RECONCILER_VERSION, from the release's tag
    until it is published."""
    workflow, pipeline = _load(GITHUB), _load(GITLAB)
    version = workflow["env"]["RECONCILER_VERSION"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert pipeline["variables"]["RECONCILER_VERSION"] == version
    tag_source = f"{DISTRIBUTION} @ git+https://github.com/your-org/reconciler@v"
    assert workflow["env"]["RECONCILER_SOURCE"] == tag_source + version
    steps = [
        (step, {**workflow["env"], **job.get("env", {})})
        for job in workflow["jobs"].values()
        for step in job["steps"]
        if _uses_action(step)
    ]
    assert len(steps) == 4
    for step, env in steps:
        inputs = _action_inputs(step, env)
        assert inputs["version"] == version, step
        assert inputs["source"] == tag_source + version, step
    installs = [
        match.group(1).strip("\"'")
        for path in sorted((EXAMPLES / "ci").iterdir())
        for line in path.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
        for match in _PIP_INSTALL.finditer(line)
    ]
    assert installs == [tag_source + "${RECONCILER_VERSION}"], installs
    assert pipeline["default"]["before_script"] == [f'pip install "{installs[0]}"']
    once_published = {
        GITHUB: "drop RECONCILER_SOURCE",
        GITLAB: f'pip install "{DISTRIBUTION}==${{RECONCILER_VERSION}}"',
    }
    for path, advice in once_published.items():
        text = " ".join(path.read_text(encoding="utf-8").split())
        assert advice in text, f"{path.name} says how to install once published"
        assert (
            "your-org is a placeholder" in text or "`your-org/reconciler` is a placeholder" in text
        )


def test_the_examples_use_node24_actions() -> None:
    """Every action the examples use is one of these, at a major version that runs on
    node24, or the reconciler's own action."""
    workflow = _load(GITHUB)
    uses = [
        step["uses"] for job in workflow["jobs"].values() for step in job["steps"] if "uses" in step
    ]
    assert uses
    for use in uses:
        if use.startswith(ACTION_USES):
            assert use == f"{ACTION_USES}v1", use
            continue
        action, _, ref = use.partition("@")
        assert action in NODE24_MAJORS, use
        assert re.fullmatch(r"v\d+", ref) and int(ref[1:]) >= NODE24_MAJORS[action], use
