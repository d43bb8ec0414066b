"""Tests of the exporter through the emulator: the round trip plans clean, and a change by
hand to any field (or a wrong secret) shows in plan."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app, store_of
from reconciler.exporter import (
    export_manifest,
)
from reconciler.fields import (
    BY_NAME,
    FIELDS,
)
from reconciler.manifest import load
from reconciler.models import RemoteIntegration
from reconciler.planner import plan
from tests.support import AUTH, BASE_URL, client_for, run
from tests.support.exporter import SEED, _secret_environ


def test_round_trip_plans_clean(remote_state: list[RemoteIntegration], tmp_path: Path) -> None:
    export = export_manifest(remote_state)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    desired = load([manifest], environ=_secret_environ(export))
    assert len(desired.integrations) == len(SEED)
    result = plan(desired, remote_state)
    assert result.actions == ()
    assert result.unmanaged == ()
    assert len(result.unchanged) == len(SEED)


def test_a_wrong_secret_shows_as_a_change(
    remote_state: list[RemoteIntegration], tmp_path: Path
) -> None:
    """The round trip is clean because of the secrets, not in spite of them."""
    export = export_manifest(remote_state)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    environ = {
        **_secret_environ(export),
        "RECONCILER_GITHUB_CLIENT_SECRET": "a-different-secret-0000",
    }
    result = plan(load([manifest], environ=environ), remote_state)
    assert [(a.slug, a.ownership) for a in result.actions] == [("github", "user")]


# --- drift: a change made by hand to any exported field shows in plan ------------------

DRIFT_SECRET = "drift-secret-value-3141"
DRIFT_BASE: dict[str, Any] = {
    "provider": "tracker",
    "ownership": "user",
    "custom_provider": {
        "name": "Tracker",
        "authorization_url": "https://tracker.example/oauth/authorize",
        "token_url": "https://tracker.example/oauth/token",
    },
    "credentials": {"type": "custom", "client_id": "tracker-app", "client_secret": DRIFT_SECRET},
}
_SAME_CREDENTIALS = {"type": "custom", "client_id": "tracker-app", "client_secret": DRIFT_SECRET}
# Per field: what a manager changes by hand (a PUT body; for a creation-only field, the
# create body of the integration made again), and the fields the plan then shows changed
# (credentials go whole: a new client_id, or the create of a replace, sends the secret again).
DRIFT: dict[str, tuple[dict[str, Any], set[str]]] = {
    "description": ({"description": "changed by hand"}, set()),
    "enabled": ({"enabled": True}, set()),
    "scopes": ({"scopes": ["read", "write"]}, set()),
    "auth_methods": ({"auth_methods": ["oauth", "api_key"]}, {"credentials.client_secret"}),
    "credentials.type": (
        {"credentials": {"type": "organization"}},
        {"credentials.client_id", "credentials.client_secret"},
    ),
    "credentials.client_id": (
        {"credentials": {**_SAME_CREDENTIALS, "client_id": "another-app"}},
        {"credentials.client_secret"},
    ),
    "credentials.client_secret": (
        {"credentials": {**_SAME_CREDENTIALS, "client_secret": "rotated-by-hand-2718"}},
        set(),
    ),
    "custom_provider.name": ({"custom_provider": {"name": "Renamed"}}, set()),
    "custom_provider.authorization_url": (
        {"custom_provider": {"authorization_url": "https://other.example/authorize"}},
        set(),
    ),
    "custom_provider.token_url": (
        {"custom_provider": {"token_url": "https://other.example/token"}},
        set(),
    ),
    "custom_provider.refresh_token_url": (
        {"custom_provider": {"refresh_token_url": "https://other.example/refresh"}},
        set(),
    ),
    "custom_provider.pkce_enabled": ({"custom_provider": {"pkce_enabled": False}}, set()),
    "custom_provider.request_scope_separator": (
        {"custom_provider": {"request_scope_separator": ","}},
        set(),
    ),
    "custom_provider.scopes_required": ({"custom_provider": {"scopes_required": True}}, set()),
    "custom_provider.client_secret_required": (
        {"custom_provider": {"client_secret_required": False}},
        set(),
    ),
    "custom_provider.additional_authorization_parameters": (
        {"custom_provider": {"additional_authorization_parameters": {"prompt": "consent"}}},
        set(),
    ),
    "custom_provider.token_body_content_type": (
        {"custom_provider": {"token_body_content_type": "application/json"}},
        set(),
    ),
    "custom_provider.authenticate_via": (
        {"custom_provider": {"authenticate_via": "basic_auth_header"}},
        set(),
    ),
}


def test_every_field_of_the_table_has_a_drift_case() -> None:
    """A row added to the field table needs a case below: the exporter writes it too."""
    # config: a custom provider takes no config key (the API refuses any), so the tracker
    # cannot drift there; a config change is a replace (tests/unit/test_planner.py).
    assert set(DRIFT) == {f.name for f in FIELDS} - {"config"}


def _field_of(path: str) -> str:
    """The table's field a plan path belongs to (``config.account`` is ``config``)."""
    (found,) = [f.name for f in FIELDS if path == f.name or path.startswith(f.name + ".")]
    return found


async def _change_by_hand(app: FastAPI, name: str, change: dict[str, Any]) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
    ) as http:
        if BY_NAME[name].creation_only:  # made again with the field changed
            deleted = await http.delete("/data-integrations/tracker")
            assert deleted.status_code == 204, deleted.text
            created = await http.post("/data-integrations", json={**DRIFT_BASE, **change})
            assert created.status_code == 201, created.text
        else:
            updated = await http.put("/data-integrations/tracker", json=change)
            assert updated.status_code == 200, updated.text


@pytest.mark.parametrize("name", sorted(DRIFT))
def test_a_change_by_hand_to_any_field_shows_in_plan(name: str, tmp_path: Path) -> None:
    """Export, change one field through the API (as in the dashboard), plan on the export:
    exactly that field shows, defaults included (``enabled: false``, ``scopes: null``,
    ``pkce_enabled: true``...), which an export that leaves defaults out would hide."""
    change, consequences = DRIFT[name]
    app = create_app(seed=[DRIFT_BASE])
    try:

        async def scenario() -> tuple[list[RemoteIntegration], list[RemoteIntegration]]:
            async with client_for(app) as client:
                before = await client.list_integrations()
                await _change_by_hand(app, name, change)
                return before, await client.list_integrations()

        before, after = run(scenario())
    finally:
        store_of(app).close()
    export = export_manifest(before)
    manifest = tmp_path / "exported.yaml"
    manifest.write_text(export.text, encoding="utf-8")
    desired = load([manifest], environ={"RECONCILER_TRACKER_CLIENT_SECRET": DRIFT_SECRET})
    assert plan(desired, before).actions == ()
    (action,) = plan(desired, after).actions
    assert action.identity == ("tracker", "user")
    changed = {_field_of(c.path) for c in action.fields if c.changed}
    assert changed == {name} | consequences
