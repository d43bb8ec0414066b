"""The ways tests run the CLI: in-process through click (``invoke``), or as a
``python -m reconciler`` process (``run_reconciler``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner, Result
from fastapi import FastAPI

from tests.support.api import API_KEY, BASE_URL

REPO_ROOT = Path(__file__).resolve().parents[2]
CANARY_SECRET = "canary-Secret-Value-q7Zx"
"""The value of ``RECONCILER_GITHUB_SECRET`` in every ``invoke``: it must never be shown."""


def cli_env(**env: str) -> dict[str, str]:
    """The environment of an in-process CLI run: the emulator's key and address, the canary
    secret, no colour, not on GitHub Actions; ``env`` overrides any of these."""
    return {
        "WORKOS_API_KEY": API_KEY,
        "WORKOS_BASE_URL": BASE_URL,
        "RECONCILER_GITHUB_SECRET": CANARY_SECRET,
        "NO_COLOR": "1",
        "GITHUB_ACTIONS": "",
        **env,
    }


def invoke(
    app: FastAPI | None,
    *args: str,
    input: str | None = None,
    interactive: bool = False,
    transport: httpx.AsyncBaseTransport | None = None,
    **env: str,
) -> Result:
    """Run the CLI in-process against ``app`` (through an ASGI transport), or through
    ``transport`` when given; ``env`` is added to ``cli_env()``."""
    from reconciler.cli import Runtime, cli

    if transport is None and app is not None:
        transport = httpx.ASGITransport(app=app)
    runtime = Runtime(transport=transport, interactive=interactive)
    return CliRunner().invoke(cli, list(args), obj=runtime, env=cli_env(**env), input=input)


def subprocess_env(base_url: str | None = None, **env: str) -> dict[str, str]:
    """The environment of a ``reconciler`` process: this one's, the repository first on
    ``PYTHONPATH``, the emulator's key (and ``base_url``), no colour; ``env`` added."""
    path = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    environment = {**os.environ, "WORKOS_API_KEY": API_KEY, "NO_COLOR": "1", "PYTHONPATH": path}
    if base_url is not None:
        environment["WORKOS_BASE_URL"] = base_url
    return {**environment, **env}


def run_reconciler(
    base_url: str, *args: str, timeout: float = 120, **env: str
) -> subprocess.CompletedProcess[str]:
    """``python -m reconciler *args`` against the API at ``base_url``; output captured."""
    return subprocess.run(
        [sys.executable, "-m", "reconciler", *args],
        env=subprocess_env(base_url, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
