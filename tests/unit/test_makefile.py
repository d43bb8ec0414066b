"""`make demo` installs only what the demo needs (the emulator extra); `make test` keeps
installing the whole development toolchain. Checked with `make -n` (nothing is run)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import REPO_ROOT


def _dry_run(target: str, venv: Path) -> str:
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    result = subprocess.run(
        [make, "-n", target, f"VENV={venv}"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def test_make_demo_installs_the_emulator_extra_only(tmp_path: Path) -> None:
    commands = _dry_run("demo", tmp_path / "venv")
    assert "-e '.[emulator]'" in commands
    assert "[dev" not in commands and "dev," not in commands
    assert "./examples/demo.sh" in commands


def test_make_demo_uses_an_up_to_date_full_install(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    venv.mkdir()
    stamp = venv / ".installed-stamp"
    stamp.touch()
    later = (REPO_ROOT / "pyproject.toml").stat().st_mtime + 10
    os.utime(stamp, (later, later))
    commands = _dry_run("demo", venv)
    assert f"[ -f {stamp} ] && [ {stamp} -nt pyproject.toml ]" in commands


def test_make_test_installs_everything(tmp_path: Path) -> None:
    commands = _dry_run("test", tmp_path / "venv")
    assert "-e '.[dev,emulator]'" in commands
