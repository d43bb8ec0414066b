"""The tool without the ``emulator`` extra: FastAPI, starlette, uvicorn, aiolimiter unimportable.

Each check runs the CLI in a subprocess whose first meta path finder refuses
those three packages, as an install without ``workos-pipes-reconciler[emulator]``
would. The tool must validate and plan (against an emulator this test runs with
the extra), and ``reconciler emulator`` must say how to install the extra, exit 1
and show no traceback.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import httpx

from reconciler import __version__
from tests.conftest import EMULATOR_AUTH, REPO_ROOT

EXTRA = ("aiolimiter", "fastapi", "starlette", "uvicorn")
INSTALL_MESSAGE = (
    "Error: the emulator needs its extra dependencies (FastAPI, uvicorn): "
    "pip install 'workos-pipes-reconciler[emulator]'"
)
MANIFEST = "examples/integrations.yaml"

WITHOUT_EXTRA = f"""
import json, runpy, sys

class NoExtra:
    '''Refuses the extra's packages (and records each attempt), as if not installed.'''

    refused = []

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in EXTRA:
            NoExtra.refused.append(name)
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
        return None

EXTRA = {EXTRA!r}
sys.meta_path.insert(0, NoExtra())
"""
"""Prepended to every ``-c`` script below."""

RUN_MODULE = """
module = sys.argv[1]
sys.argv = [module, *sys.argv[2:]]
runpy.run_module(module, run_name="__main__", alter_sys=True)
"""
"""Runs ``python -m <first argument> <other arguments>``."""


def without_extra(
    script: str, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``script`` (after the finder that refuses the extra) with ``args``."""
    environment = {**os.environ, **(env or {})}
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])
    )
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_EXTRA + script, *args],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m reconciler <args>`` without the extra."""
    return without_extra(RUN_MODULE, "reconciler", *args, env=env)


def test_the_finder_does_refuse_the_extra() -> None:
    """The other tests mean something only if the extra really is out of reach."""
    script = """
for name in ("aiolimiter", "fastapi", "starlette.types", "uvicorn"):
    try:
        __import__(name)
    except ImportError:
        continue
    sys.exit(f"{name} was imported")
print(json.dumps(NoExtra.refused))
"""
    result = without_extra(script)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == ["aiolimiter", "fastapi", "starlette", "uvicorn"]


def test_importing_the_cli_does_not_try_to_load_the_extra() -> None:
    script = """
import reconciler.cli
from reconciler.emulator.command import emulator
loaded = sorted(m for m in sys.modules if m.partition(".")[0] in EXTRA)
print(json.dumps({"loaded": loaded, "refused": NoExtra.refused}))
"""
    result = without_extra(script)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"loaded": [], "refused": []}


def test_version_and_help_work_without_the_extra() -> None:
    version = run_cli("--version")
    assert version.returncode == 0, version.stderr
    assert __version__ in version.stdout
    for args in (["--help"], ["emulator", "--help"]):
        result = run_cli(*args)
        assert result.returncode == 0, result.stderr
        assert "Usage:" in result.stdout and "Traceback" not in result.stderr
    assert "--fail-rate" in run_cli("emulator", "--help").stdout


def test_validate_works_without_the_extra() -> None:
    result = run_cli("validate", "-f", MANIFEST, env=_example_secrets())
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr


def test_plan_works_without_the_extra_against_an_emulator(live_emulator: str) -> None:
    existing = {
        "provider": "github",
        "ownership": "organization",
        "credentials": {"type": "organization"},
        "description": "made before the plan",
    }
    created = httpx.post(
        f"{live_emulator}/data-integrations", json=existing, headers=EMULATOR_AUTH, timeout=5.0
    )
    assert created.status_code == 201, created.text
    env = {
        **_example_secrets(),
        "WORKOS_BASE_URL": live_emulator,
        "WORKOS_API_KEY": EMULATOR_AUTH["Authorization"].removeprefix("Bearer "),
    }
    result = run_cli("plan", "-f", MANIFEST, "--format", "json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    plan: dict[str, Any] = json.loads(result.stdout)
    actions = {(c["slug"], c["ownership"]): c["action"] for c in plan["changes"]}
    assert actions.pop(("github", "organization")) == "update"  # it read the remote
    assert actions and set(actions.values()) == {"create"}


def test_the_emulator_command_says_how_to_install_the_extra() -> None:
    for module, args in (
        ("reconciler", ["emulator"]),
        ("reconciler", ["emulator", "--port", "0", "--seed", MANIFEST]),
        ("reconciler.emulator", []),
    ):
        result = without_extra(RUN_MODULE, module, *args)
        assert result.returncode == 1, (module, args, result.stderr)
        assert result.stderr.strip() == INSTALL_MESSAGE, result.stderr
        assert result.stdout == ""


def _example_secrets() -> dict[str, str]:
    """The variables ``examples/integrations.yaml`` refers to, and the demo's policy that
    allows its secret files (as ``examples/demo.sh`` sets them)."""
    return {
        "RECONCILER_GITHUB_CLIENT_SECRET": "demo-github-secret-b7c4",
        "RECONCILER_ACME_CRM_CLIENT_SECRET": "demo-acme-secret-42aa",
        "RECONCILER_POLICY": "examples/demo-policy.yaml",
    }
