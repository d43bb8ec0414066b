"""Trust-boundary test support: the canaries, the seeded emulator's counts, the CLI run."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

from click.testing import Result
from fastapi import FastAPI

from tests.support import invoke, run, stats

CI_CANARY = "AKIAcanaryCIvalue-9f3Kq2LmZ"  # e.g. AWS_SECRET_ACCESS_KEY of the runner
SECRET_CANARY = "canary-client-secret-7Yh2Pq"
KEY_CANARY = "sk_test_canaryApiKeyZ81w5"
SEED: list[dict[str, Any]] = [
    {"provider": "slack", "ownership": "user", "credentials": {"type": "organization"}},
]
CANARY_ENV = {
    "AWS_SECRET_ACCESS_KEY": CI_CANARY,
    "GITHUB_TOKEN": CI_CANARY,
    "RECONCILER_GITHUB_CLIENT_SECRET": SECRET_CANARY,
    "WORKOS_API_KEY": KEY_CANARY,
}


def _by_method(app: FastAPI, key: str = KEY_CANARY) -> dict[str, int]:
    """The emulator's request counts (its control route needs the app's own key)."""
    counts: dict[str, int] = run(stats(app, api_key=key))["by_method"]
    return counts


def _requests(app: FastAPI) -> int:
    return sum(_by_method(app).values())


def _canaries_absent(*texts: str) -> None:
    for text in texts:
        for canary in (CI_CANARY, SECRET_CANARY, KEY_CANARY, KEY_CANARY.removeprefix("sk_test_")):
            assert canary not in text
            assert canary.lower() not in text.lower()
            assert base64.b64encode(canary.encode()).decode()[:12] not in text


def _cli(app: FastAPI | None, *args: str, **env: str) -> Result:
    environment: dict[str, Any] = {**CANARY_ENV, **env}
    return invoke(app, *args, **environment)


def _manifest(body: str, name: str = "integrations.yaml") -> Path:
    path = Path(name)
    path.write_text("version: 1\nintegrations:\n" + body)
    return path


GITHUB = """\
  - slug: github
    credentials:
      type: custom
      client_id: Iv1.abc
      client_secret: ${env:RECONCILER_GITHUB_CLIENT_SECRET}
"""
