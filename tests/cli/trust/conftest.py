"""The trust boundary, tried as a pull request's author would.

A manifest comes from whoever can open a pull request; the process holds the
API key, the client secrets and the whole CI environment. Each test is one
attack: it must end in a clear refusal (exit 1, or 3 for rails and stale
plans), with no canary value in any output or file, and no request sent
where the manifest was refused. Every test here runs in its own working
directory (``workdir``) against an emulator seeded with canaries (``app``).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support.trust import (
    KEY_CANARY,
    SEED,
)


@pytest.fixture
def app() -> FastAPI:
    return create_app(api_key=KEY_CANARY, seed=SEED)


@pytest.fixture(autouse=True)
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    repo = tmp_path / "repo"
    repo.mkdir()
    monkeypatch.chdir(repo)
    return repo
