"""A stand-in for GitHub's runner, at the level of a workflow's jobs.

``run_job`` runs one job of a workflow file as GitHub would for an event: the job's
``if``, then each step in order, with the ``env`` of the workflow, the job and the step,
what earlier steps wrote to ``GITHUB_ENV`` and ``GITHUB_OUTPUT``, one
``GITHUB_STEP_SUMMARY`` per job, and each step's ``if`` (a failed step skips the rest
unless their condition says ``always()``). Secrets come from the repository or, for a job
that names an environment, from that environment as well: the way a job that names none
never sees the production key.

Steps that use an action are played by what that action does here:
``actions/checkout`` copies a tree (the base branch's for a ``ref`` naming the pull
request's base, else the event's), sparse paths only if given; ``actions/setup-python``
does nothing (this Python serves); ``actions/upload-artifact`` and
``actions/download-artifact`` copy files through a store shared by the jobs of a run;
``your-org/reconciler@...`` runs ``action.yml`` through ``run_action``
(tests/support/action.py), with the real ``reconciler`` of this environment, or a fake.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.support.action import REPOSITORY, TOKEN, _outputs, run_action, substitute

ACTION_USES = "your-org/reconciler@"
_TOKEN = re.compile(r"\s*(?:'((?:[^']|'')*)'|(==|!=|&&|\|\||!|\(|\))|([A-Za-z_][\w.-]*)(\(\))?)")
_STATUS = {"always", "success", "failure", "cancelled"}


def evaluate(condition: str, context: Mapping[str, Any], *, failed: bool) -> bool:
    """A step's or job's ``if``: string literals, plain references, ``==``, ``!=``,
    ``&&``, ``||``, ``!``, parentheses and the status functions; without a status
    function, ``success() && (...)`` as on GitHub."""
    text = condition.strip()
    if text.startswith("${{") and text.endswith("}}"):
        text = text[3:-2]
    python: list[str] = []
    status_used = False
    at = 0
    while at < len(text.rstrip()):
        match = _TOKEN.match(text, at)
        assert match and match.end() > at, f"cannot read {text[at:]!r} in {condition!r}"
        literal, operator, name, call = match.groups()
        if literal is not None:
            python.append(repr(literal.replace("''", "'")))
        elif operator is not None:
            python.append({"&&": " and ", "||": " or ", "!": " not "}.get(operator, operator))
        elif call:
            assert name in _STATUS, f"unknown function {name}() in {condition!r}"
            status_used = True
            python.append(repr({"always": True, "success": not failed}.get(name, failed)))
        else:
            python.append(repr(substitute(f"${{{{ {name} }}}}", context)))
        at = match.end()
    value = bool(eval(" ".join(python), {"__builtins__": {}}, {}))  # only literals and operators
    return value if status_used else value and not failed


@dataclass
class Run:
    """One workflow run's shared state: where things live, and the artifacts."""

    root: Path
    trees: Mapping[str, Path]
    """``head``: the tree the event checks out; ``base``: the pull request's base."""
    secrets: Mapping[str | None, Mapping[str, str]]
    """By environment name; ``None``: the repository's secrets."""
    variables: Mapping[str, str]
    machine_env: Mapping[str, str]
    """What every step gets from the machine (the API's address, the fake ``gh`` on PATH)."""
    installed: Mapping[str, str]
    """The action's install step outputs (``bin``, ``version``): the tool to run."""

    @property
    def artifacts(self) -> Path:
        return self.root / "artifacts"


@dataclass
class JobRun:
    name: str
    ran: bool
    failed: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)
    steps: dict[str, dict[str, Any]] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    summary: str = ""
    log: str = ""
    environment: str | None = None


def run_job(
    workflow: Mapping[str, Any],
    name: str,
    run: Run,
    *,
    event_name: str,
    event: Mapping[str, Any],
    ref: str,
    sha: str,
    needs: Mapping[str, JobRun] | None = None,
) -> JobRun:
    """Run job ``name`` of ``workflow`` for an event in a fresh workspace."""
    job = workflow["jobs"][name]
    work = run.root / name
    workspace, temp = work / "workspace", work / "runner-temp"
    workspace.mkdir(parents=True)
    temp.mkdir()
    github = {
        "event_name": event_name,
        "event": dict(event),
        "ref": ref,
        "sha": sha,
        "repository": REPOSITORY,
        "token": TOKEN,
    }
    environment = job.get("environment")
    secrets = {**run.secrets.get(None, {}), **run.secrets.get(environment, {})}
    needs_context = {n: {"outputs": job_run.outputs} for n, job_run in (needs or {}).items()}
    env: dict[str, str] = {}
    steps: dict[str, dict[str, Any]] = {}
    context: dict[str, Any] = {
        "github": github,
        "secrets": secrets,
        "vars": run.variables,
        "needs": needs_context,
        "runner": {"temp": str(temp)},
        "env": env,
        "steps": steps,
    }
    result = JobRun(name=name, ran=False, environment=environment)
    if "if" in job and not evaluate(str(job["if"]), context, failed=False):
        return result
    result.ran = True
    for scope in (workflow.get("env", {}), job.get("env", {})):
        env.update({key: substitute(str(value), context) for key, value in scope.items()})
    summary = temp / "_summary.md"
    summary.touch()
    log: list[str] = []
    for index, step in enumerate(job["steps"]):
        label = step.get("name") or step.get("uses") or f"step {index}"
        if not evaluate(str(step.get("if", "success()")), context, failed=bool(result.failed)):
            result.skipped.append(label)
            continue
        step_env = {
            **env,
            **{key: substitute(str(value), context) for key, value in step.get("env", {}).items()},
        }
        outputs, ok = _step(step, step_env, context, run, workspace, temp, summary, log)
        if "id" in step:
            steps[step["id"]] = {"outputs": outputs}
        if not ok and result.failed is None:
            result.failed = label
    result.steps = steps
    result.outputs = {
        key: substitute(str(value), context) for key, value in job.get("outputs", {}).items()
    }
    result.summary = summary.read_text(encoding="utf-8")
    result.log = "".join(log)
    return result


def _step(
    step: Mapping[str, Any],
    step_env: dict[str, str],
    context: dict[str, Any],
    run: Run,
    workspace: Path,
    temp: Path,
    summary: Path,
    log: list[str],
) -> tuple[dict[str, str], bool]:
    """Run one step; its outputs and whether it succeeded."""
    uses = str(step.get("uses", ""))
    with_ = {
        key: substitute(str(value).lower() if isinstance(value, bool) else str(value), context)
        for key, value in step.get("with", {}).items()
    }
    if uses.startswith("actions/checkout@"):
        tree = run.trees[
            "base" if "pull_request.base" in str(step["with"].get("ref", "")) else "head"
        ]
        target = workspace / with_.get("path", ".")
        sparse = with_.get("sparse-checkout", "").split()
        for part in sparse or [p.name for p in tree.iterdir()]:
            source = tree / part
            if source.is_dir():
                shutil.copytree(source, target / part, dirs_exist_ok=True)
            elif source.is_file():
                (target / part).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, target / part)
        return {}, True
    if uses.startswith("actions/setup-python@"):
        return {}, True
    if uses.startswith("actions/upload-artifact@"):
        source = Path(with_["path"]) if with_["path"] else workspace / "missing"
        if not source.is_file():
            log.append(f"upload-artifact: no file at {with_['path']!r}\n")
            return {}, with_.get("if-no-files-found") != "error"
        store = run.artifacts / with_["name"]
        store.mkdir(parents=True)
        shutil.copy(source, store / source.name)
        return {}, True
    if uses.startswith("actions/download-artifact@"):
        store = run.artifacts / with_["name"]
        if not store.is_dir():
            log.append(f"download-artifact: no artifact {with_['name']!r}\n")
            return {}, False
        shutil.copytree(store, Path(with_["path"]), dirs_exist_ok=True)
        return {}, True
    if uses.startswith(ACTION_USES):
        action = run_action(
            with_,
            workspace=workspace,
            runner_temp=temp,
            env={**run.machine_env, **step_env, "GITHUB_STEP_SUMMARY": str(summary)},
            event=context["github"]["event"],
            event_name=context["github"]["event_name"],
            sha=context["github"]["sha"],
            installed=run.installed,
            timeout=120,
        )
        log.append(action.log)
        return action.outputs, action.failed is None
    assert not uses, f"the stand-in does not play {uses}"
    return _shell(str(step["run"]), step_env, context, run, workspace, temp, summary, log)


def _shell(
    script: str,
    step_env: dict[str, str],
    context: dict[str, Any],
    run: Run,
    workspace: Path,
    temp: Path,
    summary: Path,
    log: list[str],
) -> tuple[dict[str, str], bool]:
    files = temp / "_step"
    files.mkdir(exist_ok=True)
    output, added_env, path = files / "output", files / "env", files / "script.sh"
    output.write_text("", encoding="utf-8")
    added_env.write_text("", encoding="utf-8")
    path.write_text(script, encoding="utf-8")
    process = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(path)],
        cwd=workspace,
        env={
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", str(temp)),
            **run.machine_env,
            **step_env,
            "GITHUB_ACTIONS": "true",
            "GITHUB_REPOSITORY": REPOSITORY,
            "GITHUB_SHA": context["github"]["sha"],
            "RUNNER_TEMP": str(temp),
            "GITHUB_OUTPUT": str(output),
            "GITHUB_ENV": str(added_env),
            "GITHUB_STEP_SUMMARY": str(summary),
        },
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    log.append(process.stdout + process.stderr)
    context["env"].update(_outputs(added_env))
    return _outputs(output), process.returncode == 0
