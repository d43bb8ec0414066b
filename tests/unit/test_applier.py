"""The applier against the emulator: apply, then plan is empty; partial failure; order."""

from __future__ import annotations

import asyncio
import os
import signal
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from reconciler.applier import SKIPPED_BECAUSE, apply_plan, stop_on_signals
from reconciler.client import ApiClient
from reconciler.emulator.app import create_app
from reconciler.models import Desired, Ownership, RemoteIntegration
from reconciler.plan import ActionKind, Plan
from reconciler.planner import plan
from reconciler.results import ActionResult, ApplyResult, Outcome
from reconciler.wire import request_body
from tests.support import API_KEY, BASE_URL, client_for, custom_body, run, stats
from tests.support.factories import desired, desired_state, secret_ref

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
            result = await apply_plan(current, client, secrets=state.secrets())
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
    assert "client_secret" not in action.values["credentials"]
    assert "client_secret" not in request_body(action)["credentials"]
    secret = desired_state(entry).secrets()[action.identity]
    assert request_body(action, secret)["credentials"]["client_secret"] == "s3cr3t-value"
    assert "client_secret" not in action.values["credentials"]


# -- stopping: SIGINT / SIGTERM, or any stop callable ----------------------------------------


def _ten_creates() -> Desired:
    return desired_state(
        *(
            desired(
                slug=f"crm-{i}",
                custom_provider={
                    "name": f"CRM {i}",
                    "authorization_url": "https://crm.example/authorize",
                    "token_url": "https://crm.example/token",
                },
                credentials={"type": "organization"},
            )
            for i in range(8)
        ),
        desired(slug="slack", credentials={"type": "organization"}),
        prune=True,
    )


def test_stop_after_n_actions_reports_the_rest_skipped_and_a_rerun_converges() -> None:
    app = create_app(seed=[custom_body("old-crm")])
    state = _ten_creates()
    current, _ = run(_plan(app, state))
    assert len(current.actions) == 10
    heard: list[ActionResult] = []

    async def scenario() -> ApplyResult:
        async with client_for(app) as client:
            return await apply_plan(
                current,
                client,
                concurrency=1,
                on_result=heard.append,
                stop=lambda: len(heard) >= 3,
            )

    result = run(scenario())
    assert result.stopped and not result.ok and not result.failed
    creates = [r.outcome for r in result.results if r.action.kind is not ActionKind.DELETE]
    assert creates == [Outcome.SUCCEEDED] * 3 + [Outcome.SKIPPED] * 6
    (delete,) = (r for r in result.results if r.action.kind is ActionKind.DELETE)
    assert delete.outcome is Outcome.SKIPPED  # deletes run last, and display first
    assert all(r.error == SKIPPED_BECAUSE and r.duration == 0.0 for r in result.skipped)
    assert len(heard) == 10  # skipped actions are reported too
    assert run(stats(app))["by_method"]["POST"] == 3
    assert run(stats(app))["by_method"]["DELETE"] == 0  # the delete phase never began

    remaining, _ = run(_plan(app, state))
    assert {a.identity for a in remaining.actions} == {r.action.identity for r in result.skipped}

    async def finish(rest: Plan) -> ApplyResult:
        async with client_for(app) as client:
            return await apply_plan(rest, client)

    assert run(finish(remaining)).ok
    assert run(_plan(app, state))[0].actions == ()


def test_a_stop_lets_actions_in_flight_finish() -> None:
    app = create_app(latency_ms=20)
    state = _ten_creates()
    current, _ = run(_plan(app, state))

    async def scenario() -> ApplyResult:
        stop = asyncio.Event()

        def first_done(_: ActionResult) -> None:
            stop.set()

        async with client_for(app) as client:
            return await apply_plan(
                current, client, concurrency=4, on_result=first_done, stop=stop.is_set
            )

    result = run(scenario())
    # The four started at once all finish; none of the others starts.
    assert len(result.succeeded) == 4 and len(result.skipped) == 5
    remote = {r.identity for r in run(_plan(app, state))[1]}
    assert {r.action.identity for r in result.succeeded} == remote


class Exploding(ApiClient):
    """A client whose updates raise something unexpected."""

    async def update(self, slug: str, ownership: Ownership, body: dict[str, Any]) -> Any:
        raise RuntimeError("boom")


def test_an_unexpected_error_fails_its_action_only() -> None:
    app = create_app(seed=[custom_body("acme", description="old")])
    state = desired_state(
        desired(slug="acme", custom_provider={"name": "Acme"}, description="new"),
        desired(slug="slack", credentials={"type": "organization"}),
    )
    current, _ = run(_plan(app, state))

    async def scenario() -> ApplyResult:
        client = Exploding(
            api_key=API_KEY, base_url=BASE_URL, transport=httpx.ASGITransport(app=app)
        )
        async with client:
            return await apply_plan(current, client)

    result = run(scenario())
    assert [(r.action.kind, r.outcome) for r in result.results] == [
        (ActionKind.CREATE, Outcome.SUCCEEDED),
        (ActionKind.UPDATE, Outcome.FAILED),
    ]
    assert result.failed[0].error == "unexpected RuntimeError: boom"


@pytest.mark.parametrize("which", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_stop_on_signals_sets_the_event_once_then_gives_the_signals_back(
    which: signal.Signals,
) -> None:
    heard: list[signal.Signals] = []

    async def scenario() -> None:
        with stop_on_signals(on_signal=heard.append) as stop:
            assert not stop.is_set()
            os.kill(os.getpid(), which)
            await asyncio.wait_for(stop.wait(), timeout=5)
            # A second signal would now act as by default (stop the process at once).
            assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL
            assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    run(scenario())
    assert heard == [which]


def test_stop_on_signals_removes_its_handlers_on_exit() -> None:
    async def scenario() -> None:
        with stop_on_signals() as stop:
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL
        assert not stop.is_set()
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL

    run(scenario())


def test_replacing_the_last_integration_of_a_custom_provider_keeps_its_definition() -> None:
    app = create_app(seed=[custom_body("acme")])
    state = desired_state(desired(slug="acme", auth_methods=["api_key"]))
    current, _ = run(_plan(app, state))
    assert [a.kind for a in current.actions] == [ActionKind.REPLACE]

    async def scenario() -> None:
        async with client_for(app) as client:
            result = await apply_plan(current, client, secrets=state.secrets())
            assert result.ok, [r.error for r in result.failed]

    run(scenario())
    after, remote_after = run(_plan(app, state))
    assert after.actions == ()
    assert remote_after[0].custom_provider is not None
    assert remote_after[0].custom_provider["name"] == "Acme"
