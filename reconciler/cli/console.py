"""What the CLI shows on a terminal besides the plan: colour, logs, apply progress.

Every line that may carry text from outside (API error messages, library
logs) passes through the invocation's ``Redactor`` first.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from reconciler.escaping import for_terminal
from reconciler.secrets import Redactor

if TYPE_CHECKING:
    from reconciler.plan import Action, Plan
    from reconciler.results import ActionResult


def color_enabled() -> bool:
    """Colour only on a terminal, never when ``NO_COLOR`` is set nor with ``--no-color``
    (which sets the click context's ``color`` to False)."""
    context = click.get_current_context(silent=True)
    if context is not None and context.color is False:
        return False
    return _terminal() and not os.environ.get("NO_COLOR")


def _terminal() -> bool:
    return sys.stdout.isatty()


class RedactingFilter(logging.Filter):
    """Other libraries' log records (httpx's) pass through a redactor before any handler
    formats them: text the tool did not write. The tool's own records are built from
    secret-free values (API messages are scrubbed as they arrive), and are left as they
    are, so that no log line depends on a secret."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self.redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "reconciler" or record.name.startswith("reconciler."):
            return True
        record.msg = self.redactor.redact(record.getMessage())
        record.args = None
        return True


def configure_logging(verbose: bool, redactor: Redactor, *, quiet: bool = False) -> None:
    """With ``verbose``, reconciler's and httpx's logs go to stderr, redacted; otherwise
    only warnings do (only errors with ``quiet``)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redactor))
    level = logging.DEBUG if verbose else logging.ERROR if quiet else logging.WARNING
    for name in ("reconciler", "httpx"):
        logger = logging.getLogger(name)
        logger.handlers = [handler] if verbose else []
        logger.setLevel(level)
        logger.propagate = not verbose


class Progress:
    """Reports finished actions: a live bar on a terminal, else one line each; with
    ``quiet``, only the failed ones."""

    def __init__(self, plan: Plan, *, enabled: bool, quiet: bool = False) -> None:
        self.total = len(plan.actions)
        self.enabled = enabled
        self.quiet = quiet
        self.live = enabled and not quiet and _terminal()
        self.finished: list[ActionResult] = []
        self.flying: list[Action] = []
        """Actions started and not yet finished, in the order they started."""
        self._bar: Any = None

    def started(self, action: Action) -> None:
        """An action started (``execute``'s ``on_start``)."""
        self.flying.append(action)

    @property
    def in_flight(self) -> int:
        """How many actions are started and not yet finished."""
        return len(self.flying)

    def __enter__(self) -> Callable[[ActionResult], None]:
        if self.live:
            self._bar = click.progressbar(
                length=self.total, label="Applying", show_pos=True, show_eta=False
            ).__enter__()
        return self.report

    def report(self, result: ActionResult) -> None:
        self.finished.append(result)
        self.flying = [action for action in self.flying if action is not result.action]
        if self._bar is not None:
            self._bar.update(1)
        elif self.enabled and (not self.quiet or result.outcome == "failed"):
            self._line(result)

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)
            for result in self.finished:
                self._line(result)

    def _line(self, result: ActionResult) -> None:
        from reconciler.render import render_result_line

        click.echo(render_result_line(result, color_enabled()))


FINISHING_REPLACES = (
    "still finishing the replaces in flight (a replace is never left between its delete "
    "and its re-create); only SIGKILL stops it sooner"
)


def stopped_at_once(signal_name: str, flying: list[Action]) -> str:
    """What a second signal during apply says: the actions whose outcome is unknown, and
    the replaces that finish first."""
    head = f"\n{signal_name} again: stopping at once."
    if not flying:
        return f"{head} No action was in flight."
    from reconciler.plan import ActionKind

    replaces = [a for a in flying if a.kind is ActionKind.REPLACE]
    others = [a for a in flying if a.kind is not ActionKind.REPLACE]
    lines = [head]
    if others:
        lines[0] += (
            f" The outcome of {'this action' if len(others) == 1 else 'these actions'} "
            "is unknown (in flight):"
        )
        lines.extend(_listed(others))
    if replaces:
        lines.append(
            "Finishing first (a replace is never left between its delete and its re-create):"
        )
        lines.extend(_listed(replaces))
    lines.append("Run `reconciler plan` to see what took effect, then apply again.")
    return "\n".join(lines)


def _listed(actions: list[Action]) -> list[str]:
    return [f"  {a.kind.value} {for_terminal(str(a.identity))}" for a in actions]
