"""Saved-plan test support: the key, URL, secret and manifest, and save/verify helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from reconciler.models import Desired, RemoteIntegration
from reconciler.plan import Plan
from reconciler.planfile import (
    SavedPlan,
    dump,
    read,
    verify,
)
from reconciler.planner import plan
from reconciler.policy import DEFAULT_POLICY, Policy
from tests.support.factories import (
    desired,
    desired_state,
    remote,
    secret_ref,
)

API_URL = "https://api.workos.com"
API_KEY = "sk_test_planfile-key-Vb71"
SECRET = "canary-plan-secret-1234"
MANIFEST = "version: 1\nintegrations: []  # the digest is of these bytes, not their meaning\n"


def _desired(secret: str = SECRET, slack: str = "new description") -> Desired:
    return desired_state(
        desired(secret=secret, slug="github", credentials=secret_ref()),
        desired(slug="slack", description=slack, credentials={"type": "organization"}),
    )


def _remote(**slack: Any) -> list[RemoteIntegration]:
    return [remote("slack", description="old"), remote("notion", **slack)]


def _save(
    state: Desired | None = None,
    current: list[RemoteIntegration] | None = None,
    *,
    rotate_secrets: bool = False,
) -> tuple[Plan, SavedPlan]:
    state = state or _desired()
    made = plan(state, current if current is not None else _remote())
    text = dump(
        made,
        state,
        api_url=API_URL,
        api_key=API_KEY,
        policy=DEFAULT_POLICY,
        rotate_secrets=rotate_secrets,
    )
    Path("plan.json").write_text(text)
    return made, read("plan.json")


def _verify(
    saved: SavedPlan,
    state: Desired | None = None,
    current: list[RemoteIntegration] | None = None,
    *,
    api_url: str = API_URL,
    api_key: str = API_KEY,
    policy: Policy = DEFAULT_POLICY,
) -> Plan:
    state = state or _desired()
    current = current if current is not None else _remote()
    fresh = plan(state, current)
    return verify(saved, state, current, fresh, api_url=api_url, api_key=api_key, policy=policy)
