"""The applier against the emulator: apply, then plan is empty; partial failure; order."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from reconciler.applier import ActionResult, apply_plan, request_body
from reconciler.emulator.app import create_app
from reconciler.models import Desired, RemoteIntegration
from reconciler.plan import ActionKind, Plan
from reconciler.planner import plan
from tests.factories import desired, desired_state, secret_ref
from tests.support import client_for, custom_body, run, stats

SEED: list[dict[str, Any]] = [
    {
        "provider": "github",
        "ownership": "user",
        "description": "old",
        "credentials": {"type": "custom", "client_id": "client-id", "client_secret": "s-0000"},
    },
    {"provider": "github", "ownership": "organization", "credentials": {"type": "organization"}},
    custom_body("acme"),
    {"provider": "notion", "ownership": "user", "credentials": {"type": "organization"}},
]


def _state() -> Desired:
    return desired_state(
        desired(
            secret="rotated-secret-9876",
            slug="github",
            description="new",
            enabled=True,
            credentials=secret_ref(),
        ),
        desired(slug="slack", ownership="organization", credentials={"type": "organization"}),
        desired(
            slug="acme",
            ownership="organization",
            credentials={"type": "organization"},
            custom_provider={"name": "Acme", "token_url": "https://acme.example/v2/token"},
        ),
        desired(slug="github", ownership="organization", description="org root"),
        prune=True,
        ignore=["notion"],
    )


async def _plan(app: FastAPI, state: Desired) -> tuple[Plan, list[RemoteIntegration]]:
    async with client_for(app) as client:
        remote = await client.list_integrations()
    return plan(state, remote), remote


def test_apply_then_plan_is_empty_and_second_apply_sends_no_write() -> None:
    app = create_app(seed=SEED)
    state = _state()
    first, _ = run(_plan(app, state))
    kinds = sorted((a.kind.value, a.slug, a.ownership) for a in first.actions)
    assert kinds == [
        ("create", "acme", "organization"),
        ("create", "slack", "organization"),
        ("delete", "acme", "user"),
        ("update", "github", "organization"),
        ("update", "github", "user"),
    ]

    async def apply_once(current: Plan) -> None:
        async with client_for(app) as client:
            result = await apply_plan(current, client)
        assert result.ok, [r.error for r in result.failed]

    run(apply_once(first))
    second, remote = run(_plan(app, state))
    assert second.actions == ()
    github = next(r for r in remote if r.identity == ("github", "user"))
    assert github.credentials is not None
    assert github.credentials.redacted_client_secret == "9876"
    acme = next(r for r in remote if r.identity == ("acme", "organization"))
    assert acme.custom_provider is not None
    assert acme.custom_provider["token_url"] == "https://acme.example/v2/token"
    assert ("notion", "user") in {r.identity for r in remote}

    before = run(stats(app))["by_method"]
    run(apply_once(second))
    after = run(stats(app))["by_method"]
    for method in ("POST", "PUT", "DELETE"):
        assert after.get(method, 0) == before.get(method, 0)


def test_a_failed_action_does_not_stop_the_others() -> None:
    app = create_app()
    state = desired_state(
        desired(slug="unknown-provider", credentials={"type": "organization"}),
        desired(slug="slack", credentials={"type": "organization"}),
        desired(slug="linear", credentials={"type": "organization"}),
    )
    current, _ = run(_plan(app, state))
    seen: list[ActionResult] = []

    async def scenario() -> None:
        async with client_for(app) as client:
            result = await apply_plan(current, client, concurrency=1, on_result=seen.append)
        assert [r.ok for r in result.results] == [True, True, False]
        failed = result.failed[0]
        assert failed.action.slug == "unknown-provider"
        assert failed.error is not None and "404" in failed.error

    run(scenario())
    assert len(seen) == 3
    remaining, _ = run(_plan(app, state))
    assert [a.slug for a in remaining.actions] == ["unknown-provider"]


def test_creates_and_updates_run_before_deletes() -> None:
    app = create_app(seed=[custom_body("old-crm")])
    state = desired_state(
        desired(slug="slack", credentials={"type": "organization"}),
        prune=True,
    )
    current, _ = run(_plan(app, state))
    order: list[ActionKind] = []

    async def scenario() -> None:
        async with client_for(app) as client:
            await apply_plan(
                current, client, concurrency=8, on_result=lambda r: order.append(r.action.kind)
            )

    run(scenario())
    assert order == [ActionKind.CREATE, ActionKind.DELETE]


def test_replace_deletes_then_creates() -> None:
    app = create_app(
        seed=[{"provider": "snowflake", "auth_methods": ["api_key"], "config": {"account": "a"}}]
    )
    state = desired_state(
        desired(slug="snowflake", auth_methods=["api_key"], config={"account": "b"})
    )
    current, remote = run(_plan(app, state))
    assert [a.kind for a in current.actions] == [ActionKind.REPLACE]

    async def scenario() -> None:
        async with client_for(app) as client:
            assert (await apply_plan(current, client)).ok

    run(scenario())
    after, remote_after = run(_plan(app, state))
    assert after.actions == ()
    assert remote_after[0].config == {"account": "b"}
    assert remote_after[0].id != remote[0].id


def test_request_body_adds_the_secret_only_when_sending() -> None:
    entry = desired(secret="s3cr3t-value", slug="github", credentials=secret_ref())
    (action,) = plan(desired_state(entry), []).actions
    assert "client_secret" not in action.body["credentials"]
    assert request_body(action)["credentials"]["client_secret"] == "s3cr3t-value"
    assert "client_secret" not in action.body["credentials"]
