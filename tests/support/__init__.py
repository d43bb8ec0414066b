"""Test support: the emulator's key, client builders, the CLI invoker, manifests, factories.

Everything commonly used is importable from ``tests.support`` itself.
"""

from __future__ import annotations

from tests.support.api import (
    API_KEY,
    AUTH,
    BASE_URL,
    WRITE_METHODS,
    RecordingSleep,
    client_for,
    custom_body,
    faulty_client,
    run,
    stats,
    writes,
)
from tests.support.cli import (
    CANARY_SECRET,
    REPO_ROOT,
    cli_env,
    invoke,
    run_reconciler,
    subprocess_env,
)
from tests.support.manifests import (
    CORPUS,
    ONE_INTEGRATION,
    SLACK_AND_NOTION_SEED,
    TWO_INTEGRATIONS,
    write_manifest,
)

__all__ = [
    "API_KEY",
    "AUTH",
    "BASE_URL",
    "CANARY_SECRET",
    "CORPUS",
    "ONE_INTEGRATION",
    "REPO_ROOT",
    "SLACK_AND_NOTION_SEED",
    "TWO_INTEGRATIONS",
    "WRITE_METHODS",
    "RecordingSleep",
    "cli_env",
    "client_for",
    "custom_body",
    "faulty_client",
    "invoke",
    "run",
    "run_reconciler",
    "stats",
    "subprocess_env",
    "write_manifest",
    "writes",
]
