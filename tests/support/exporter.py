"""Exporter test support: the seeded remote state, its secrets, and readers of an export."""

from __future__ import annotations

from typing import Any

import yaml

from reconciler.emulator.app import create_app, store_of
from reconciler.exporter import Export
from reconciler.models import RemoteIntegration
from tests.support import client_for, run

SECRETS = {
    ("github", "user"): "github-secret-value-b7c4",
    ("acme-crm", "user"): "acme-secret-value-9a1f",
    ("acme_crm", "user"): "other-acme-secret-0042",
    ("notion", "user"): "notion-secret-5150",
}

SEED: list[dict[str, Any]] = [
    {
        "provider": "github",
        "ownership": "user",
        "description": "GitHub (set up by hand)",
        "enabled": True,
        "scopes": ["repo", "read:org"],
        "credentials": {
            "type": "custom",
            "client_id": "Iv1.8a61f9b3a7aba766",
            "client_secret": SECRETS["github", "user"],
        },
    },
    {
        "provider": "github",
        "ownership": "organization",
        "description": "GitHub for organizations",
        "credentials": {"type": "organization"},
    },
    {
        "provider": "acme-crm",
        "ownership": "organization",
        "enabled": True,
        "custom_provider": {
            "name": "Acme CRM",
            "authorization_url": "https://crm.acme.example/oauth/authorize",
            "token_url": "https://crm.acme.example/oauth/token",
            "refresh_token_url": "https://crm.acme.example/oauth/refresh",
            "pkce_enabled": False,
            "request_scope_separator": ",",
            "scopes_required": True,
            "client_secret_required": False,
            "additional_authorization_parameters": {"prompt": "consent"},
            "token_body_content_type": "application/json",
            "authenticate_via": "basic_auth_header",
        },
        "credentials": {"type": "organization"},
    },
    {
        "provider": "acme-crm",
        "ownership": "user",
        "scopes": [],
        "credentials": {
            "type": "custom",
            "client_id": "acme-client",
            "client_secret": SECRETS["acme-crm", "user"],
        },
    },
    {
        "provider": "acme_crm",
        "ownership": "user",
        "custom_provider": {
            "name": "Another Acme",
            "authorization_url": "https://acme.example/authorize",  # required for OAuth
            "token_url": "https://acme.example/token",
        },
        "credentials": {
            "type": "custom",
            "client_id": "acme-underscore",
            "client_secret": SECRETS["acme_crm", "user"],
        },
    },
    {
        "provider": "snowflake",
        "ownership": "user",
        "description": "Warehouse",
        "auth_methods": ["api_key"],
        "config": {"account": "xy12345"},
    },
    {
        "provider": "notion",
        "ownership": "user",
        "description": "",
        "credentials": {
            "type": "custom",
            "client_id": "notion-app",
            "client_secret": SECRETS["notion", "user"],
        },
    },
]


def _remote_state(seed: list[dict[str, Any]]) -> list[RemoteIntegration]:
    app = create_app(seed=seed)
    try:

        async def fetch() -> list[RemoteIntegration]:
            async with client_for(app) as client:
                return await client.list_integrations()

        return run(fetch())
    finally:
        store_of(app).close()


def _secret_environ(export: Export) -> dict[str, str]:
    """Each variable set to the secret it stands for (the one the emulator was seeded with)."""
    return {
        variable.name: SECRETS[variable.slug, variable.ownership] for variable in export.secrets
    }


def _entries(export: Export) -> list[dict[str, Any]]:
    data = yaml.safe_load(export.text)
    assert isinstance(data, dict) and data["version"] == 1
    entries: list[dict[str, Any]] = data["integrations"]
    return entries


def _entry(export: Export, slug: str, ownership: str = "user") -> dict[str, Any]:
    (found,) = [
        entry
        for entry in _entries(export)
        if entry["slug"] == slug and entry.get("ownership", "user") == ownership
    ]
    return found
