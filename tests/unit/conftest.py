"""Fixtures shared by unit tests: the exporter's seeded remote state."""

from __future__ import annotations

import pytest

from reconciler.models import RemoteIntegration
from tests.support.exporter import SEED, _remote_state


@pytest.fixture(scope="module")
def remote_state() -> list[RemoteIntegration]:
    return _remote_state(SEED)
