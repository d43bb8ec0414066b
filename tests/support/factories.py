"""Builders of desired and remote integrations for planner and applier tests."""

from __future__ import annotations

from typing import Any

from reconciler.fields import CUSTOM_PROVIDER_FIELDS, api_default
from reconciler.models import (
    Desired,
    DesiredIntegration,
    Integration,
    RemoteIntegration,
    Settings,
    Source,
)
from reconciler.secrets import Secret

CUSTOM_PROVIDER_DEFAULTS: dict[str, Any] = {
    f.key: api_default(f) for f in CUSTOM_PROVIDER_FIELDS if f.key != "name"
}
"""A remote custom provider's defaults, from the field table (``tests/unit/test_fields.py``
checks the table against the emulator)."""


def desired(secret: str | None = None, line: int = 1, **fields: Any) -> DesiredIntegration:
    """A manifest entry; only the given fields are managed."""
    spec = Integration.model_validate(fields)
    return DesiredIntegration(
        spec=spec,
        source=Source("integrations.yaml", line, 5),
        client_secret=Secret(secret) if secret is not None else None,
    )


def desired_state(*entries: DesiredIntegration, **settings: Any) -> Desired:
    return Desired(
        integrations=tuple(entries),
        settings=Settings.model_validate(settings),
        files=("integrations.yaml",),
    )


def remote(slug: str, ownership: str = "user", **fields: Any) -> RemoteIntegration:
    """An API object with the emulator's defaults, overridden by ``fields``."""
    custom = fields.pop("custom_provider", None)
    data: dict[str, Any] = {
        "object": "data_integration",
        "id": f"data_integration_{slug.upper()}_{ownership.upper()}",
        "slug": slug,
        "integration_type": "custom" if custom else slug,
        "ownership": ownership,
        "description": None,
        "enabled": False,
        "state": "valid",
        "scopes": None,
        "redirect_uri": f"https://api.workos.com/data-integrations/{slug}/dik_X/callback",
        "auth_methods": ["oauth"],
        "credentials": {"type": "organization", "client_id": None, "redacted_client_secret": None},
        "installation": None,
        "config": {},
        "custom_provider": {**CUSTOM_PROVIDER_DEFAULTS, **custom} if custom else None,
        "created_at": "2026-01-15T12:00:00.000Z",
        "updated_at": "2026-01-15T12:00:00.000Z",
    }
    data.update(fields)
    return RemoteIntegration.model_validate(data)


def custom_credentials(client_id: str, last4: str) -> dict[str, Any]:
    return {"type": "custom", "client_id": client_id, "redacted_client_secret": last4}


def secret_ref(name: str = "SECRET") -> dict[str, Any]:
    return {"type": "custom", "client_id": "client-id", "client_secret": f"${{env:{name}}}"}
