"""The ``data_integration`` object as the API answers it: every field, defaults filled in.

Built from what the store keeps; the store keeps no secret, only its last 4
(``redacted_client_secret``) and a salted digest, so no answer can carry one.
"""

from __future__ import annotations

from typing import Any

from reconciler.emulator.ids import iso_ms
from reconciler.emulator.providers import BUILTIN_PROVIDERS
from reconciler.emulator.store import StoredIntegration

REDIRECT_BASE = "https://api.workos.com/data-integrations"


def render(stored: StoredIntegration, definition: dict[str, Any] | None) -> dict[str, Any]:
    """The integration at ``stored``, with its custom provider's ``definition`` (None: built-in)."""
    data = stored.data
    oauth = "oauth" in data.auth_methods
    credentials = None
    if oauth and data.credentials_type is not None:
        credentials = {
            "type": data.credentials_type,
            "client_id": data.client_id,
            "redacted_client_secret": data.secret_last4,
        }
    builtin = data.slug in BUILTIN_PROVIDERS
    return {
        "object": "data_integration",
        "id": stored.id,
        "slug": data.slug,
        "integration_type": data.slug if builtin else "custom",
        "ownership": data.ownership,
        "description": data.description,
        "enabled": data.enabled,
        "state": "valid",
        "scopes": data.scopes,
        "redirect_uri": (
            f"{REDIRECT_BASE}/{data.slug}/{stored.callback_key}/callback" if oauth else ""
        ),
        "auth_methods": data.auth_methods,
        "credentials": credentials,
        "installation": None,
        "config": data.config,
        "custom_provider": None if builtin else definition,
        "created_at": iso_ms(stored.created_ms),
        "updated_at": iso_ms(stored.updated_ms),
    }
