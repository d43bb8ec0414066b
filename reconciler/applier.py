"""The applier: executes a Plan through the client and reports each action.

Creates, updates and replaces run first (a replace deletes, then creates),
deletes last. Independent actions run concurrently, bounded by
``concurrency`` (the client paces requests under the API's rate limit); one
failure does not stop the others. Told to stop (``stop``, e.g. on SIGINT or
SIGTERM through ``stop_on_signals``), it starts no new action, lets those in
flight finish, and reports the rest as skipped: running again finishes the work.
A replace whose delete is done always finishes its create; if that fails, the
previous object is restored where it can be, and the result's ``state`` says
what was left (``reconciler.replace``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.client import ApiClient
from reconciler.errors import ReconcilerError
from reconciler.plan import Action, ActionKind, Plan
from reconciler.replace import ActionError, LeftState, create, replace

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SKIPPED_BECAUSE = "not started: the apply was stopped"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action; ``state``: what a failed replace left behind."""

    action: Action
    outcome: Outcome
    duration: float
    error: str | None = None
    state: LeftState | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCEEDED


@dataclass(frozen=True)
class ApplyResult:
    """Every action's result, in plan order; ``stopped`` if told to stop early."""

    results: tuple[ActionResult, ...]
    stopped: bool = False

    def _with(self, outcome: Outcome) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if r.outcome is outcome)

    @property
    def failed(self) -> tuple[ActionResult, ...]:
        return self._with(Outcome.FAILED)

    @property
    def succeeded(self) -> tuple[ActionResult, ...]:
        return self._with(Outcome.SUCCEEDED)

    @property
    def skipped(self) -> tuple[ActionResult, ...]:
        return self._with(Outcome.SKIPPED)

    @property
    def ok(self) -> bool:
        """Every action succeeded: none failed, none was skipped."""
        return all(r.ok for r in self.results)


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


async def _execute(
    client: ApiClient, action: Action, on_interrupt: Callable[[ActionError], None]
) -> None:
    if action.kind is ActionKind.CREATE:
        await create(client, request_body(action))
    elif action.kind is ActionKind.UPDATE:
        await client.update(action.slug, action.ownership, request_body(action))
    elif action.kind is ActionKind.REPLACE:
        await replace(client, action, request_body(action), on_interrupt=on_interrupt)
    else:
        await client.delete(action.slug, action.ownership)


def _describe(error: Exception) -> str:
    if isinstance(error, ReconcilerError):
        return str(error)
    return f"unexpected {type(error).__name__}: {error}"


async def apply_plan(
    plan: Plan,
    client: ApiClient,
    *,
    concurrency: int = 4,
    on_result: Callable[[ActionResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    stop: Callable[[], bool] | None = None,
) -> ApplyResult:
    """Run every action of ``plan``; return a result per action, in plan order.

    ``stop`` is asked before each action starts (pass ``event.is_set`` for an
    ``asyncio.Event``); once it answers True, no action starts: those not
    started are reported ``skipped``. ``on_result`` hears of every action,
    skipped ones included, as it ends; if the task is cancelled while a
    replace's integration is deleted and not yet re-created, it hears that
    DELETED report before the cancellation goes on.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    gate = asyncio.Semaphore(concurrency)
    results: dict[int, ActionResult] = {}
    stopped = False

    def finish(index: int, result: ActionResult) -> None:
        results[index] = result
        if on_result is not None:
            on_result(result)

    async def run(index: int, action: Action) -> None:
        nonlocal stopped
        async with gate:
            if stopped or (stop is not None and stop()):
                stopped = True
                finish(index, ActionResult(action, Outcome.SKIPPED, 0.0, SKIPPED_BECAUSE))
                return
            started = clock()

            def interrupted(error: ActionError) -> None:
                failed = ActionResult(
                    action, Outcome.FAILED, clock() - started, str(error), error.state
                )
                finish(index, failed)

            try:
                await _execute(client, action, interrupted)
            except Exception as error:  # one action's failure, whatever it is, stops no other
                state = error.state if isinstance(error, ActionError) else None
                result = ActionResult(
                    action, Outcome.FAILED, clock() - started, _describe(error), state
                )
            else:
                result = ActionResult(action, Outcome.SUCCEEDED, clock() - started)
        finish(index, result)

    indexed = list(enumerate(plan.actions))
    first = [(i, a) for i, a in indexed if a.kind is not ActionKind.DELETE]
    last = [(i, a) for i, a in indexed if a.kind is ActionKind.DELETE]
    for phase in (first, last):
        await _gather(run, phase)
    return ApplyResult(tuple(results[i] for i, _ in indexed), stopped=stopped)


async def _gather(run: Callable[[int, Action], Any], actions: Sequence[tuple[int, Action]]) -> None:
    async with asyncio.TaskGroup() as group:
        for index, action in actions:
            group.create_task(run(index, action))


@contextmanager
def stop_on_signals(
    on_signal: Callable[[signal.Signals], None] | None = None,
    signals: Sequence[signal.Signals] = STOP_SIGNALS,
) -> Iterator[asyncio.Event]:
    """Within a running event loop: an event set by the first SIGINT or SIGTERM.

    Pass ``event.is_set`` as ``apply_plan``'s ``stop``. The first signal also
    gives the signals back their default action, so a second one stops the
    process at once. ``on_signal`` hears of the first (to say what happens
    next). Where the loop cannot handle signals (Windows), the event is never set.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []

    def restore() -> None:
        while installed:
            loop.remove_signal_handler(installed.pop())

    def received(which: signal.Signals) -> None:
        restore()
        stop.set()
        if on_signal is not None:
            on_signal(which)

    try:
        for which in signals:
            loop.add_signal_handler(which, received, which)
            installed.append(which)
    except (NotImplementedError, RuntimeError):
        restore()
    try:
        yield stop
    finally:
        restore()
