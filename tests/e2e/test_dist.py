"""The release artifacts, as users get them: built, checked, installed in a clean venv, run.

Once per module: a copy of the sources (``pyproject.toml``, ``README.md``, the
``reconciler`` package; the work tree is left alone) is built by ``python -m build``
into an sdist and a wheel built from that sdist, as ``make dist`` does; then the GitHub
Action's install step (``action.yml``, through ``run_action``) makes a clean virtual
environment (``python -m venv``, no system site-packages) and installs the wheel into
it, without extras; pip fetches the dependencies from the package index. Every command
below runs from that environment, never from this checkout.

Checked: ``twine check --strict`` on both artifacts; the wheel's metadata (name, version,
requires-python, the dependencies of pyproject.toml with FastAPI, uvicorn and aiolimiter
only under the ``emulator`` extra, the ``reconciler`` console script, ``py.typed``, one
top-level package); ``reconciler --version``, ``validate`` of the example (with the
variables examples/demo.sh sets), ``schema`` and the missing extra's message; and the
Action end to end against the emulator: plan (exit code 2 is has-changes), the sticky
comment (a fake ``gh``), apply of the saved plan, and the plan after it.
"""

from __future__ import annotations

import email.parser
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tomllib
import zipfile
from collections.abc import Mapping
from email.message import Message
from pathlib import Path

import httpx
import pytest
import yaml

from reconciler import __version__
from reconciler.emulator.extra import INSTALL_HINT
from reconciler.schema import manifest_schema
from tests.conftest import EMULATOR_API_KEY, EMULATOR_AUTH
from tests.support.action import (
    DISTRIBUTION,
    PULL_REQUEST,
    ActionRun,
    Fakes,
    make_fakes,
    run_action,
)

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
STEM = f"{DISTRIBUTION.replace('-', '_')}-{__version__}"
EMULATOR_ONLY = {"fastapi", "uvicorn", "aiolimiter"}
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


def _demo_secrets() -> dict[str, str]:
    """The manifest variables examples/demo.sh exports (not WORKOS_*)."""
    demo = (EXAMPLES / "demo.sh").read_text(encoding="utf-8")
    exported = dict(re.findall(r"^export (RECONCILER_[A-Z0-9_]+)=(\S+)$", demo, re.MULTILINE))
    assert exported
    if "RECONCILER_POLICY" in exported:  # relative to the checkout, where demo.sh runs
        exported["RECONCILER_POLICY"] = str(ROOT / exported["RECONCILER_POLICY"])
    return exported


def _clean_env(**more: str) -> dict[str, str]:
    """This process's environment without what would point Python at this checkout."""
    drop = {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONSTARTUP"}
    return {**{k: v for k, v in os.environ.items() if k not in drop}, "NO_COLOR": "1", **more}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sdist and the wheel, built from a copy of the sources."""
    root = tmp_path_factory.mktemp("dist")
    source = root / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(
        ROOT / "reconciler",
        source / "reconciler",
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
    )
    built = subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(root / "dist"), str(source)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env=_clean_env(),
    )
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return root / "dist"


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    return dist / f"{STEM}-py3-none-any.whl"


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The runner's temporary directory, kept for the module: the Action's venv lives there."""
    return tmp_path_factory.mktemp("runner-temp")


@pytest.fixture(scope="module")
def fakes_for_module(tmp_path_factory: pytest.TempPathFactory) -> Fakes:
    return make_fakes(tmp_path_factory.mktemp("fakes") / "fakes")


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A repository holding the example's manifest and the file it reads."""
    path = tmp_path_factory.mktemp("workspace")
    shutil.copy(EXAMPLES / "integrations.yaml", path / "integrations.yaml")
    shutil.copytree(EXAMPLES / "secrets", path / "secrets")
    shutil.copy(EXAMPLES / "demo-policy.yaml", path / "demo-policy.yaml")
    return path


def _action(
    inputs: Mapping[str, str],
    *,
    wheel: Path,
    runner: Path,
    fakes: Fakes,
    workspace: Path,
    event: Mapping[str, object] | None = None,
    **env: str,
) -> ActionRun:
    """The Action, installing ``wheel`` (once: later runs find it installed)."""
    return run_action(
        {"source": str(wheel), "version": __version__, "python": sys.executable, **inputs},
        workspace=workspace,
        runner_temp=runner,
        env=_clean_env(
            **fakes.env(),
            **{**_demo_secrets(), "RECONCILER_POLICY": str(workspace / "demo-policy.yaml")},
            **env,
        ),
        event=event,
    )


@pytest.fixture(scope="module")
def venv(wheel: Path, runner: Path, fakes_for_module: Fakes, workspace: Path) -> Path:
    """The clean venv the Action's install step makes, the wheel installed without extras;
    its first run validates the example."""
    run = _action(
        {"command": "validate", "manifests": "integrations.yaml"},
        wheel=wheel,
        runner=runner,
        fakes=fakes_for_module,
        workspace=workspace,
    )
    assert run.failed is None, run.log
    assert run.outputs["exit-code"] == "0"
    assert run.outputs["version"] == __version__
    assert "Successfully installed" in run.log and STEM.replace("_", "-") in run.log
    home = runner / DISTRIBUTION
    assert run.path == [str(home / "bin")], "only the command goes on PATH"
    assert sorted(path.name for path in (home / "bin").iterdir()) == ["reconciler"]
    return home / "venv"


def _run(venv: Path, *arguments: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "reconciler"), *arguments],
        cwd=cwd,
        env=_clean_env(**_demo_secrets()),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _python(venv: Path, code: str, cwd: Path) -> str:
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def _metadata(wheel: Path) -> Message:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"{STEM}.dist-info/METADATA").decode()
    return email.parser.Parser().parsestr(text)


def _requirement_name(requirement: str) -> str:
    match = _NAME.match(requirement)
    assert match, requirement
    return match.group(0).lower()


# --- the artifacts ---------------------------------------------------------------------


def test_the_artifacts_pass_twine_check(dist: Path) -> None:
    assert sorted(path.name for path in dist.iterdir()) == [
        f"{STEM}-py3-none-any.whl",
        f"{STEM}.tar.gz",
    ]
    checked = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, sorted(dist.iterdir()))],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=_clean_env(),
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.count("PASSED") == 2, checked.stdout


def test_the_wheel_metadata(wheel: Path) -> None:
    metadata = _metadata(wheel)
    assert metadata["Name"] == DISTRIBUTION
    # One version source: pyproject.toml reads reconciler.__version__ (dynamic).
    assert metadata["Version"] == __version__
    assert "version" not in PROJECT and PROJECT["dynamic"] == ["version"]
    assert metadata["Requires-Python"] == PROJECT["requires-python"] == ">=3.11"
    assert metadata["License-Expression"] == "MIT"
    assert metadata["Description-Content-Type"] == "text/markdown"
    assert "# reconciler" in metadata.get_payload(), "the README is the long description"

    requirements = metadata.get_all("Requires-Dist") or []
    plain = {_requirement_name(r) for r in requirements if ";" not in r}
    by_extra: dict[str, set[str]] = {}
    for requirement in requirements:
        if ";" in requirement:
            marker = requirement.split(";", 1)[1]
            (extra,) = re.findall(r'extra == "([^"]+)"', marker)
            by_extra.setdefault(extra, set()).add(_requirement_name(requirement))
    assert plain == {_requirement_name(r) for r in PROJECT["dependencies"]}
    assert not plain & EMULATOR_ONLY, "the tool itself carries no web server"
    assert by_extra["emulator"] == EMULATOR_ONLY
    assert all(
        not names & EMULATOR_ONLY for extra, names in by_extra.items() if extra != "emulator"
    )
    assert set(metadata.get_all("Provides-Extra") or []) == set(by_extra)


def test_the_wheel_contents(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        entry_points = archive.read(f"{STEM}.dist-info/entry_points.txt").decode()
        top_level = archive.read(f"{STEM}.dist-info/top_level.txt").decode().split()
    assert "[console_scripts]" in entry_points
    assert re.search(r"^reconciler = reconciler\.cli:main$", entry_points, re.MULTILINE)
    assert "reconciler/py.typed" in names
    assert "reconciler/plandocument.py" in names, "the JSON plan's schema is generated from it"
    assert top_level == ["reconciler"]
    assert {name.split("/", 1)[0] for name in names} == {"reconciler", f"{STEM}.dist-info"}
    packaged = {name for name in names if name.endswith(".py")}
    in_tree = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "reconciler").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert packaged == in_tree, "every module of the package, nothing else"


def test_the_sdist_builds_the_wheel(dist: Path) -> None:
    with tarfile.open(dist / f"{STEM}.tar.gz") as archive:
        names = set(archive.getnames())
        pkg_info = archive.extractfile(f"{STEM}/PKG-INFO")
        assert pkg_info is not None
        metadata = email.parser.Parser().parsestr(pkg_info.read().decode())
    assert {f"{STEM}/{name}" for name in ("pyproject.toml", "README.md")} <= names
    assert f"{STEM}/reconciler/py.typed" in names
    assert metadata["Name"] == DISTRIBUTION and metadata["Version"] == __version__


# --- the installed wheel ---------------------------------------------------------------


def test_a_clean_venv_without_extras(venv: Path, tmp_path: Path) -> None:
    config = (venv / "pyvenv.cfg").read_text(encoding="utf-8")
    assert re.search(r"^include-system-site-packages = false$", config, re.MULTILINE)
    found = json.loads(
        _python(
            venv,
            "import importlib.metadata as m, importlib.util as u, json, reconciler\n"
            "print(json.dumps({'file': reconciler.__file__,"
            " 'dists': sorted(d.metadata['Name'].lower() for d in m.distributions()),"
            " 'owners': m.packages_distributions().get('reconciler'),"
            f" 'extra': [n for n in {sorted(EMULATOR_ONLY)!r} if u.find_spec(n)]}}))",
            cwd=tmp_path,
        )
    )
    assert Path(found["file"]).is_relative_to(venv), "the installed package, not this checkout"
    assert found["owners"] == [DISTRIBUTION]
    assert DISTRIBUTION in found["dists"] and "reconciler" not in found["dists"]
    assert found["extra"] == [], "no extra installed"
    assert not {"starlette", "pytest", "hypothesis"} & set(found["dists"])


def test_version_validate_and_schema_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    version = _run(venv, "--version", cwd=tmp_path)
    assert (version.returncode, version.stdout) == (0, f"reconciler, version {__version__}\n")

    validate = _run(venv, "validate", "-f", "examples/integrations.yaml", cwd=ROOT)
    assert validate.returncode == 0, validate.stdout + validate.stderr
    assert "Valid" in validate.stdout + validate.stderr

    schema = _run(venv, "schema", cwd=tmp_path)
    assert schema.returncode == 0, schema.stderr
    assert json.loads(schema.stdout) == manifest_schema()

    plan_schema = _run(venv, "schema", "--plan", cwd=tmp_path)
    assert plan_schema.returncode == 0, plan_schema.stderr
    committed = (ROOT / "schemas" / "plan.schema.json").read_text(encoding="utf-8")
    assert plan_schema.stdout == committed, "the installed wheel prints the plan schema"


def test_the_emulator_says_how_to_get_its_extra(venv: Path, tmp_path: Path) -> None:
    emulator = _run(venv, "emulator", "--port", "0", cwd=tmp_path)
    assert emulator.returncode == 1
    assert emulator.stderr.strip() == f"Error: {INSTALL_HINT}"
    assert f"pip install '{DISTRIBUTION}[emulator]'" in INSTALL_HINT
    assert "Traceback" not in emulator.stderr


# --- the Action, end to end ------------------------------------------------------------


def test_the_action_against_the_emulator(
    venv: Path,
    wheel: Path,
    runner: Path,
    fakes_for_module: Fakes,
    workspace: Path,
    live_emulator: str,
) -> None:
    with httpx.Client(base_url=live_emulator, headers=EMULATOR_AUTH) as http:
        for body in yaml.safe_load((EXAMPLES / "remote-seed.yaml").read_text(encoding="utf-8")):
            http.post("/data-integrations", json=body).raise_for_status()
    fakes = fakes_for_module
    api = {"WORKOS_API_KEY": EMULATOR_API_KEY, "WORKOS_BASE_URL": live_emulator}

    def action(inputs: Mapping[str, str], event: Mapping[str, object] | None = None) -> ActionRun:
        run = _action(
            {"manifests": "integrations.yaml", **inputs},
            wheel=wheel,
            runner=runner,
            fakes=fakes,
            workspace=workspace,
            event=event,
            **api,
        )
        assert "Installed earlier in this job" in run.log, "one venv per job"
        return run

    # On a pull request the Action plans with --no-secrets by default (for review only:
    # apply --plan refuses such a plan); here the plan is made to be applied.
    saved = {"plan-file": "plan.json", "comment": "true", "no-secrets": "false"}
    plan = action(saved, PULL_REQUEST)
    assert plan.failed is None, plan.log
    assert (plan.outputs["exit-code"], plan.outputs["has-changes"]) == ("2", "true")
    assert plan.outputs["plan-path"] == str(runner / "plan.json"), "under RUNNER_TEMP"
    assert json.loads((runner / "plan.json").read_text(encoding="utf-8"))
    report = Path(plan.outputs["report-path"]).read_text(encoding="utf-8")
    assert report.startswith("### reconciler plan")
    (comment,) = fakes.github()["comments"]
    assert comment["body"] == f"<!-- {DISTRIBUTION}:plan -->\n{report}"
    assert "demo-github-secret" not in comment["body"]

    applied = action({"command": "apply", "plan-file": "plan.json"})
    assert applied.failed is None, applied.log
    assert applied.outputs["exit-code"] == "0"

    again = action({"comment": "true", "no-secrets": "false"}, PULL_REQUEST)
    assert again.failed is None, again.log
    assert (again.outputs["exit-code"], again.outputs["has-changes"]) == ("0", "false")
    (edited,) = fakes.github()["comments"]
    assert edited["id"] == comment["id"] and edited["body"] != comment["body"]
    assert again.outputs["comment-url"] == plan.outputs["comment-url"]

    drift = action({"fail-on-changes": "true"})
    assert drift.failed is None and drift.outputs["has-changes"] == "false", drift.log
