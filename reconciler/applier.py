"""The applier: executes a Plan through the client and reports each action.

Creates, updates and replaces run first (a replace deletes, then creates),
deletes last. Independent actions run concurrently, bounded by
``concurrency``; one failure does not stop the others.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.client import ApiClient
from reconciler.errors import ReconcilerError
from reconciler.plan import Action, ActionKind, Plan


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action."""

    action: Action
    outcome: Outcome
    duration: float
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCEEDED


@dataclass(frozen=True)
class ApplyResult:
    """Every action's result, in plan order."""

    results: tuple[ActionResult, ...]

    @property
    def failed(self) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if not r.ok)

    @property
    def succeeded(self) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if r.ok)

    @property
    def ok(self) -> bool:
        return not self.failed


def request_body(action: Action) -> dict[str, Any]:
    """The body to send: the planned body plus the resolved secret, if any."""
    body = dict(action.body)
    credentials = body.get("credentials")
    if credentials is not None and action.desired is not None:
        credentials = dict(credentials)
        if action.desired.client_secret is not None:
            credentials["client_secret"] = action.desired.client_secret.reveal()
        body["credentials"] = credentials
    return body


async def _execute(client: ApiClient, action: Action) -> None:
    if action.kind is ActionKind.CREATE:
        await client.create(request_body(action))
    elif action.kind is ActionKind.UPDATE:
        await client.update(action.slug, action.ownership, request_body(action))
    elif action.kind is ActionKind.REPLACE:
        await client.delete(action.slug, action.ownership)
        await client.create(request_body(action))
    else:
        await client.delete(action.slug, action.ownership)


async def apply_plan(
    plan: Plan,
    client: ApiClient,
    *,
    concurrency: int = 4,
    on_result: Callable[[ActionResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ApplyResult:
    """Run every action of ``plan``; return a result per action, in plan order."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    gate = asyncio.Semaphore(concurrency)
    results: dict[int, ActionResult] = {}

    async def run(index: int, action: Action) -> None:
        async with gate:
            started = clock()
            try:
                await _execute(client, action)
            except ReconcilerError as error:
                result = ActionResult(action, Outcome.FAILED, clock() - started, str(error))
            else:
                result = ActionResult(action, Outcome.SUCCEEDED, clock() - started)
        results[index] = result
        if on_result is not None:
            on_result(result)

    indexed = list(enumerate(plan.actions))
    first = [(i, a) for i, a in indexed if a.kind is not ActionKind.DELETE]
    last = [(i, a) for i, a in indexed if a.kind is ActionKind.DELETE]
    for phase in (first, last):
        await _gather(run, phase)
    return ApplyResult(tuple(results[i] for i, _ in indexed))


async def _gather(run: Callable[[int, Action], Any], actions: Sequence[tuple[int, Action]]) -> None:
    async with asyncio.TaskGroup() as group:
        for index, action in actions:
            group.create_task(run(index, action))
