"""The public API: ``reconciler.__all__`` is pinned, lazy, and the README's example runs."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

import reconciler
from tests.support import REPO_ROOT, subprocess_env

PUBLIC = [
    "DEFAULT_POLICY",
    "Action",
    "ActionKind",
    "ActionResult",
    "ApiClient",
    "ApiError",
    "ApiUnreachableError",
    "ApplyFailedError",
    "ApplyResult",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "Desired",
    "FieldChange",
    "IntegrationsApi",
    "LeftState",
    "ManifestError",
    "NotFoundError",
    "Outcome",
    "Plan",
    "PlanFileError",
    "Policy",
    "PolicyError",
    "Problem",
    "ProblemsError",
    "ReconcilerError",
    "Refusal",
    "RefusalKind",
    "RefusedError",
    "RemoteIntegration",
    "Review",
    "SavedPlan",
    "StalePlanError",
    "Target",
    "UnprocessableError",
    "UnsafePlanError",
    "__version__",
    "execute",
    "load",
    "load_policy",
    "read_plan",
    "render_json",
    "render_markdown",
    "render_text",
    "review",
    "save",
    "snapshot",
]


def test_the_exported_names_are_exactly_the_stable_api() -> None:
    """Adding or removing a public name is a decision: this list changes with it."""
    assert reconciler.__all__ == PUBLIC
    assert sorted(dir(reconciler)) == sorted(PUBLIC)


def test_every_exported_name_is_the_librarys_own_object() -> None:
    from reconciler import errors, manifest, planfile, workflow
    from reconciler.client import ApiClient

    for name in PUBLIC:
        assert getattr(reconciler, name) is not None, name
    assert reconciler.review is workflow.review
    assert reconciler.execute is workflow.execute
    assert reconciler.load is manifest.load
    assert reconciler.read_plan is planfile.read
    assert reconciler.ApiClient is ApiClient
    assert reconciler.UnsafePlanError is errors.UnsafePlanError
    assert issubclass(reconciler.UnsafePlanError, reconciler.ReconcilerError)


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'plan_everything'"):
        reconciler.plan_everything  # noqa: B018


def _modules_after(code: str) -> set[str]:
    probe = (
        f"{code}\nimport sys\n"
        "print('loaded:' + ','.join(m for m in ('httpx', 'pydantic', 'fastapi', 'uvicorn', 'yaml')"
        " if m in sys.modules))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    )
    loaded = done.stdout.rsplit("loaded:", 1)[1].strip()
    return set(filter(None, loaded.split(",")))


def test_importing_the_package_loads_no_dependency() -> None:
    assert _modules_after("import reconciler") == set()


def test_help_loads_neither_http_nor_the_emulator() -> None:
    code = (
        "import sys\nfrom reconciler.cli import main\nsys.argv = ['reconciler', '--help']\n"
        "try:\n    main()\nexcept SystemExit:\n    pass"
    )
    assert _modules_after(code) & {"httpx", "fastapi", "uvicorn"} == set()


def _readme_example() -> str:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Use it from Python", 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "README's 'Use it from Python' has no python block"
    return match.group(1)


def test_the_readme_example_applies_then_finds_nothing_to_do(live_emulator: str) -> None:
    env = subprocess_env(
        live_emulator,
        RECONCILER_GITHUB_CLIENT_SECRET="demo-github-secret-b7c4",
        RECONCILER_ACME_CRM_CLIENT_SECRET="demo-acme-secret-42aa",
        RECONCILER_POLICY="examples/demo-policy.yaml",  # as examples/demo.sh: its secret files
    )

    def example() -> str:
        done = subprocess.run(
            [sys.executable, "-c", _readme_example()],
            capture_output=True,
            text=True,
            cwd=REPO_ROOT,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    first = example()
    applied = re.search(r"applied (\d+) changes", first)
    assert applied is not None and int(applied.group(1)) > 0, first
    assert "'create':" in first
    assert example().strip().endswith("applied 0 changes")
    assert "demo-github-secret" not in first
