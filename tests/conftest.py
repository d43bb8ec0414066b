"""Shared fixtures: the emulator in-process (``emulator_app``) and over loopback, and the
``manifest`` a test writes (its text from ``manifest_text``, which a module may override)."""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app, store_of
from tests.support import (
    API_KEY,
    AUTH,
    ONE_INTEGRATION,
    REPO_ROOT,
    subprocess_env,
    write_manifest,
)

__all__ = ["EMULATOR_API_KEY", "EMULATOR_AUTH", "REPO_ROOT"]
EMULATOR_API_KEY = API_KEY
EMULATOR_AUTH = AUTH
_STARTUP_TIMEOUT_S = 20.0


@pytest.fixture
def manifest_text() -> str:
    """The text the ``manifest`` fixture writes; a test module overrides this fixture to
    give its own manifest."""
    return ONE_INTEGRATION


@pytest.fixture
def manifest(tmp_path: Path, manifest_text: str) -> Path:
    """``integrations.yaml`` in the test's ``tmp_path``, holding ``manifest_text``."""
    return write_manifest(tmp_path, manifest_text)


@pytest.fixture
def emulator_app() -> Iterator[FastAPI]:
    """A fresh in-memory emulator app (drive it with ``httpx.ASGITransport``)."""
    app = create_app(api_key=EMULATOR_API_KEY)
    yield app
    store_of(app).close()


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _stderr_of(log: IO[bytes]) -> str:
    log.seek(0)
    return log.read().decode(errors="replace")


@contextmanager
def emulator_process(*options: str) -> Iterator[str]:
    """A ``python -m reconciler.emulator`` subprocess with ``options``, keyed with
    ``EMULATOR_API_KEY``; yields its base URL."""
    port = _free_port()
    env = subprocess_env(RECONCILER_EMULATOR_API_KEY=EMULATOR_API_KEY)
    command = [sys.executable, "-m", "reconciler.emulator", "--port", str(port), *options]
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait_until_serving(process, base_url, log)
            yield base_url
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


@pytest.fixture(scope="module")
def live_emulator_server() -> Iterator[str]:
    """One ``python -m reconciler.emulator`` subprocess per test module; yields its base URL."""
    with emulator_process() as base_url:
        yield base_url


@pytest.fixture
def start_emulator() -> Iterator[Callable[..., str]]:
    """Start emulator subprocesses with given options (``start_emulator("--fail-rate", "0.3")``);
    each is stopped at the end of the test."""
    with ExitStack() as stack:
        yield lambda *options: stack.enter_context(emulator_process(*options))


def _wait_until_serving(process: subprocess.Popen[bytes], base_url: str, log: IO[bytes]) -> None:
    deadline = time.monotonic() + _STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"the emulator exited with code {process.returncode} before serving:\n"
                + _stderr_of(log)
            )
        try:
            stats = httpx.get(f"{base_url}/_emulator/stats", headers=EMULATOR_AUTH, timeout=1.0)
            if stats.status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    pytest.fail(
        f"the emulator did not answer on {base_url} within {_STARTUP_TIMEOUT_S:.0f} s:\n"
        + _stderr_of(log)
    )


@pytest.fixture
def live_emulator(live_emulator_server: str) -> str:
    """The base URL (``http://127.0.0.1:<port>``) of a live emulator, reset to empty state."""
    response = httpx.post(
        f"{live_emulator_server}/_emulator/reset", headers=EMULATOR_AUTH, timeout=5.0
    )
    assert response.status_code == 204, response.text
    return live_emulator_server
