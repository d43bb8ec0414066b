"""Saved plans are portable and confined (version 3): the manifest paths are recorded
relative to the directory `plan` ran in, wherever the plan file is written; `apply --plan`
reads them from its own working directory, never outside it, and only after the plan's
format, key and policy are checked."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import TWO_INTEGRATIONS, invoke, writes

MANIFEST = TWO_INTEGRATIONS
CANARY = "outside-canary-Zq81"


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


def _plan(app: FastAPI, out: str, *args: str, key: str | None = None) -> dict[str, object]:
    if key is None:
        made = invoke(app, "plan", "--out", out, *args)
    else:
        made = invoke(app, "plan", "--out", out, *args, WORKOS_API_KEY=key)
    assert made.exit_code == 0, made.output
    saved: dict[str, object] = json.loads(Path(out).read_text())
    return saved


def _files(saved: dict[str, object]) -> object:
    manifest = saved["manifest"]
    assert isinstance(manifest, dict)
    return manifest["files"]


@pytest.mark.parametrize("where", ["plan.json", "sub/plan.json", "outside"])
def test_paths_are_recorded_relative_to_where_plan_ran(
    app: FastAPI, project: Path, where: str
) -> None:
    out = str(project.parent / "plan.json") if where == "outside" else where
    saved = _plan(app, out)
    assert saved["version"] == 3
    assert _files(saved) == ["integrations.yaml"]


def test_apply_plan_reads_the_plan_from_anywhere(app: FastAPI, project: Path) -> None:
    _plan(app, str(project.parent / "plan.json"))
    applied = invoke(app, "apply", "--plan", str(project.parent / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert "Apply complete: 2 succeeded, 0 failed, 0 skipped." in applied.stdout
    assert writes(app) == 2


def test_a_copy_of_the_checkout_applies_the_plan(
    app: FastAPI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plan(app, "sub/plan.json")
    copy = project.parent / "ci-workspace"
    shutil.copytree(project, copy)
    monkeypatch.chdir(copy)
    applied = invoke(app, "apply", "--plan", str(project / "sub" / "plan.json"))
    assert applied.exit_code == 0, applied.output
    assert writes(app) == 2


def test_applied_from_another_directory_the_manifest_is_looked_for_there(
    app: FastAPI, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _plan(app, "sub/plan.json")
    monkeypatch.chdir(project / "sub")
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 1
    assert "integrations.yaml: no such file or directory" in result.stderr
    assert writes(app) == 0


def test_the_digest_still_covers_the_files(app: FastAPI, project: Path) -> None:
    _plan(app, "sub/plan.json")
    (project / "integrations.yaml").write_text(MANIFEST.replace("Notion", "Notion!"))
    stale = invoke(app, "apply", "--plan", "sub/plan.json")
    assert stale.exit_code == 3
    assert "stale plan: the manifest changed since the plan was made" in stale.stderr
    assert writes(app) == 0


def test_explicit_files_must_be_the_same_files(app: FastAPI, project: Path) -> None:
    _plan(app, "sub/plan.json")
    (project / "other.yaml").write_text(MANIFEST)
    other = invoke(app, "apply", "--plan", "sub/plan.json", "-f", "other.yaml")
    assert other.exit_code == 3
    assert "stale plan: it was made from integrations.yaml, not other.yaml" in other.stderr
    same = invoke(app, "apply", "--plan", "sub/plan.json", "-f", "sub/../integrations.yaml")
    assert same.exit_code == 0, same.output
    assert writes(app) == 2


def test_a_directory_of_manifests_is_recorded_file_by_file(
    app: FastAPI, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "integrations").mkdir()
    (tmp_path / "integrations" / "a.yaml").write_text(MANIFEST)
    (tmp_path / "out" / "plans").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    saved = _plan(app, "out/plans/plan.json", "-f", "integrations")
    assert _files(saved) == ["integrations/a.yaml"]
    applied = invoke(app, "apply", "--plan", "out/plans/plan.json")
    assert applied.exit_code == 0, applied.output
    assert writes(app) == 2


# --- a plan file cannot make apply read elsewhere -----------------------------------------


def _outside(tmp_path: Path) -> Path:
    """A manifest outside the project, whose problems would quote the canary."""
    outside = tmp_path / "outside.yaml"
    outside.write_text(f"version: 1\nintegrations:\n  - slug: github\n    {CANARY}: 1\n")
    return outside


def _naming(plan: Path, *files: str) -> None:
    data = json.loads(plan.read_text())
    data["manifest"]["files"] = list(files)
    plan.write_text(json.dumps(data))


def test_a_plan_with_another_key_is_refused_before_the_files_it_names_are_read(
    app: FastAPI, project: Path, tmp_path: Path
) -> None:
    _outside(tmp_path)
    other = "sk_test_another_environment"
    _plan(create_app(api_key=other), "plan.json", key=other)
    _naming(project / "plan.json", "../outside.yaml")
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 3, result.output
    assert "stale plan: it was made with another API key" in result.stderr
    assert CANARY not in result.output
    assert "outside.yaml" not in result.output
    assert writes(app) == 0


def test_a_plan_under_another_policy_is_refused_before_the_files_it_names_are_read(
    app: FastAPI, project: Path, tmp_path: Path
) -> None:
    _outside(tmp_path)
    (project / "policy.yaml").write_text("version: 1\nsafety:\n  allow_prune: false\n")
    _plan(app, "plan.json")
    _naming(project / "plan.json", "../outside.yaml")
    result = invoke(app, "apply", "--plan", "plan.json", "--policy", "policy.yaml")
    assert result.exit_code == 3, result.output
    assert "stale plan: it was made under the default policy" in result.stderr
    assert CANARY not in result.output


@pytest.mark.parametrize("name", ["../outside.yaml", "sub/../../outside.yaml", "link.yaml"])
def test_a_recorded_path_that_leaves_the_working_directory_is_not_read(
    app: FastAPI, project: Path, tmp_path: Path, name: str
) -> None:
    outside = _outside(tmp_path)
    (project / "link.yaml").symlink_to(outside)
    _plan(app, "plan.json")
    _naming(project / "plan.json", name)
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 1, result.output
    assert "outside the working directory; refused" in result.stderr
    assert CANARY not in result.output
    assert str(tmp_path) not in result.output
    assert writes(app) == 0


def test_an_absolute_recorded_path_is_refused_as_not_a_plan(
    app: FastAPI, project: Path, tmp_path: Path
) -> None:
    _plan(app, "plan.json")
    _naming(project / "plan.json", str(_outside(tmp_path)))
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 1
    assert "not a saved plan: its content is incomplete or altered" in result.stderr
    assert CANARY not in result.output


def test_a_version_2_plan_is_refused_with_make_the_plan_again(app: FastAPI, project: Path) -> None:
    _plan(app, "plan.json")
    data = json.loads(Path("plan.json").read_text())
    data["version"] = 2
    del data["no_secrets"]
    Path("plan.json").write_text(json.dumps(data))
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 1
    assert "unsupported saved-plan version 2; make the plan again" in result.stderr


def test_a_plan_made_without_secrets_is_refused_with_exit_3(
    app: FastAPI, project: Path, tmp_path: Path
) -> None:
    _outside(tmp_path)
    _plan(app, "plan.json")
    data = json.loads(Path("plan.json").read_text())
    data["no_secrets"] = True
    data["manifest"]["files"] = ["../outside.yaml"]
    Path("plan.json").write_text(json.dumps(data))
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 3, result.output
    assert "this plan was made without secrets (plan --no-secrets)" in result.stderr
    assert CANARY not in result.output
    assert writes(app) == 0


def test_plan_no_secrets_out_is_recorded_and_apply_refuses_it(app: FastAPI, project: Path) -> None:
    saved = _plan(app, "plan.json", "--no-secrets")
    assert saved["no_secrets"] is True
    result = invoke(app, "apply", "--plan", "plan.json")
    assert result.exit_code == 3, result.output
    assert "this plan was made without secrets (plan --no-secrets)" in result.stderr
    assert writes(app) == 0
    assert _plan(app, "again.json")["no_secrets"] is False
