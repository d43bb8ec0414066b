"""``stop_on_signals`` with ``on_second``: the first signal stops dispatching, the second
and every later one are heard (to stop at once), and the signals are given back at the
end; the progress report knows which actions are in flight."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from reconciler.applier import stop_on_signals
from reconciler.cli.console import Progress, stopped_at_once
from reconciler.plan import Action, ActionKind, Plan
from reconciler.results import ActionResult, Outcome
from tests.support import run


@pytest.mark.parametrize("which", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_every_later_signal_is_heard_and_the_signals_are_given_back_at_the_end(
    which: signal.Signals,
) -> None:
    """A cancelled CI job sends SIGINT, then SIGTERM: neither may kill the process while a
    replace is between its delete and its re-create, so the handlers stay until the end."""
    first: list[signal.Signals] = []
    later: list[signal.Signals] = []
    other = signal.SIGTERM if which is signal.SIGINT else signal.SIGINT

    async def scenario() -> None:
        heard = asyncio.Event()

        def on_second(signum: signal.Signals) -> None:
            later.append(signum)
            if len(later) == 2:
                heard.set()

        with stop_on_signals(on_signal=first.append, on_second=on_second) as stop:
            os.kill(os.getpid(), which)
            await asyncio.wait_for(stop.wait(), timeout=5)
            assert signal.getsignal(which) not in (signal.SIG_DFL, signal.default_int_handler)
            os.kill(os.getpid(), which)
            os.kill(os.getpid(), other)
            await asyncio.wait_for(heard.wait(), timeout=5)
            assert signal.getsignal(signal.SIGTERM) != signal.SIG_DFL  # still handled
        assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # given back
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    run(scenario())
    assert (first, later) == ([which], [which, other])


def _action(slug: str, kind: ActionKind = ActionKind.CREATE) -> Action:
    return Action(kind, slug, "user")


def test_progress_knows_the_actions_in_flight() -> None:
    a, b, c = _action("a"), _action("b"), _action("c", ActionKind.DELETE)
    progress = Progress(Plan(actions=(a, b, c)), enabled=False)
    for action in (a, b, c):
        progress.started(action)
    progress.report(ActionResult(b, Outcome.SUCCEEDED, 0.1))
    assert progress.flying == [a, c] and progress.in_flight == 2
    assert stopped_at_once("SIGINT", progress.flying) == (
        "\nSIGINT again: stopping at once. The outcome of these actions is unknown (in flight):"
        "\n  create a (user)\n  delete c (user)"
        "\nRun `reconciler plan` to see what took effect, then apply again."
    )
    assert stopped_at_once("SIGTERM", []) == (
        "\nSIGTERM again: stopping at once. No action was in flight."
    )
    assert "this action is unknown" in stopped_at_once("SIGINT", [a])
    assert "\\x1b" in stopped_at_once("SIGINT", [_action("x\x1b[2J")])  # escaped
