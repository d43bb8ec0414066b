"""One slug, one lane: the actions on one custom provider run in order, the definition
goes with the first that can carry it, a create beside a sibling sends none, and a
restore never undoes a sibling's change. Requests recorded at the transport."""

from __future__ import annotations

import json
from typing import Any

import httpx

from reconciler.emulator.app import create_app
from reconciler.emulator.transport import EmulatorTransport
from reconciler.plan import ActionKind
from reconciler.results import LeftState, Outcome
from reconciler.workflow import execute, review
from tests.support import client_for, run
from tests.support.factories import desired, desired_state
from tests.support.faults import REFUSED, OneWriteFails, Recorder, raw_state

ORG = {"type": "organization"}
DEFINITION = {
    "name": "Acme",
    "authorization_url": "https://acme.example/oauth/authorize",
    "token_url": "https://acme.example/oauth/token",
}


def _acme(ownership: str, **fields: Any) -> dict[str, Any]:
    return {
        "provider": "acme",
        "ownership": ownership,
        "credentials": ORG,
        "custom_provider": DEFINITION,
        **fields,
    }


def _writes(recorder: Recorder) -> list[tuple[str, str, dict[str, Any] | None]]:
    return [
        (r.method, r.url.path, json.loads(r.content) if r.content else None)
        for r in recorder.requests
        if r.method != "GET"
    ]


async def _apply(app: Any, state: Any, transport: httpx.AsyncBaseTransport) -> Any:
    async with client_for(app, transport=transport, max_retries=1) as client:
        reviewed = await review(state, client, force=True)
        return reviewed.plan, await execute(reviewed, client, concurrency=4)


def test_a_create_beside_a_sibling_sends_no_definition_and_a_put_changes_it() -> None:
    app = create_app(seed=[_acme("user", auth_methods=["oauth"])])
    state = desired_state(
        desired(slug="acme", auth_methods=["oauth", "api_key"], custom_provider={"name": "New"}),
        desired(slug="acme", ownership="organization", credentials=ORG),
    )
    recorder = Recorder(EmulatorTransport(app=app))
    made, result = run(_apply(app, state, recorder))
    assert result.ok, [r.error for r in result.failed]
    assert [a.kind for a in made.actions] == [ActionKind.REPLACE, ActionKind.CREATE]
    # the create first (it keeps the definition alive), then the replace beside it
    assert [(m, p) for m, p, _ in _writes(recorder)] == [
        ("POST", "/data-integrations"),
        ("PUT", "/data-integrations/acme/organization"),
        ("DELETE", "/data-integrations/acme"),
        ("POST", "/data-integrations"),
    ]
    create, put, _, recreate = (body for _, _, body in _writes(recorder))
    assert create is not None and "custom_provider" not in create
    assert put == {"custom_provider": {"name": "New"}}
    assert recreate is not None and "custom_provider" not in recreate
    after = raw_state(app)
    assert after[("acme", "user")]["custom_provider"]["name"] == "New"
    assert after[("acme", "user")]["auth_methods"] == ["oauth", "api_key"]


def test_a_failed_replace_restores_beside_its_sibling_without_undoing_the_siblings_change() -> None:
    app_seed = [_acme("user", description="kept"), _acme("organization")]
    refuse_the_recreate = OneWriteFails(3, REFUSED)  # 1: PUT org, 2: DELETE user, 3: POST
    app = create_app(seed=app_seed, faults=refuse_the_recreate)
    state = desired_state(
        desired(slug="acme", auth_methods=["oauth", "api_key"]),
        desired(
            slug="acme",
            ownership="organization",
            description="org",
            custom_provider={"name": "New"},
        ),
    )
    recorder = Recorder(EmulatorTransport(app=app))
    _, result = run(_apply(app, state, recorder))
    outcomes = {(r.action.kind, r.outcome, r.state) for r in result.results}
    assert outcomes == {
        (ActionKind.UPDATE, Outcome.SUCCEEDED, None),
        (ActionKind.REPLACE, Outcome.FAILED, LeftState.RESTORED),
    }
    restore = [body for m, _, body in _writes(recorder) if m == "POST"][-1]
    assert restore is not None and "custom_provider" not in restore
    after = raw_state(app)
    assert after[("acme", "user")]["custom_provider"]["name"] == "New"  # not undone
    assert after[("acme", "user")]["description"] == "kept"
    assert after[("acme", "user")]["auth_methods"] == ["oauth"]  # as it was


def test_the_definition_change_rides_on_the_visible_sibling_not_on_a_create() -> None:
    """A create can meet an integration this API does not list (409): a definition change
    it carried would never converge, so the existing sibling in the manifest carries it."""
    app = create_app(
        seed=[
            _acme("organization"),
            {"provider": "acme", "ownership": "user", "credentials": {"type": "unsupported"}},
        ]
    )
    state = desired_state(
        desired(slug="acme", credentials=ORG, custom_provider={"name": "New"}),
        desired(slug="acme", ownership="organization", credentials=ORG),
    )
    recorder = Recorder(EmulatorTransport(app=app))
    made, result = run(_apply(app, state, recorder))
    update = next(a for a in made.actions if a.kind is ActionKind.UPDATE)
    assert update.identity == ("acme", "organization")
    assert update.values == {"custom_provider": {"name": "New"}}
    create = next(a for a in made.actions if a.kind is ActionKind.CREATE)
    assert "custom_provider" not in create.values
    failed = [r.action.kind for r in result.failed]
    assert failed == [ActionKind.CREATE]  # the hidden one: 409, explained
    assert raw_state(app)[("acme", "organization")]["custom_provider"]["name"] == "New"
