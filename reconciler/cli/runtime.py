"""One invocation's context and the CLI's shared steps: errors to exit codes, the
API client from the environment, loading, rendering and GitHub Actions reports.

Heavy modules are imported inside the functions, so that ``reconciler --help``
starts fast.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from reconciler.cli.console import color_enabled
from reconciler.errors import CancelledByUserError, ConfigError, ProblemsError, ReconcilerError
from reconciler.escaping import for_terminal
from reconciler.secrets import Redactor

if TYPE_CHECKING:
    import httpx

    from reconciler.client import ApiClient
    from reconciler.models import Desired
    from reconciler.policy import Policy
    from reconciler.results import ApplyResult
    from reconciler.workflow import Review

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


@dataclass
class Runtime:
    """What tests may swap (the HTTP transport, whether a terminal is attached),
    the secrets to scrub from errors and logs, and the output options
    (``-v``, ``-q``: see ``options.output_options``)."""

    transport: httpx.AsyncBaseTransport | None = None
    interactive: bool | None = None
    redactor: Redactor = field(default_factory=Redactor)
    verbose: bool = False
    quiet: bool = False


def runtime() -> Runtime:
    return click.get_current_context().ensure_object(Runtime)


def github_actions() -> bool:
    from reconciler.render.github import is_github_actions

    return is_github_actions(os.environ)


def echo(text: str, *, err: bool = False, nl: bool = True) -> None:
    """Print as it is: what the tool prints is built secret-free, so that no output
    depends on a secret (a filter here would say whether a value equals one)."""
    click.echo(text, err=err, nl=nl)


def note(text: str) -> None:
    """A note on stderr (what was written where, what to run next); none with ``-q``."""
    if not runtime().quiet:
        echo(text, err=True)


def handle_errors(command: F) -> F:
    """Turn library errors into a message on stderr and the error's exit code; Ctrl-C
    into exit 130."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ProblemsError as error:
            for problem in error.problems:
                echo(str(problem), err=True)
            if github_actions():
                from reconciler.render.github import problem_annotations

                for line in problem_annotations(error.problems):
                    echo(line, err=True)
            click.echo(f"Error: {error.summary()}.", err=True)
            sys.exit(error.exit_code)
        except ReconcilerError as error:
            echo(f"Error: {for_terminal(str(error))}", err=True)
            sys.exit(error.exit_code)
        except KeyboardInterrupt:  # Ctrl-C outside an apply's own handling: as a shell says
            click.echo("\nError: interrupted", err=True)
            sys.exit(CancelledByUserError.exit_code)

    return cast(F, wrapper)


def read_policy(policy_file: str | None) -> Policy:
    from reconciler.policy import load_policy

    return load_policy(policy_file or None)


def load_manifests(
    files: tuple[str, ...] | list[str], policy: Policy, *, resolve_secrets: bool = True
) -> Desired:
    """The manifests under ``policy`` (none named: ``integrations.yaml`` or
    ``integrations/``); every value they reference is registered with the redactor as
    it is read, before any message about them is built."""
    from reconciler.manifest import load
    from reconciler.manifest.files import default_manifests

    paths = list(files) or default_manifests()
    return load(paths, policy=policy, resolve_secrets=resolve_secrets, redactor=runtime().redactor)


def make_client(api_url: str, max_requests_per_minute: float) -> ApiClient:
    """The API client, keyed from ``WORKOS_API_KEY`` (registered with the redactor)."""
    from reconciler.client import ApiClient

    api_key = os.environ.get("WORKOS_API_KEY", "")
    if not api_key:
        raise ConfigError("WORKOS_API_KEY is not set: export the environment's API key")
    runtime().redactor.add(api_key)
    return ApiClient(
        api_key=api_key,
        base_url=api_url,
        transport=runtime().transport,
        max_requests_per_minute=max_requests_per_minute,
    )


def run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, imported here: asyncio (and ssl with it) costs ~50 ms at start-up.

    The main task returns nothing: the result is handed over outside it. On
    leaving, ``asyncio.run`` looks up its SIGINT handler, a ``partial`` holding
    the main task, and ``signal.getsignal`` formats that handler's repr, the
    task's result included: a whole plan, formatted for no one.
    """
    import asyncio

    results: list[T] = []

    async def main() -> None:
        results.append(await coroutine)

    asyncio.run(main())
    return results[0]


def render_review(reviewed: Review, output_format: str) -> str:
    from reconciler.render import render_json, render_markdown, render_text

    plan, target = reviewed.plan, reviewed.target
    if output_format == "json":
        return render_json(plan, target=target)
    if output_format == "markdown":
        return render_markdown(plan, target=target)
    return render_text(plan, color=color_enabled(), target=target)


def _step_summary(text: str) -> None:
    from reconciler.safefiles import append_text

    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        try:
            append_text(summary, text + "\n")
        except OSError as error:
            raise ConfigError(
                f"cannot write the step summary {summary}: {error.strerror}"
            ) from None


def github_plan_report(reviewed: Review) -> None:
    """Under GitHub Actions: the job summary, an error per refusal, a warning per unmanaged."""
    if not github_actions():
        return
    from reconciler.render import render_markdown
    from reconciler.render.github import annotation, unmanaged_annotations

    for refusal in reviewed.refusals:
        echo(annotation("error", refusal.message, title="unsafe plan"), err=True)
    for line in unmanaged_annotations(reviewed.plan):
        echo(line, err=True)
    _step_summary(render_markdown(reviewed.plan, target=reviewed.target))


def github_apply_report(reviewed: Review, result: ApplyResult | None = None) -> None:
    """Under GitHub Actions, for apply: an error per refusal and per failed action, one
    notice for the unmanaged integrations, and the job summary: the results when the
    plan ran, else the plan (titled so that it does not read as applied)."""
    if not github_actions():
        return
    from reconciler.render import render_apply_markdown, render_markdown
    from reconciler.render.github import annotation, failure_annotations, unmanaged_notice

    for refusal in reviewed.refusals:
        echo(annotation("error", refusal.message, title="unsafe plan"), err=True)
    if result is not None:
        for line in failure_annotations(result):
            echo(line, err=True)
    for line in unmanaged_notice(reviewed.plan):
        echo(line, err=True)
    if result is not None:
        _step_summary(render_apply_markdown(reviewed.plan, result, target=reviewed.target))
    else:
        title = "reconciler apply: nothing was applied"
        _step_summary(render_markdown(reviewed.plan, target=reviewed.target, title=title))


def confirm(yes: bool) -> None:
    """Ask on a terminal; without one, refuse unless ``--yes``."""
    if yes:
        return
    interactive = runtime().interactive
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise ConfigError(
            "refusing to apply without confirmation: no terminal to ask on. "
            "Pass --yes, or apply a reviewed saved plan with --plan FILE"
        )
    answer = _ask("Apply these changes?")
    if answer is None:
        raise CancelledByUserError("apply cancelled: nothing was changed")
    if not answer:
        raise ConfigError("apply cancelled: nothing was changed")


def _ask(question: str) -> bool | None:
    """``click.confirm``, where end of input answers no, and Ctrl-C None, at once.

    Under ``asyncio.run`` a SIGINT only cancels the main task, which a prompt
    blocked on the terminal does not see until Enter: a handler of our own is
    put in for the question, so Ctrl-C interrupts it (and is told from the end
    of input, for exit 130).
    """
    import signal

    interrupted: list[int] = []

    def on_sigint(signum: int, frame: object) -> None:
        interrupted.append(signum)
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread: leave the handlers alone
        previous = None
    try:
        return click.confirm(question, default=False)
    except click.Abort:  # Ctrl-C or end of input
        click.echo("", err=True)
        return None if interrupted else False
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
