"""The emulator tests' fixture: ``client``, a synchronous client of a fresh in-process app."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI

from tests.emulator.contract import AUTH, ApiClient


@pytest.fixture
def client(emulator_app: FastAPI) -> Iterator[ApiClient]:
    with ApiClient(emulator_app, headers=AUTH) as test_client:
        yield test_client
