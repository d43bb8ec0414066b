"""The applier: executes a Plan through the client and reports each action.

Creates, updates and replaces run first (a replace deletes, then creates),
deletes last. Independent actions run concurrently, bounded by
``concurrency`` (the client paces requests under the API's rate limit); one
failure does not stop the others. The actions on one custom provider's slug
run one after another, in a fixed order (``reconciler.lanes``): they share
its definition. Told to stop (``stop``, e.g. on SIGINT or SIGTERM through
``stop_on_signals``), it starts no new action, lets those in flight finish,
and reports the rest as skipped: running again finishes the work.
A second signal may stop it at once (``stop_on_signals``'s ``on_second``, by
cancelling it): the outcome of the actions in flight is then unknown, except
that a replace whose delete is done always finishes its re-create (or its
restore) first. If the re-create fails, the previous object is restored where
it can be, and the result's ``state`` says what was left (``reconciler.replace``).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from reconciler.api import IntegrationsApi
from reconciler.errors import ActionError, ReconcilerError
from reconciler.lanes import Lane, lanes_of, units
from reconciler.plan import Action, ActionKind, Identity, Plan
from reconciler.recovery import recovery_for
from reconciler.replace import Shield, run_action
from reconciler.results import ActionResult, ApplyResult, Outcome
from reconciler.secrets import Secret

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
SKIPPED_BECAUSE = "not started: the apply was stopped"


Secrets = Mapping[Identity, Secret]
"""Each integration's resolved client secret (``Desired.secrets()``)."""

Unit = list[tuple[int, Action]]


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
    skipped ones included, as it ends (``on_start`` as it starts). If the
    task is cancelled while a replace is between its delete and its re-create,
    the replace runs to its end, ``on_result`` hears how it ended, and then
    the cancellation goes on.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    run = _Run(client, secrets or {}, asyncio.Semaphore(concurrency), clock, stop)
    run.on_start, run.on_result = on_start, on_result
    run.lanes = lanes_of(plan)
    indexed = list(enumerate(plan.actions))
    first = [(i, a) for i, a in indexed if a.kind is not ActionKind.DELETE]
    last = [(i, a) for i, a in indexed if a.kind is ActionKind.DELETE]
    for phase in (first, last):
        await _gather(run.unit, units(plan, phase))
    return ApplyResult(tuple(run.results[i] for i, _ in indexed), stopped=run.stopped)


class _Run:
    """One apply's shared state: the gate, the lanes, the results so far, whether it was
    stopped."""

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
        self.lanes: dict[str, Lane] = {}
        self.stopped = False

    def finish(self, index: int, result: ActionResult) -> None:
        self.results[index] = result
        if self.on_result is not None:
            self.on_result(result)

    async def unit(self, actions: Unit) -> None:
        """Run the actions of one unit one after another (one lane, or one action)."""
        for index, action in actions:
            await self.one(index, action)

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
        shield = Shield()
        try:
            secret = self.secrets.get(action.identity)
            lane = self.lanes.get(action.slug)
            await run_action(self.client, action, secret, lane, shield)
        except Exception as error:  # one action's failure, whatever it is, stops no other
            state = error.state if isinstance(error, ActionError) else None
            elapsed = self.clock() - started
            result = ActionResult(
                action,
                Outcome.FAILED,
                elapsed,
                _describe(error),
                state,
                recovery_for(action, state),
            )
        else:
            result = ActionResult(action, Outcome.SUCCEEDED, self.clock() - started)
        if shield.cancelled:  # finished what could not be left halfway: report, then stop
            self.finish(index, result)
            raise asyncio.CancelledError
        return result


async def _gather(run: Callable[[Unit], Coroutine[Any, Any, None]], work: Sequence[Unit]) -> None:
    async with asyncio.TaskGroup() as group:
        for unit in work:
            group.create_task(run(unit))


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
    one stops the process at once. With it, ``on_second`` hears of every later
    signal instead (to stop at once, e.g. by cancelling the task that applies,
    after saying which actions were in flight: their outcome is unknown), and
    the signals stay handled until the block ends: a replace between its
    delete and its re-create finishes whatever is sent (SIGKILL aside). Where
    the loop cannot handle signals (Windows), the event is never set.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    installed: list[signal.Signals] = []

    def restore() -> None:
        while installed:
            loop.remove_signal_handler(installed.pop())

    def received(which: signal.Signals) -> None:
        if stop.is_set():  # a later one: only reached with on_second
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
