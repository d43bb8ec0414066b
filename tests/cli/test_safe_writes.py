"""Writes never follow links: a pull request that commits a symlink where the tool writes
(``plan --out``, ``export --out``, the step summary) chooses nothing the tool overwrites."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from reconciler.errors import UnsafeWriteError
from reconciler.safefiles import append_text, write_text
from tests.support import ONE_INTEGRATION, invoke

PRECIOUS = "#!/bin/sh\necho the runner's own script\n"


@pytest.fixture
def app() -> FastAPI:
    return create_app()


@pytest.fixture(autouse=True)
def checkout(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A checkout with a manifest (the working directory) beside a file it must not touch."""
    root = tmp_path / "checkout"
    root.mkdir()
    (root / "integrations.yaml").write_text(ONE_INTEGRATION)
    (tmp_path / "reconciler").write_text(PRECIOUS)
    monkeypatch.chdir(root)
    return root


def _precious(tmp_path: Path) -> Path:
    return tmp_path / "reconciler"


def _no_temporary_left(directory: Path) -> None:
    assert [p.name for p in directory.iterdir() if p.name.endswith(".tmp")] == []


def test_a_committed_plan_json_symlink_is_not_written_through(
    app: FastAPI, tmp_path: Path, checkout: Path
) -> None:
    Path("plan.json").symlink_to(_precious(tmp_path))
    result = invoke(app, "plan", "--out", "plan.json")
    assert result.exit_code == 1, result.output
    assert "cannot write plan.json: it is a symbolic link; refused" in result.stderr
    assert "Traceback" not in result.output
    assert _precious(tmp_path).read_text() == PRECIOUS
    assert Path("plan.json").is_symlink()
    _no_temporary_left(checkout)


def test_a_dangling_plan_json_symlink_is_not_created_through(app: FastAPI, tmp_path: Path) -> None:
    target = tmp_path / "created-by-the-link"
    Path("plan.json").symlink_to(target)
    result = invoke(app, "plan", "--out", "plan.json")
    assert result.exit_code == 1
    assert "symbolic link; refused" in result.stderr
    assert not target.exists()


def test_a_symlinked_parent_directory_is_refused(app: FastAPI, tmp_path: Path) -> None:
    outside = tmp_path / "bin"
    outside.mkdir()
    (outside / "plan.json").write_text(PRECIOUS)
    Path("out").symlink_to(outside)
    result = invoke(app, "plan", "--out", "out/plan.json")
    assert result.exit_code == 1, result.output
    assert "cannot write out/plan.json: out is a symbolic link; refused" in result.stderr
    assert (outside / "plan.json").read_text() == PRECIOUS
    assert [p.name for p in outside.iterdir()] == ["plan.json"]


def test_a_symlink_deeper_in_the_path_is_refused(app: FastAPI, tmp_path: Path) -> None:
    (tmp_path / "elsewhere").mkdir()
    Path("a/b").mkdir(parents=True)
    Path("a/b/c").symlink_to(tmp_path / "elsewhere")
    result = invoke(app, "plan", "--out", "a/b/c/plan.json")
    assert result.exit_code == 1
    assert "a/b/c is a symbolic link; refused" in result.stderr
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_an_existing_regular_plan_is_replaced(app: FastAPI, checkout: Path) -> None:
    Path("plan.json").write_text("old")
    result = invoke(app, "plan", "--out", "plan.json")
    assert result.exit_code == 0, result.output
    assert Path("plan.json").read_text().startswith("{")
    assert not Path("plan.json").is_symlink()
    _no_temporary_left(checkout)


def test_a_plan_onto_a_fifo_is_refused(app: FastAPI) -> None:
    os.mkfifo("plan.json")
    result = invoke(app, "plan", "--out", "plan.json")
    assert result.exit_code == 1
    assert "cannot write plan.json: it exists and is not a regular file" in result.stderr


@pytest.mark.parametrize("force", [False, True])
def test_export_out_never_writes_through_a_symlink(
    app: FastAPI, tmp_path: Path, force: bool
) -> None:
    Path("exported.yaml").symlink_to(_precious(tmp_path))
    result = invoke(app, "export", "--out", "exported.yaml", *(["--force"] if force else []))
    assert result.exit_code == 1, result.output
    assert "exported.yaml: it is a symbolic link; refused" in result.stderr
    assert _precious(tmp_path).read_text() == PRECIOUS


def test_export_out_into_a_symlinked_directory_is_refused(app: FastAPI, tmp_path: Path) -> None:
    Path("dir").symlink_to(tmp_path)
    result = invoke(app, "export", "--out", "dir/exported.yaml")
    assert result.exit_code == 1
    assert "dir is a symbolic link; refused" in result.stderr
    assert not (tmp_path / "exported.yaml").exists()


def test_export_without_force_keeps_an_existing_file(app: FastAPI) -> None:
    Path("exported.yaml").write_text("mine\n")
    result = invoke(app, "export", "--out", "exported.yaml")
    assert result.exit_code == 1
    assert "exists: pass --force" in result.stderr
    assert Path("exported.yaml").read_text() == "mine\n"
    _no_temporary_left(Path.cwd())


def test_a_symlinked_step_summary_is_not_appended_to(app: FastAPI, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.symlink_to(_precious(tmp_path))
    result = invoke(app, "plan", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 1, result.output
    assert "symbolic link; refused" in result.stderr
    assert "Traceback" not in result.output
    assert _precious(tmp_path).read_text() == PRECIOUS


def test_the_step_summary_is_appended_to(app: FastAPI, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    result = invoke(app, "plan", GITHUB_ACTIONS="true", GITHUB_STEP_SUMMARY=str(summary))
    assert result.exit_code == 0, result.output
    text = summary.read_text()
    assert text.startswith("earlier step\n### reconciler plan")


def test_a_step_summary_that_is_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "summary.md"
    os.mkfifo(fifo)
    with pytest.raises(OSError):  # no reader: not opened, never blocks
        append_text(str(fifo), "text")


def test_write_text_without_overwrite_is_exclusive(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    write_text(str(target), "one", overwrite=False)
    with pytest.raises(FileExistsError):
        write_text(str(target), "two", overwrite=False)
    assert target.read_text() == "one"
    write_text(str(target), "three")
    assert target.read_text() == "three"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkout", "f.txt", "reconciler"]


def test_a_symlink_in_an_absolute_path_is_refused(tmp_path: Path) -> None:
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    with pytest.raises(UnsafeWriteError, match="link is a symbolic link"):
        write_text(str(tmp_path / "link" / "f.txt"), "x")
    assert list((tmp_path / "real").iterdir()) == []
