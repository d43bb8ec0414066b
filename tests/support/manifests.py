"""Manifests written for a test: the one factory behind the ``manifest`` fixture."""

from __future__ import annotations

from pathlib import Path
from typing import Any

ONE_INTEGRATION = """\
version: 1
integrations:
  - slug: slack
    credentials: {type: organization}
"""
"""The smallest useful manifest: one built-in integration, no secret."""

TWO_INTEGRATIONS = """\
version: 1
integrations:
  - slug: slack
    credentials: {type: organization}
  - slug: notion
    description: Notion
    credentials: {type: organization}
"""
"""Two built-in integrations, no secret: the second gives a plan something to update."""

SLACK_AND_NOTION_SEED: list[dict[str, Any]] = [
    {
        "provider": "slack",
        "ownership": "organization",
        "description": "old description",
        "credentials": {"type": "organization"},
    },
    {"provider": "notion", "ownership": "user", "credentials": {"type": "organization"}},
]
"""A remote state: slack (organization) with an old description, and an unmanaged notion."""

CORPUS = Path(__file__).resolve().parents[1] / "manifests"
"""The fixture corpus: ``valid/``, ``invalid/`` and ``multi/`` manifests."""


def write_manifest(
    directory: Path, text: str = ONE_INTEGRATION, name: str = "integrations.yaml"
) -> Path:
    """Write ``text`` as ``directory/name`` (UTF-8) and return its path."""
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path
