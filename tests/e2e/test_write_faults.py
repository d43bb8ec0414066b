"""The fault harness: one logical write of an apply fails, at each position in turn.

Each scenario mixes replaces (a built-in one carrying over unmanaged fields and
organization credentials; custom ones beside a sibling that is created,
updated, replaced or deleted), creates and updates. For every write the
apply makes, and for both ways a write fails (its answer lost after the API
committed it, or refused before), a fresh emulator runs the apply with that
one fault, then clean re-runs: they must reach the very state a fault-free
apply reaches (every field, the shared definitions included), with nothing
the manifest leaves unmanaged lost or reverted and no duplicate. A lost
answer is settled by a GET, so that apply succeeds in one run; a refused
write fails its action, and a replace is then restored, never left deleted.
In-process (ASGI), backoff not waited: the whole harness takes seconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from reconciler.emulator.app import create_app
from reconciler.emulator.transport import EmulatorTransport
from reconciler.lanes import LANE_ORDER
from reconciler.models import Desired
from reconciler.plan import ActionKind
from reconciler.results import ApplyResult, LeftState
from reconciler.workflow import execute, review
from tests.support import client_for, run
from tests.support.factories import desired, desired_state
from tests.support.faults import (
    LOST,
    REFUSED,
    OneWriteFails,
    apply_until_converged,
    end_state,
)

ORG = {"type": "organization"}


def _definition(slug: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": slug.title(),
        "authorization_url": f"https://{slug}.example/oauth/authorize",
        "token_url": f"https://{slug}.example/oauth/token",
        **fields,
    }


def _acme(ownership: str, **fields: Any) -> dict[str, Any]:
    """A seed body of the custom provider acme, with fields the manifests leave unmanaged."""
    body: dict[str, Any] = {
        "provider": "acme",
        "ownership": ownership,
        "description": f"kept {ownership}",
        "enabled": True,
        "scopes": ["read", "write"],
        "auth_methods": ["oauth"],
        "credentials": ORG,
        "custom_provider": _definition("acme", scopes_required=True),
    }
    body.update(fields)
    return body


NEW_TOKEN_URL = "https://acme.example/oauth/v2/token"
BOTH_METHODS = ["oauth", "api_key"]


@dataclass(frozen=True)
class Scenario:
    name: str
    seed: list[dict[str, Any]]
    entries: list[dict[str, Any]]
    settings: dict[str, Any] = field(default_factory=dict)
    kinds: tuple[ActionKind, ...] = ()
    """The kinds of action the plan must hold (what the scenario is about)."""

    def desired(self) -> Desired:
        return desired_state(*(desired(**entry) for entry in self.entries), **self.settings)


SCENARIOS = [
    Scenario(
        "built-in replace carrying fields and organization credentials, a create, an update",
        seed=[
            {
                "provider": "snowflake",
                "description": "kept",
                "enabled": True,
                "scopes": ["session:role-any"],
                "config": {"account": "a"},
                "credentials": ORG,
            },
            {"provider": "slack", "description": "old", "credentials": ORG},
        ],
        entries=[
            {"slug": "snowflake", "config": {"account": "b"}},
            {"slug": "slack", "description": "new"},
            {"slug": "github", "ownership": "organization", "credentials": ORG},
        ],
        kinds=(ActionKind.REPLACE, ActionKind.CREATE, ActionKind.UPDATE),
    ),
    Scenario(
        "custom replace with its sibling created and the definition changed",
        seed=[_acme("user")],
        entries=[
            {
                "slug": "acme",
                "auth_methods": BOTH_METHODS,
                "custom_provider": {"token_url": NEW_TOKEN_URL},
            },
            {"slug": "acme", "ownership": "organization", "credentials": ORG},
        ],
        kinds=(ActionKind.REPLACE, ActionKind.CREATE),
    ),
    Scenario(
        "custom replace with its sibling updated, the definition changed on the sibling",
        seed=[_acme("user"), _acme("organization")],
        entries=[
            {"slug": "acme", "auth_methods": BOTH_METHODS},
            {
                "slug": "acme",
                "ownership": "organization",
                "description": "org, new",
                "custom_provider": {"name": "Acme Two"},
            },
            {"slug": "linear", "credentials": ORG},
        ],
        kinds=(ActionKind.REPLACE, ActionKind.UPDATE, ActionKind.CREATE),
    ),
    Scenario(
        "custom replace with its sibling replaced too",
        seed=[_acme("user"), _acme("organization", description="org")],
        entries=[
            {
                "slug": "acme",
                "auth_methods": BOTH_METHODS,
                "custom_provider": {"token_url": NEW_TOKEN_URL},
            },
            {"slug": "acme", "ownership": "organization", "auth_methods": BOTH_METHODS},
        ],
        kinds=(ActionKind.REPLACE,),
    ),
    Scenario(
        "custom replace with its sibling deleted (prune), a create and an update",
        seed=[
            _acme("user"),
            _acme("organization"),
            {"provider": "notion", "description": "old", "credentials": ORG},
        ],
        entries=[
            {"slug": "acme", "auth_methods": BOTH_METHODS},
            {"slug": "notion", "description": "new"},
            {"slug": "zendesk", "credentials": ORG},
        ],
        settings={"prune": True},
        kinds=(ActionKind.REPLACE, ActionKind.DELETE, ActionKind.CREATE, ActionKind.UPDATE),
    ),
]
IDS = [s.name.split(" with ")[-1].split(",")[0].replace(" ", "-") for s in SCENARIOS]


async def _apply_once(app: Any, state: Desired, *, max_retries: int = 1) -> ApplyResult:
    """One apply as the tool runs it (review, then execute), backoff not waited."""
    async with client_for(
        app,
        transport=EmulatorTransport(app=app),
        max_retries=max_retries,
        max_requests_per_minute=None,
    ) as client:
        reviewed = await review(state, client, force=True)
        return await execute(reviewed, client, concurrency=4)


def _fault_free(scenario: Scenario) -> tuple[dict[Any, Any], int]:
    """The end state of a fault-free apply, and how many logical writes it made."""
    counting = OneWriteFails()
    app = create_app(seed=scenario.seed, faults=counting)
    result = run(_apply_once(app, scenario.desired()))
    assert result.ok, [r.error for r in result.failed]
    assert {r.action.kind for r in result.results} == set(scenario.kinds)
    return end_state(app), counting.writes


async def _converge(app: Any, state: Desired) -> list[ApplyResult]:
    async with client_for(app, transport=EmulatorTransport(app=app)) as client:
        return await apply_until_converged(state, client, client, runs=3, concurrency=4)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=IDS)
def test_one_failed_write_at_each_position_then_reruns_reach_the_fault_free_state(
    scenario: Scenario,
) -> None:
    expected, writes = _fault_free(scenario)
    assert writes >= 3
    for position in range(1, writes + 1):
        for fault in (LOST, REFUSED):
            where = f"write {position} of {writes}, {fault.label}"
            policy = OneWriteFails(position, fault)
            app = create_app(seed=scenario.seed, faults=policy)
            first = run(_apply_once(app, scenario.desired()))
            assert policy.writes >= position, where
            if fault is LOST:  # the GET after it says it took effect: done, and said so
                assert first.ok, (where, [r.error for r in first.failed])
            else:
                assert first.failed, where
                left = {r.state for r in first.failed}
                assert left <= {None, LeftState.RESTORED}, (where, [r.error for r in first.failed])
            policy.active = False
            reruns = run(_converge(app, scenario.desired()))
            for result in reruns:
                assert result.ok, (where, [r.error for r in result.failed])
            assert end_state(app) == expected, where


@pytest.mark.parametrize("latency_ms", [0, 50, 200])
def test_each_scenario_applies_in_one_run_at_any_latency(latency_ms: int) -> None:
    for scenario in SCENARIOS:
        app = create_app(seed=scenario.seed, latency_ms=latency_ms)
        result = run(_apply_once(app, scenario.desired(), max_retries=3))
        assert result.ok, (scenario.name, [r.error for r in result.failed])
        assert run(_converge(app, scenario.desired())) == [], scenario.name


def test_the_lane_order_runs_what_keeps_a_definition_before_what_deletes_one() -> None:
    assert LANE_ORDER == (
        ActionKind.CREATE,
        ActionKind.UPDATE,
        ActionKind.REPLACE,
        ActionKind.DELETE,
    )
