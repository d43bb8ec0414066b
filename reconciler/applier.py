"""The applier: executes a Plan through the client and reports each action.

Creates, updates and replaces run first (a replace deletes, then creates),
deletes last. Independent actions run concurrently, bounded by
``concurrency`` (the client paces requests under the API's rate limit); one
failure does not stop the others. Told to stop (``stop``, e.g. on SIGINT or
SIGTERM through ``stop_on_signals``), it starts no new action, lets those in
flight finish, and reports the rest as skipped: running again finishes the work.
A second signal may stop it at once (``stop_on_signals``'s ``on_second``, by
cancelling it): the outcome of the actions in flight is then unknown.
A replace whose delete is done always finishes its create; if that fails, the
previous object is restored where it can be, and the result's ``state`` says
what was left (``reconciler.replace``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from reconciler.api import IntegrationsApi
from reconciler.errors import ActionError, ReconcilerError
from reconciler.plan import Action, ActionKind, Identity, Plan
from reconciler.replace import create, replace
from reconciler.results import ActionResult, ApplyResult, Outcome
from reconciler.secrets import Secret
from reconciler.wire import request_body

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SKIPPED_BECAUSE = "not started: the apply was stopped"


Secrets = Mapping[Identity, Secret]
"""Each integration's resolved client secret (``Desired.secrets()``)."""


async def _execute(
    client: IntegrationsApi,
    action: Action,
    secret: Secret | None,
    on_interrupt: Callable[[ActionError], None],
) -> None:
    if action.kind is ActionKind.CREATE:
        await create(client, request_body(action, secret))
    elif action.kind is ActionKind.UPDATE:
        await client.update(action.slug, action.ownership, request_body(action, secret))
    elif action.kind is ActionKind.REPLACE:
        body = request_body(action, secret)
        await replace(client, action, body, secret=secret, on_interrupt=on_interrupt)
    else:
        await client.delete(action.slug, action.ownership)


def _describe(error: Exception) -> str:
    if isinstance(error, ReconcilerError):
        return str(error)
    return f"unexpected {type(error).__name__}: {error}"


async def apply_plan(
    plan: Plan,
    client: IntegrationsApi,
    *,
    secrets: Secrets | None = None,
    concurrency: int = 4,
    on_start: Callable[[Action], None] | None = None,
    on_result: Callable[[ActionResult], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    stop: Callable[[], bool] | None = None,
) -> ApplyResult:
    """Run every action of ``plan``; return a result per action, in plan order.

    This runs the plan as it is: the rails (protect, prune, the delete
    threshold) are checked by ``reconciler.workflow.execute``, the way in for
    callers. ``secrets`` holds the client secrets the actions send, by
    identity; they are revealed only in the request bodies.

    ``stop`` is asked before each action starts (pass ``event.is_set`` for an
    ``asyncio.Event``); once it answers True, no action starts: those not
    started are reported ``skipped``. ``on_result`` hears of every action,
    skipped ones included, as it ends (``on_start`` as it starts); if the task
    is cancelled while a replace's integration is deleted and not yet
    re-created, it hears that DELETED report before the cancellation goes on.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    run = _Run(client, secrets or {}, asyncio.Semaphore(concurrency), clock, stop)
    run.on_start, run.on_result = on_start, on_result
    indexed = list(enumerate(plan.actions))
    first = [(i, a) for i, a in indexed if a.kind is not ActionKind.DELETE]
    last = [(i, a) for i, a in indexed if a.kind is ActionKind.DELETE]
    for phase in (first, last):
        await _gather(run.one, phase)
    return ApplyResult(tuple(run.results[i] for i, _ in indexed), stopped=run.stopped)


class _Run:
    """One apply's shared state: the gate, the results so far, whether it was stopped."""

    def __init__(
        self,
        client: IntegrationsApi,
        secrets: Secrets,
        gate: asyncio.Semaphore,
        clock: Callable[[], float],
        stop: Callable[[], bool] | None,
    ) -> None:
        self.client = client
        self.secrets = secrets
        self.gate = gate
        self.clock = clock
        self.stop = stop
        self.on_start: Callable[[Action], None] | None = None
        self.on_result: Callable[[ActionResult], None] | None = None
        self.results: dict[int, ActionResult] = {}
        self.stopped = False

    def finish(self, index: int, result: ActionResult) -> None:
        self.results[index] = result
        if self.on_result is not None:
            self.on_result(result)

    async def one(self, index: int, action: Action) -> None:
        async with self.gate:
            if self.stopped or (self.stop is not None and self.stop()):
                self.stopped = True
                self.finish(index, ActionResult(action, Outcome.SKIPPED, 0.0, SKIPPED_BECAUSE))
                return
            result = await self._execute(index, action)
        self.finish(index, result)

    async def _execute(self, index: int, action: Action) -> ActionResult:
        started = self.clock()
        if self.on_start is not None:
            self.on_start(action)

        def interrupted(error: ActionError) -> None:
            elapsed = self.clock() - started
            self.finish(
                index, ActionResult(action, Outcome.FAILED, elapsed, str(error), error.state)
            )

        try:
            secret = self.secrets.get(action.identity)
            await _execute(self.client, action, secret, interrupted)
        except Exception as error:  # one action's failure, whatever it is, stops no other
            state = error.state if isinstance(error, ActionError) else None
            elapsed = self.clock() - started
            return ActionResult(action, Outcome.FAILED, elapsed, _describe(error), state)
        return ActionResult(action, Outcome.SUCCEEDED, self.clock() - started)


async def _gather(run: Callable[[int, Action], Any], actions: Sequence[tuple[int, Action]]) -> None:
    async with asyncio.TaskGroup() as group:
        for index, action in actions:
            group.create_task(run(index, action))


@contextmanager
def stop_on_signals(
    on_signal: Callable[[signal.Signals], None] | None = None,
    signals: Sequence[signal.Signals] = STOP_SIGNALS,
    *,
    on_second: Callable[[signal.Signals], None] | None = None,
) -> Iterator[asyncio.Event]:
    """Within a running event loop: an event set by the first SIGINT or SIGTERM.

    Pass ``event.is_set`` as ``apply_plan``'s ``stop``. ``on_signal`` hears of
    the first signal (to say what happens next). Without ``on_second``, the
    first signal also gives the signals back their default action, so a second
    one stops the process at once. With it, ``on_second`` hears of the second
    signal instead (to stop at once, e.g. by cancelling the task that applies,
    after saying which actions were in flight: their outcome is unknown), and
    only then are the signals given back, so a third stops the process. Where
    the loop cannot handle signals (Windows), the event is never set.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []

    def restore() -> None:
        while installed:
            loop.remove_signal_handler(installed.pop())

    def received(which: signal.Signals) -> None:
        if stop.is_set():  # the second: only reached with on_second
            restore()
            assert on_second is not None
            on_second(which)
            return
        if on_second is None:
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
