"""CI example test support: the example files, the commands their scripts run, policy globs."""

from __future__ import annotations

import re
import shlex
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

import yaml

from reconciler.yamlsource import parse
from tests.support.action import make_fakes, run_action, substitute

ROOT = Path(__file__).resolve().parents[2]
GITHUB = ROOT / "examples" / "ci" / "github-actions.yml"
GITLAB = ROOT / "examples" / "ci" / "gitlab-ci.yml"
EXAMPLES = ROOT / "examples"
POLICY = EXAMPLES / "ci" / "reconciler-policy.yaml"
DEFAULT_ENV_GLOBS = ["RECONCILER_*"]
DEFAULT_VAR_GLOBS = ["RECONCILER_VAR_*"]
_SEPARATORS = {";", "&&", "||", "|", "&", "(", ")", "$("}
_REDIRECTIONS = re.compile(r"\d*[<>]+&?")
ACTION_USES = "your-org/reconciler@"
"""How the examples refer to the action: ``your-org`` is a placeholder."""


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


def _uses_action(step: dict[str, Any]) -> bool:
    return str(step.get("uses", "")).startswith(ACTION_USES)


def _action_inputs(step: dict[str, Any], env: dict[str, Any]) -> dict[str, str]:
    """A step's ``with:`` as the runner passes it: strings, ``${{ env.X }}`` filled in."""
    inputs: dict[str, str] = {}
    for name, value in step.get("with", {}).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        inputs[name] = substitute(text, {"env": env})
    return inputs


def _action_runs(workflow: dict[str, Any], tmp_path: Path) -> list[tuple[str, dict[str, Any]]]:
    """Each step of ``workflow`` that uses the action, run with a fake ``reconciler``: the job's
    name and what the fake saw (``arguments``, ``env``), with the step's environment."""
    fakes = make_fakes(tmp_path / "fakes")
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    runs: list[tuple[str, dict[str, Any]]] = []
    for name, job in workflow["jobs"].items():
        for step in job["steps"]:
            if not _uses_action(step):
                continue
            env = {**workflow.get("env", {}), **job.get("env", {}), **step.get("env", {})}
            before = len(fakes.calls())
            run = run_action(
                _action_inputs(step, env),
                workspace=workspace,
                runner_temp=tmp_path / "runner-temp",
                env=fakes.env(),
                installed=fakes.installed(),
                timeout=60,
            )
            assert run.failed is None, run.log
            (call,) = fakes.calls()[before:]
            runs.append((name, {**call, "step": step, "step_env": env}))
    return runs


def _allowed(name: str, globs: list[str]) -> bool:
    return name != "WORKOS_API_KEY" and any(fnmatchcase(name, glob) for glob in globs)


def _env_globs(policy: dict[str, Any]) -> list[str]:
    globs: list[str] = policy.get("references", {}).get("env", DEFAULT_ENV_GLOBS)
    return globs


def _var_globs(policy: dict[str, Any]) -> list[str]:
    globs: list[str] = policy.get("references", {}).get("vars", DEFAULT_VAR_GLOBS)
    return globs
