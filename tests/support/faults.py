"""Helpers for the fault-injection tests: a fake clock, scripted faults, a large scenario."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from reconciler.client import ApiClient
from reconciler.emulator.faults import Fault, FaultKind
from reconciler.emulator.service import Service
from reconciler.models import Desired, DesiredIntegration
from reconciler.plan import Plan
from reconciler.planner import plan
from reconciler.results import ApplyResult
from reconciler.workflow import execute, review
from tests.support.api import AUTH, custom_body
from tests.support.factories import desired, desired_state, secret_ref

Identity = tuple[str, str]
"""An integration as the API lists it: its slug and ownership, as plain JSON strings."""


class FakeClock:
    """A clock that moves only when something sleeps on it."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class ScriptedFaults:
    """A ``FaultPolicy`` that fails the next requests of a method as scripted (None: pass)."""

    script: dict[str, list[Fault | None]] = field(default_factory=dict)

    def choose(self, method: str, target: str, body: bytes) -> Fault | None:
        queue = self.script.get(method, [])
        return queue.pop(0) if queue else None

    def reset(self) -> None:
        self.script.clear()


class Recorder(httpx.AsyncBaseTransport):
    """Passes requests on; remembers each request and each response's headers."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self.inner = inner
        self.requests: list[httpx.Request] = []
        self.replays = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        response = await self.inner.handle_async_request(request)
        if response.headers.get("Idempotent-Replayed") == "true":
            self.replays += 1
        return response


def raw_state(app: FastAPI) -> dict[Identity, dict[str, Any]]:
    """Every integration as the API renders it, read past the fault layer."""
    service = app.state.service
    assert isinstance(service, Service)
    found: dict[Identity, dict[str, Any]] = {}
    after: str | None = None
    while True:
        page = service.list(limit=100, order="asc", after=after)
        for item in page["data"]:
            identity = (item["slug"], item["ownership"])
            assert identity not in found, f"duplicate integration {identity}"
            found[identity] = item
        after = page["list_metadata"]["after"]
        if after is None:
            return found


def untouched_by(first: Plan, before: dict[Identity, dict[str, Any]]) -> set[Identity]:
    """Identities the plan neither acts on nor reaches through a shared custom provider."""
    touched = {a.identity for a in first.actions}
    shared = {a.slug for a in first.actions if "custom_provider" in a.values}
    return {i for i in before if i not in touched and i[0] not in shared}


async def apply_until_converged(
    state: Desired, reader: ApiClient, writer: ApiClient, *, runs: int, concurrency: int = 8
) -> list[ApplyResult]:
    """Plan (through ``reader``) and apply (through ``writer``) until the plan is empty.

    Returns each run's result; fails if the plan is not empty after ``runs`` applies.
    """
    results: list[ApplyResult] = []
    for _ in range(runs):
        reviewed = await review(state, reader, force=True)  # the fault tests prune on purpose
        if not reviewed.has_changes:
            return results
        results.append(await execute(reviewed, writer, concurrency=concurrency))
    remaining = plan(state, await reader.list_integrations())
    assert remaining.actions == (), (
        f"not converged after {runs} runs: {[a.identity for a in remaining.actions]}; "
        f"errors: {[r.error for result in results for r in result.failed]}"
    )
    return results


def only_transient(results: Iterable[ApplyResult]) -> None:
    """Every failure is one the next run can finish (retries exhausted), never a 4xx."""
    for result in results:
        for failed in result.failed:
            assert failed.error is not None
            assert not any(f"API error {code}" in failed.error for code in (400, 404, 409, 422)), (
                failed.error
            )


# -- a scenario of 100+ changes: creates, updates, a secret rotation, a replace, deletes ------

UPDATED = [f"upd-{i:03d}" for i in range(40)]
DELETED = [f"del-{i:03d}" for i in range(30)]
CREATED = [f"new-{i:03d}" for i in range(40)]
KEPT = [f"keep-{i:03d}" for i in range(10)]
LEGACY = [f"legacy-{i:03d}" for i in range(10)]


def _definition(slug: str) -> dict[str, Any]:
    return {
        "name": slug.title(),
        "authorization_url": f"https://{slug}.example/oauth/authorize",
        "token_url": f"https://{slug}.example/oauth/token",
    }


def big_remote() -> list[dict[str, Any]]:
    """The remote state before: seed bodies for ``create_app``."""
    bodies = [custom_body(slug, description=f"old {slug}") for slug in UPDATED]
    bodies += [custom_body(slug) for slug in DELETED + KEPT + LEGACY]
    bodies.append(
        {
            "provider": "github",
            "ownership": "user",
            "credentials": {"type": "custom", "client_id": "app-1", "client_secret": "s-0000"},
        }
    )
    bodies.append(
        {"provider": "snowflake", "auth_methods": ["api_key"], "config": {"account": "old"}}
    )
    return bodies


def big_desired() -> Desired:
    """The manifest: 40 updates, 50 creates, a rotation, a replace, 30 deletes (122 changes)."""
    entries: list[DesiredIntegration] = []

    def custom(slug: str, ownership: str = "user", **fields: Any) -> None:
        entries.append(
            desired(
                slug=slug,
                ownership=ownership,
                custom_provider=_definition(slug),
                credentials={"type": "organization"},
                **fields,
            )
        )

    for slug in UPDATED:
        custom(slug, description=f"new {slug}", enabled=True)
    for slug in CREATED:
        custom(slug, description=f"created {slug}", scopes=["read"])
    for slug in CREATED[:10]:  # the other root of a shared definition
        custom(slug, "organization", description=f"org {slug}")
    for slug in KEPT:
        custom(slug)
    entries.append(
        desired(
            secret="rotated-secret-9876",
            slug="github",
            credentials={**secret_ref(), "client_id": "app-2"},
        )
    )
    entries.append(desired(slug="snowflake", auth_methods=["api_key"], config={"account": "new"}))
    entries.append(desired(slug="legacy-000", description="ignored: settings.ignore wins"))
    return desired_state(*entries, prune=True, ignore=["legacy-*"])


def check_converged(
    after: dict[Identity, dict[str, Any]], first: Plan, before: dict[Identity, dict[str, Any]]
) -> None:
    """No duplicate, nothing lost, nothing outside the plan touched, byte for byte.

    ``after`` and ``before`` as ``raw_state`` reads them (which also refuses duplicates).
    """
    expected = (
        {(s, "user") for s in UPDATED + CREATED + KEPT + LEGACY}
        | {(s, "organization") for s in CREATED[:10]}
        | {("github", "user"), ("snowflake", "user")}
    )
    assert set(after) == expected
    assert len({item["id"] for item in after.values()}) == len(after)
    for slug in UPDATED:
        assert after[(slug, "user")]["description"] == f"new {slug}"
        assert after[(slug, "user")]["enabled"] is True
    for slug in CREATED[:10]:
        assert after[(slug, "organization")]["description"] == f"org {slug}"
    assert after[("github", "user")]["credentials"]["redacted_client_secret"] == "9876"
    assert after[("snowflake", "user")]["config"] == {"account": "new"}
    untouched = untouched_by(first, before)
    assert {(s, "user") for s in KEPT + LEGACY} <= untouched
    for identity in untouched:
        assert after[identity] == before[identity], identity


def raw_listing(base_url: str, *, attempts: int = 50) -> dict[Identity, dict[str, Any]]:
    """Every integration as the API answers, over HTTP, past any injected fault (by retrying)."""
    found: dict[Identity, dict[str, Any]] = {}
    params: dict[str, str | int] = {"limit": 100, "order": "asc"}
    with httpx.Client(base_url=base_url, headers=AUTH, timeout=10) as http:
        while True:
            page = _get_page(http, params, attempts)
            for item in page["data"]:
                identity = (item["slug"], item["ownership"])
                assert identity not in found, f"duplicate integration {identity}"
                found[identity] = item
            after = page["list_metadata"]["after"]
            if after is None:
                return found
            params["after"] = after


def _get_page(http: httpx.Client, params: dict[str, str | int], attempts: int) -> dict[str, Any]:
    for _ in range(attempts):
        try:
            response = http.get("/data-integrations", params=params)
        except httpx.TransportError:
            continue
        if response.status_code == 200:
            page: dict[str, Any] = response.json()
            return page
    raise AssertionError(f"no page after {attempts} attempts")


# -- one write at a time: the fault harness of tests/e2e/test_write_faults.py ---------------

LOST = Fault(FaultKind.DROPPED, after_commit=True)
"""The API commits the write, then the connection drops before the answer (every retry)."""
REFUSED = Fault(FaultKind.UNAVAILABLE)
"""The API answers 503 before doing anything (every retry)."""
WRITES = frozenset({"POST", "PUT", "DELETE"})


@dataclass
class OneWriteFails:
    """A ``FaultPolicy`` that fails the ``position``-th logical write (1-based) of a run,
    every attempt of it, with ``fault``; counts the logical writes it sees (``writes``).

    A logical write is a distinct (method, target, body): a retry sends the same one
    again. ``position`` 0 fails nothing (a counting run); ``active`` False passes all.
    """

    position: int = 0
    fault: Fault = LOST
    active: bool = True
    seen: list[tuple[str, str, bytes]] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return len(self.seen)

    def choose(self, method: str, target: str, body: bytes) -> Fault | None:
        if not self.active or method not in WRITES:
            return None
        write = (method, target, body)
        if write not in self.seen:
            self.seen.append(write)
        if self.position and self.seen.index(write) + 1 == self.position:
            return self.fault
        return None

    def reset(self) -> None:
        self.seen.clear()


def end_state(app: FastAPI) -> dict[Identity, dict[str, Any]]:
    """Every integration as the API shows it, minus what a re-create renews (id, dates,
    redirect URI): what two applies that reached the same state agree on."""
    renewed = {"id", "created_at", "updated_at", "redirect_uri"}
    return {
        identity: {k: v for k, v in item.items() if k not in renewed}
        for identity, item in raw_state(app).items()
    }
