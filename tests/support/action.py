"""Action test support: a runner for the composite GitHub Action (``action.yml``), and fakes.

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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
ACTION = ROOT / "action.yml"
DISTRIBUTION = "workos-pipes-reconciler"
REPOSITORY = "acme/integrations"
PULL_REQUEST = {"pull_request": {"number": 7}}
TOKEN = "ghs_test-token-0001"
_EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
_REFERENCE = re.compile(r"[A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*")
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
