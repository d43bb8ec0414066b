"""Replace test support: the snowflake integration, and plan, apply and get through the emulator."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from reconciler.applier import apply_plan
from reconciler.models import Desired, RemoteIntegration
from reconciler.plan import ActionKind, Plan
from reconciler.planner import plan
from reconciler.results import ApplyResult
from tests.support import client_for

REQUEST_ID = r" \[request id req_\w+\]"
SNOWFLAKE = {
    "provider": "snowflake",
    "description": "old",
    "enabled": True,
    "scopes": ["read"],
    "config": {"account": "acct"},
}
ORGANIZATION = {"type": "organization"}


async def _plan(app: FastAPI, state: Desired) -> tuple[Plan, RemoteIntegration]:
    async with client_for(app) as client:
        remote = await client.list_integrations()
    made = plan(state, remote)
    assert [a.kind for a in made.actions][:1] == [ActionKind.REPLACE]
    return made, remote[0]


async def _apply(app: FastAPI, made: Plan, **options: Any) -> ApplyResult:
    transport = options.pop("transport", None)
    async with client_for(app, transport=transport) as client:
        return await apply_plan(made, client, **options)


async def _get(app: FastAPI, slug: str = "snowflake") -> RemoteIntegration | None:
    async with client_for(app) as client:
        return await client.get(slug, "user")


async def _list_and_plan(app: FastAPI, state: Desired) -> Plan:
    async with client_for(app) as client:
        return plan(state, await client.list_integrations())
