"""The manifest loader's tests run from the project root: fixture paths are relative."""

from __future__ import annotations

import pytest

from tests.support.loader import ROOT


@pytest.fixture(autouse=True)
def _at_project_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fixture paths are given relative, as a user would."""
    monkeypatch.chdir(ROOT)
