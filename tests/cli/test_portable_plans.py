"""Saved plans are portable: the manifest paths are recorded relative to the plan file,
so `apply --plan` works from any directory (and from another checkout of the same
files), while the digest still covers the same files."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import TWO_INTEGRATIONS, invoke, writes

MANIFEST = TWO_INTEGRATIONS


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``project/integrations.yaml``, the working directory while the plan is made."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "integrations.yaml").write_text(MANIFEST)
    (root / "sub").mkdir()
    monkeypatch.chdir(root)
    return root


def _plan_into_sub(app: FastAPI) -> dict[str, object]:
    made = invoke(app, "plan", "--out", "sub/plan.json")
    assert made.exit_code == 0, made.output
    saved: dict[str, object] = json.loads(Path("sub/plan.json").read_text())
    return saved


def test_paths_are_recorded_relative_to_the_plan_file(app: FastAPI, project: Path) -> None:
    manifest = _plan_into_sub(app)["manifest"]
    assert isinstance(manifest, dict)
    assert manifest["files"] == ["../integrations.yaml"]
    assert len(manifest["sha256"]) == 64


@pytest.mark.parametrize("where", ["sub", "elsewhere", "root"])
def test_apply_plan_works_from_any_directory(
    app: FastAPI, project: Path, where: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plan_into_sub(app)
    places = {
        "sub": (project / "sub", "plan.json"),
        "elsewhere": (project.parent, "project/sub/plan.json"),
        "root": (Path("/"), str(project / "sub" / "plan.json")),
    }
    directory, plan_path = places[where]
    monkeypatch.chdir(directory)
    applied = invoke(app, "apply", "--plan", plan_path)
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 2 succeeded, 0 failed, 0 skipped." in applied.stdout
    assert writes(app) == 2


def test_a_copy_of_the_checkout_applies_the_plan(
    app: FastAPI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plan_into_sub(app)
    copy = project.parent / "ci-workspace"
    shutil.copytree(project, copy)
    monkeypatch.chdir(project.parent)
    applied = invoke(app, "apply", "--plan", "ci-workspace/sub/plan.json")
    assert applied.exit_code == 0, applied.output
    assert writes(app) == 2


def test_the_digest_still_covers_the_files(
    app: FastAPI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plan_into_sub(app)
    (project / "integrations.yaml").write_text(MANIFEST.replace("Notion", "Notion!"))
    monkeypatch.chdir(project / "sub")
    stale = invoke(app, "apply", "--plan", "plan.json")
    assert stale.exit_code == 3
    assert "stale plan: the manifest changed since the plan was made" in stale.stderr
    assert writes(app) == 0


def test_explicit_files_must_be_the_same_files(
    app: FastAPI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plan_into_sub(app)
    (project / "other.yaml").write_text(MANIFEST)
    monkeypatch.chdir(project.parent)
    other = invoke(app, "apply", "--plan", "project/sub/plan.json", "-f", "project/other.yaml")
    assert other.exit_code == 3
    assert "stale plan: it was made from project/integrations.yaml, not project/other.yaml" in (
        other.stderr
    )
    same = invoke(
        app, "apply", "--plan", "project/sub/plan.json", "-f", "project/sub/../integrations.yaml"
    )
    assert same.exit_code == 0, same.output
    assert writes(app) == 2


def test_a_directory_of_manifests_is_recorded_file_by_file(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "integrations").mkdir()
    (tmp_path / "integrations" / "a.yaml").write_text(MANIFEST)
    monkeypatch.chdir(tmp_path)
    made = invoke(app, "plan", "-f", "integrations", "--out", "out/plans/plan.json")
    assert made.exit_code == 1  # out/plans does not exist
    (tmp_path / "out" / "plans").mkdir(parents=True)
    made = invoke(app, "plan", "-f", "integrations", "--out", "out/plans/plan.json")
    assert made.exit_code == 0, made.output
    saved = json.loads((tmp_path / "out" / "plans" / "plan.json").read_text())
    assert saved["manifest"]["files"] == ["../../integrations/a.yaml"]
    monkeypatch.chdir(tmp_path / "out")
    applied = invoke(app, "apply", "--plan", "plans/plan.json")
    assert applied.exit_code == 0, applied.output
    assert writes(app) == 2
