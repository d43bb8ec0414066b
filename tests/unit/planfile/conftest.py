"""Each saved-plan test runs in its own working directory, beside its manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.planfile import (
    MANIFEST,
)


@pytest.fixture(autouse=True)
def manifest_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``integrations.yaml`` (the file the factories' Desired names) in the working directory."""
    monkeypatch.chdir(tmp_path)
    path = Path("integrations.yaml")
    path.write_text(MANIFEST)
    return path
