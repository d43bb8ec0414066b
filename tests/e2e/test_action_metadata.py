"""The composite GitHub Action (``action.yml``): its metadata, inputs and outputs, the
expressions it uses, which step gets a token, and the distribution it installs.

The steps themselves are run in tests/e2e/test_action.py.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tests.support.action import (
    _EXPRESSION,
    _REFERENCE,
    DISTRIBUTION,
    load_action,
)

GITHUB_EXPRESSIONS = {"github.event.pull_request.number", "github.event_name", "github.sha"}
"""The only ``github`` context the action's steps read."""


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
