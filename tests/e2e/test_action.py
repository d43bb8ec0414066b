"""The composite GitHub Action (``action.yml``), its metadata checked and its steps run.

``run_action`` plays the part of the runner for a composite action: it fills in the
inputs (defaults included), runs each step's script as GitHub does (``bash --noprofile
--norc -eo pipefail FILE``) with its ``env`` and ``working-directory``, collects
``GITHUB_OUTPUT`` and ``GITHUB_PATH``, stops at the first failing step and computes the
action's outputs. The only expressions it evaluates are plain references
(``inputs.x``, ``steps.id.outputs.y``, ``github.event...``): the action must use no
other kind, which keeps the scripts free of pasted-in input.

Here ``reconciler`` and ``gh`` are fakes that record what they were given, so exit codes,
arguments and the sticky comment are checked in milliseconds; tests/e2e/test_dist.py
runs the same steps with the real wheel against the emulator, the install step included.
"""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
DISTRIBUTION = "workos-pipes-reconciler"
REPOSITORY = "acme/integrations"
PULL_REQUEST = {"pull_request": {"number": 7}}
TOKEN = "ghs_test-token-0001"
BOT = "github-actions[bot]"
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_REFERENCE = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")
GITHUB_EXPRESSIONS = {"github.event.pull_request.number", "github.event_name", "github.sha"}
"""The only ``github`` context the action's steps read."""
_NOT_ON_A_RUNNER = {"GH_TOKEN", "GITHUB_TOKEN", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"}
"""Variables of this process a runner's step would not have (a token, this checkout)."""


def load_action() -> dict[str, Any]:
    action: dict[str, Any] = yaml.safe_load(ACTION.read_text(encoding="utf-8"))
    return action


def _lookup(expression: str, context: Mapping[str, Any]) -> str:
    assert _REFERENCE.fullmatch(expression), f"not a plain reference: ${{{{ {expression} }}}}"
    value: Any = context
    for part in expression.split("."):
        value = value.get(part) if isinstance(value, Mapping) else None
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def substitute(text: str, context: Mapping[str, Any]) -> str:
    """``text`` with each ``${{ reference }}`` replaced by its value ('' when missing)."""
    return _EXPRESSION.sub(lambda match: _lookup(match.group(1), context), text)


@dataclass
class ActionRun:
    outputs: dict[str, str]
    failed: str | None
    """The name of the step that failed, if one did."""
    log: str
    path: list[str] = field(default_factory=list)
    """What the steps added to ``GITHUB_PATH``."""


def _outputs(path: Path) -> dict[str, str]:
    """A ``GITHUB_OUTPUT`` file: ``name=value`` lines and ``name<<DELIMITER`` blocks."""
    outputs: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, _, delimiter = line.partition("<<")
            block: list[str] = []
            for value_line in lines:
                if value_line == delimiter:
                    break
                block.append(value_line)
            outputs[name] = "\n".join(block)
        else:
            name, _, value = line.partition("=")
            outputs[name] = value
    return outputs


def run_action(
    inputs: Mapping[str, str],
    *,
    workspace: Path,
    runner_temp: Path,
    env: Mapping[str, str] | None = None,
    event: Mapping[str, Any] | None = None,
    installed: Mapping[str, str] | None = None,
    timeout: float = 300,
    event_name: str | None = None,
    sha: str = "f" * 40,
) -> ActionRun:
    """Run ``action.yml``'s steps in ``workspace`` as a runner would.

    ``env`` is the job's environment (added to this process's). With ``installed``, the
    install step is not run and these are its outputs (``bin``, ``version``).
    ``event_name`` defaults to ``pull_request`` when ``event`` is one.
    """
    action = load_action()
    unknown = set(inputs) - set(action["inputs"])
    assert not unknown, f"inputs action.yml does not declare: {sorted(unknown)}"
    if event_name is None:
        event_name = "pull_request" if "pull_request" in (event or {}) else ""
    github = {
        "token": TOKEN,
        "event": dict(event or {}),
        "repository": REPOSITORY,
        "event_name": event_name,
        "sha": sha,
    }
    values = {
        name: substitute(str(spec.get("default", "")), {"github": github})
        for name, spec in action["inputs"].items()
    }
    values.update(inputs)
    steps: dict[str, dict[str, dict[str, str]]] = {}
    context = {"inputs": values, "github": github, "steps": steps}
    files = runner_temp / "_runner"
    files.mkdir(parents=True, exist_ok=True)
    path_entries: list[str] = []
    base = {
        **{name: value for name, value in os.environ.items() if name not in _NOT_ON_A_RUNNER},
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTION_PATH": str(ROOT),
        "GITHUB_REPOSITORY": REPOSITORY,
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_STEP_SUMMARY": str(files / "summary.md"),
        "RUNNER_TEMP": str(runner_temp),
        **(env or {}),
    }
    log: list[str] = []
    failed: str | None = None
    for index, step in enumerate(action["runs"]["steps"]):
        if installed is not None and step.get("id") == "install":
            steps["install"] = {"outputs": dict(installed)}
            continue
        output, added_path, script = (files / f"{index}.{name}" for name in ("out", "path", "sh"))
        for file in (output, added_path):
            file.write_text("", encoding="utf-8")
        script.write_text(step["run"], encoding="utf-8")
        step_env = {key: substitute(str(value), context) for key, value in step["env"].items()}
        directory = substitute(str(step.get("working-directory", ".")), context)
        search_path = os.pathsep.join([*reversed(path_entries), base["PATH"]])
        process = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=workspace / directory,
            env={**base, "PATH": search_path, **step_env}
            | {"GITHUB_OUTPUT": str(output), "GITHUB_PATH": str(added_path)},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        log.append(f"--- {step['name']} (exit {process.returncode})\n")
        log.append(process.stdout + process.stderr)
        path_entries.extend(added_path.read_text(encoding="utf-8").splitlines())
        if "id" in step:
            steps[step["id"]] = {"outputs": _outputs(output)}
        if process.returncode != 0:
            failed = step["name"]
            break
    outputs = {
        name: substitute(str(spec["value"]), context) for name, spec in action["outputs"].items()
    }
    return ActionRun(outputs=outputs, failed=failed, log="".join(log), path=path_entries)


# --- fakes: reconciler and gh ----------------------------------------------------------

_FAKE_RECONCILER = """
import json, os, sys
arguments = sys.argv[1:]
with open(os.environ["FAKE_RECONCILER_LOG"], "a", encoding="utf-8") as log:
    seen = {name: os.environ.get(name) for name in ("GH_TOKEN", "GITHUB_TOKEN", "WORKOS_API_KEY")}
    log.write(json.dumps({"arguments": arguments, "cwd": os.getcwd(), "env": seen}) + "\\n")
if "--out" in arguments:
    with open(arguments[arguments.index("--out") + 1], "w", encoding="utf-8") as plan:
        plan.write("{}")
sys.stdout.write(os.environ.get("FAKE_REPORT", ""))
sys.exit(int(os.environ.get("FAKE_EXIT", "0")))
"""

_FAKE_GH = """
import json, os, re, sys
state_file = os.environ["FAKE_GH_STATE"]
with open(state_file, encoding="utf-8") as handle:
    state = json.load(handle)
arguments = sys.argv[1:]
assert arguments[0] == "api", arguments
method, body, path, paginate = "GET", None, None, False
rest = iter(arguments[1:])
for argument in rest:
    if argument == "--method":
        method = next(rest)
    elif argument == "--input":
        with open(next(rest), encoding="utf-8") as handle:
            body = json.load(handle)
    elif argument == "--paginate":
        paginate = True
    else:
        assert path is None and not argument.startswith("-"), arguments
        path = argument
state["calls"].append({
    "method": method, "path": path, "paginate": paginate,
    "token": os.environ.get("GH_TOKEN"), "host": os.environ.get("GH_HOST"),
})
repository = os.environ["GITHUB_REPOSITORY"]
listing = re.fullmatch(rf"repos/{repository}/issues/(\\d+)/comments(\\?per_page=100)?", path)
single = re.fullmatch(rf"repos/{repository}/issues/comments/(\\d+)", path)
pulls = re.fullmatch(rf"repos/{repository}/commits/([0-9a-f]+)/pulls", path)
def url(comment):
    return f"https://github.com/{repository}/pull/{comment['issue']}#issuecomment-{comment['id']}"
if method == "GET" and pulls:
    sys.stdout.write(json.dumps(state.get("pulls", {}).get(pulls.group(1), [])))
elif method == "GET" and listing:
    comments = [c for c in state["comments"] if c["issue"] == int(listing.group(1))]
    pages = [comments[i:i + 2] for i in range(0, len(comments), 2)] or [[]]
    # gh api --paginate prints one array per page, one right after the other
    sys.stdout.write("".join(json.dumps(page) for page in pages) + "\\n")
elif method == "POST" and listing:
    state["next_id"] += 1
    comment = {"id": state["next_id"], "issue": int(listing.group(1)),
               "user": {"login": os.environ.get("FAKE_GH_LOGIN", "github-actions[bot]")},
               "body": body["body"]}
    state["comments"].append(comment)
    sys.stdout.write(json.dumps({**comment, "html_url": url(comment)}))
elif method == "PATCH" and single:
    (comment,) = [c for c in state["comments"] if c["id"] == int(single.group(1))]
    comment["body"] = body["body"]
    sys.stdout.write(json.dumps({**comment, "html_url": url(comment)}))
else:
    sys.exit(f"fake gh: unexpected {method} {path}")
with open(state_file, "w", encoding="utf-8") as handle:
    json.dump(state, handle)
"""


def _executable(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@dataclass
class Fakes:
    """A fake ``gh`` on ``PATH`` and, in ``bin``, a fake ``reconciler`` beside a ``python``."""

    bin: Path
    gh_state: Path
    reconciler_log: Path

    def env(self, **more: str) -> dict[str, str]:
        return {
            "PATH": f"{self.bin.parent / 'gh'}{os.pathsep}{os.environ['PATH']}",
            "FAKE_GH_STATE": str(self.gh_state),
            "FAKE_RECONCILER_LOG": str(self.reconciler_log),
            **more,
        }

    def installed(self) -> dict[str, str]:
        return {"bin": str(self.bin), "version": "0.1.0"}

    def calls(self) -> list[dict[str, Any]]:
        """Each ``reconciler`` run: its arguments, directory and a few variables."""
        if not self.reconciler_log.exists():
            return []
        lines = self.reconciler_log.read_text(encoding="utf-8").splitlines()
        return [json.loads(line) for line in lines]

    def arguments(self) -> list[list[str]]:
        return [call["arguments"] for call in self.calls()]

    def github(self) -> dict[str, Any]:
        state: dict[str, Any] = json.loads(self.gh_state.read_text(encoding="utf-8"))
        return state

    def add_merged_pull(self, sha: str, number: int = 7) -> None:
        """The pull request ``number`` merged as commit ``sha`` (for a push's comment)."""
        state = self.github()
        pulls = state.setdefault("pulls", {})
        pulls[sha] = [{"number": 99, "merge_commit_sha": "0" * 40}]  # listed, not merged as it
        pulls[sha].append({"number": number, "merge_commit_sha": sha})
        self.gh_state.write_text(json.dumps(state), encoding="utf-8")

    def add_comment(self, login: str, body: str, issue: int = 7) -> None:
        state = self.github()
        state["next_id"] += 1
        state["comments"].append(
            {"id": state["next_id"], "issue": issue, "user": {"login": login}, "body": body}
        )
        self.gh_state.write_text(json.dumps(state), encoding="utf-8")


def make_fakes(directory: Path) -> Fakes:
    tool, gh = directory / "tool", directory / "gh"
    tool.mkdir(parents=True)
    gh.mkdir()
    shebang = f"#!{sys.executable}\n"
    _executable(tool / "reconciler", shebang + _FAKE_RECONCILER)
    _executable(tool / "python", f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    _executable(gh / "gh", shebang + _FAKE_GH)
    state = directory / "gh-state.json"
    state.write_text(json.dumps({"comments": [], "calls": [], "next_id": 100}), encoding="utf-8")
    return Fakes(bin=tool, gh_state=state, reconciler_log=directory / "reconciler.jsonl")


@pytest.fixture
def fakes(tmp_path: Path) -> Fakes:
    return make_fakes(tmp_path / "fakes")


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


def fake_run(
    fakes: Fakes,
    workspace: Path,
    inputs: Mapping[str, str],
    *,
    exit_code: int = 0,
    report: str = "",
    event: Mapping[str, Any] | None = None,
    **env: str,
) -> ActionRun:
    return run_action(
        inputs,
        workspace=workspace,
        runner_temp=workspace.parent / "runner-temp",
        env=fakes.env(FAKE_EXIT=str(exit_code), FAKE_REPORT=report, **env),
        event=event,
        installed=fakes.installed(),
        timeout=60,
    )


# --- the metadata --------------------------------------------------------------------------


def _expressions(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield from (match.group(1) for match in _EXPRESSION.finditer(value))
    elif isinstance(value, dict):
        for item in value.values():
            yield from _expressions(item)
    elif isinstance(value, list):
        for item in value:
            yield from _expressions(item)


def _written_outputs(script: str) -> set[str]:
    """The outputs a step's script writes: ``echo "name=..."`` lines sent to GITHUB_OUTPUT."""
    return set(re.findall(r'echo "([a-z][a-z0-9-]*)=', script))


def test_action_metadata() -> None:
    action = load_action()
    assert set(action) <= {"name", "author", "description", "branding", "inputs", "outputs", "runs"}
    assert action["name"] and action["description"]
    assert action["runs"]["using"] == "composite"
    inputs, outputs, steps = action["inputs"], action["outputs"], action["runs"]["steps"]
    expected_inputs = {"command", "manifests", "environment", "policy", "format", "args"}
    expected_inputs |= {"plan-file", "comment", "github-token", "version", "source"}
    assert expected_inputs <= set(inputs)
    assert {"exit-code", "has-changes", "plan-path"} <= set(outputs)
    for name, spec in inputs.items():
        assert re.fullmatch(r"[a-z][a-z0-9-]*", name), name
        assert spec["description"].strip(), name
        assert spec.get("required", False) is False, f"{name}: every input has a default"
        assert isinstance(spec.get("default"), str), f"{name}: a string default"
    for name, spec in outputs.items():
        assert spec["description"].strip() and spec["value"], name
    assert inputs["command"]["default"] == "plan"
    assert inputs["comment"]["default"] == "false"
    assert inputs["fail-on-changes"]["default"] == "false"
    assert inputs["github-token"]["default"] == "${{ github.token }}"

    used: set[str] = set()
    written: dict[str, set[str]] = {}
    for step in steps:
        assert step["shell"] == "bash" and step["run"].strip(), step["name"]
        assert "${{" not in step["run"], f"{step['name']}: inputs reach scripts through env"
        assert set(step) <= {"name", "id", "shell", "run", "env", "working-directory"}
        for expression in _expressions({k: v for k, v in step.items() if k != "run"}):
            assert _REFERENCE.fullmatch(expression), expression
            kind, _, rest = expression.partition(".")
            if kind == "inputs":
                assert rest in inputs, f"{step['name']}: undeclared input {rest}"
                used.add(rest)
            elif kind == "steps":
                step_id, _, output = rest.partition(".outputs.")
                assert output in written.get(step_id, set()), f"{step['name']}: {expression}"
            else:
                assert expression in GITHUB_EXPRESSIONS, expression
        if "id" in step:
            written[step["id"]] = _written_outputs(step["run"])
    unused = set(inputs) - used - {"github-token"}
    assert not unused, f"inputs no step reads: {sorted(unused)}"
    for name, spec in outputs.items():
        (expression,) = _expressions(spec["value"])
        step_id, _, output = expression.removeprefix("steps.").partition(".outputs.")
        assert output in written.get(step_id, set()), f"output {name}: {expression}"


def test_only_the_comment_step_gets_a_token() -> None:
    steps = load_action()["runs"]["steps"]
    with_token = [
        step["name"]
        for step in steps
        if any("token" in str(value) for value in step.get("env", {}).values())
    ]
    assert with_token == ["Comment on the pull request"]
    (comment,) = [step for step in steps if step.get("id") == "comment"]
    assert comment["env"]["GH_TOKEN"] == "${{ inputs.github-token }}"
    assert not any(name in step.get("env", {}) for step in steps for name in ("GITHUB_TOKEN",))


def test_the_action_installs_our_distribution() -> None:
    (install,) = [step for step in load_action()["runs"]["steps"] if step.get("id") == "install"]
    script = install["run"]
    assert f'"{DISTRIBUTION}==$ACTION_VERSION"' in script.replace("$dist", DISTRIBUTION)
    assert 'packages_distributions().get("reconciler", [])' in script
    assert f'["{DISTRIBUTION}"]' in script
    assert "pip install" in script and "reconciler[" not in script
    assert re.search(r"pip install [^\n]*reconciler\b", script) is None, "never the bare name"


# --- runs, with the fakes -----------------------------------------------------------------


def test_plan_arguments_and_outputs(fakes: Fakes, workspace: Path) -> None:
    runner_temp = workspace.parent / "runner-temp"
    run = fake_run(
        fakes,
        workspace,
        {
            "manifests": "integrations/base\n  integrations/production ",
            "environment": "production",
            "policy": ".github/reconciler-policy.yaml",
            "plan-file": "plan.json",
            "args": "--target crm-* --target $HOME",
        },
        exit_code=2,
        report="Plan: 1 to create.\n",
        WORKOS_API_KEY="sk_test_key",
    )
    assert run.failed is None, run.log
    (call,) = fakes.calls()
    assert call["arguments"] == [
        "plan",
        *("-f", "integrations/base", "-f", "integrations/production"),
        *("--policy", ".github/reconciler-policy.yaml"),
        *("--environment", "production", "--format", "text"),
        *("--out", str(runner_temp / "plan.json"), "--detailed-exitcode"),
        *("--target", "crm-*", "--target", "$HOME"),
    ], "no globbing, no expansion"
    assert call["cwd"] == str(workspace)
    assert call["env"] == {"GH_TOKEN": None, "GITHUB_TOKEN": None, "WORKOS_API_KEY": "sk_test_key"}
    assert run.outputs["exit-code"] == "2"
    assert run.outputs["has-changes"] == "true"
    assert run.outputs["plan-path"] == str(runner_temp / "plan.json"), "never in the checkout"
    assert Path(run.outputs["report-path"]).read_text() == "Plan: 1 to create.\n"
    assert Path(run.outputs["report-path"]).is_relative_to(runner_temp)
    assert run.outputs["report-path"].endswith(".txt")
    assert run.outputs["version"] == "0.1.0"
    assert "Plan: 1 to create." in run.log, "the report is in the log too"
    assert not fakes.github()["calls"], "no comment unless asked"


@pytest.mark.parametrize(
    ("command", "code", "fail_on_changes", "failed", "has_changes"),
    [
        ("plan", 0, "false", False, "false"),
        ("plan", 2, "false", False, "true"),
        ("plan", 2, "true", True, "true"),
        ("plan", 0, "true", False, "false"),
        ("plan", 1, "false", True, ""),
        ("plan", 3, "false", True, ""),
        ("apply", 0, "false", False, ""),
        ("apply", 2, "false", True, ""),
        ("apply", 3, "false", True, ""),
        ("validate", 1, "false", True, ""),
    ],
)
def test_exit_codes(
    fakes: Fakes,
    workspace: Path,
    command: str,
    code: int,
    fail_on_changes: str,
    failed: bool,
    has_changes: str,
) -> None:
    inputs = {"command": command, "fail-on-changes": fail_on_changes}
    run = fake_run(fakes, workspace, inputs, exit_code=code)
    assert run.outputs["exit-code"] == str(code)
    assert run.outputs["has-changes"] == has_changes
    assert run.failed == ("Exit status" if failed else None), run.log
    if failed:
        assert "::error title=reconciler::" in run.log


def test_apply_and_validate_arguments(fakes: Fakes, workspace: Path) -> None:
    saved = workspace.parent / "runner-temp" / "plan.json"
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.write_text("{}")
    apply = fake_run(
        fakes,
        workspace,
        {"command": "apply", "manifests": "m.yaml", "plan-file": "plan.json", "format": "json"},
    )
    assert apply.failed is None, apply.log
    assert apply.outputs["plan-path"] == str(saved)
    assert apply.outputs["report-path"].endswith(".json")
    now = fake_run(fakes, workspace, {"command": "apply", "environment": "staging"})
    assert now.outputs["plan-path"] == ""
    validate = fake_run(
        fakes,
        workspace,
        {"command": "validate", "manifests": "m.yaml", "environment": "x", "policy": "p.yaml"},
    )
    assert validate.failed is None, validate.log
    assert validate.outputs["plan-path"] == ""
    assert fakes.arguments() == [
        ["apply", "-f", "m.yaml", "--format", "json", "--plan", str(saved), "--yes"],
        ["apply", "--environment", "staging", "--format", "text", "--yes"],
        ["validate", "-f", "m.yaml", "--policy", "p.yaml"],
    ]


def test_plan_file_defaults_to_the_runner_temp(fakes: Fakes, workspace: Path) -> None:
    run = fake_run(fakes, workspace, {"working-directory": "."})
    (arguments,) = fakes.arguments()
    out = Path(arguments[arguments.index("--out") + 1])
    assert out.is_relative_to(workspace.parent / "runner-temp")
    assert run.outputs["plan-path"] == str(out)


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"command": "destroy"}, "command must be plan, apply or validate, not 'destroy'"),
        ({"format": "yaml"}, "format must be text, markdown or json, not 'yaml'"),
        ({"comment": "yes"}, "comment must be true or false, not 'yes'"),
        ({"fail-on-changes": "1"}, "fail-on-changes must be true or false, not '1'"),
        ({"comment": "true", "format": "text"}, "comment: true needs format: markdown"),
    ],
)
def test_bad_inputs_fail_before_running(
    fakes: Fakes, workspace: Path, inputs: dict[str, str], message: str
) -> None:
    run = fake_run(fakes, workspace, inputs)
    assert run.failed == "Run reconciler"
    assert f"::error title=reconciler action::{message}" in run.log
    assert fakes.calls() == []


def _marker(key: str = "plan") -> str:
    return f"<!-- {DISTRIBUTION}:{key} -->"


def test_the_sticky_comment(fakes: Fakes, workspace: Path) -> None:
    fakes.add_comment("someone", _marker() + "\nplanted by someone else")
    fakes.add_comment(BOT, "an unrelated comment of the bot")
    fakes.add_comment(BOT, _marker("staging") + "\nanother environment's plan")
    fakes.add_comment(BOT, _marker() + "\nthe plan", issue=8)
    inputs = {"comment": "true"}

    first = fake_run(
        fakes, workspace, inputs, exit_code=2, report="## plan 1\n", event=PULL_REQUEST
    )
    assert first.failed is None, first.log
    assert fakes.arguments()[0][fakes.arguments()[0].index("--format") + 1] == "markdown"
    ours = [c for c in fakes.github()["comments"] if c["body"].startswith(_marker() + "\n")]
    posted = [c for c in ours if c["user"]["login"] == BOT and c["issue"] == 7]
    assert len(posted) == 1 and posted[0]["body"] == _marker() + "\n## plan 1\n"
    assert first.outputs["comment-url"].endswith(f"/pull/7#issuecomment-{posted[0]['id']}")

    second = fake_run(fakes, workspace, inputs, report="## plan 2\n", event=PULL_REQUEST)
    assert second.outputs["comment-url"] == first.outputs["comment-url"], "edited, not added"
    comments = {c["id"]: c for c in fakes.github()["comments"]}
    assert comments[posted[0]["id"]]["body"] == _marker() + "\n## plan 2\n"
    assert len(comments) == 5
    assert [c["body"].splitlines()[-1] for c in comments.values()] == [
        "planted by someone else",
        "an unrelated comment of the bot",
        "another environment's plan",
        "the plan",
        "## plan 2",
    ]
    calls = fakes.github()["calls"]
    assert [call["method"] for call in calls] == ["GET", "POST", "GET", "PATCH"]
    assert all(call["token"] == TOKEN and call["host"] == "github.com" for call in calls)
    assert calls[0]["paginate"] is True
    assert all(call["env"]["GH_TOKEN"] is None for call in fakes.calls())


def test_a_failed_plan_replaces_the_comment_with_a_pointer_to_the_log(
    fakes: Fakes, workspace: Path
) -> None:
    inputs = {"comment": "true", "comment-key": "prod_1.x"}
    fake_run(fakes, workspace, inputs, exit_code=2, report="## plan\n", event=PULL_REQUEST)
    failed = fake_run(fakes, workspace, inputs, exit_code=1, event=PULL_REQUEST)
    assert failed.failed == "Exit status"
    assert failed.outputs["exit-code"] == "1"
    (comment,) = fakes.github()["comments"]
    assert comment["body"] == (
        f"{_marker('prod_1.x')}\n### reconciler plan failed\n\n"
        f"Exit code 1: see [the log](https://github.com/{REPOSITORY}/actions/runs/4242).\n"
    )


def test_comments_only_on_a_pull_request(fakes: Fakes, workspace: Path) -> None:
    run = fake_run(fakes, workspace, {"comment": "true"}, report="## plan\n", event={})
    assert run.failed is None
    assert "::notice title=reconciler action::not a pull request: no comment" in run.log
    assert fakes.github()["calls"] == []
    assert run.outputs["comment-url"] == ""


def test_a_comment_key_cannot_break_out_of_the_marker(fakes: Fakes, workspace: Path) -> None:
    inputs = {"comment": "true", "comment-key": "x --> <img src=x>"}
    run = fake_run(fakes, workspace, inputs, report="## plan\n", event=PULL_REQUEST)
    assert run.failed == "Comment on the pull request"
    assert fakes.github()["calls"] == []
