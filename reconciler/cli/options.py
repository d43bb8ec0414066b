"""The options the commands share, and usage errors that exit 1.

Exit code 2 means "changes pending" (``plan --detailed-exitcode``): a mistyped
flag or command must never read as that, so every usage error exits 1.

The output options (``-v``, ``-q``, ``--no-color``) belong to the group and to
every command alike, so they may come before or after the command's name.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import click

from reconciler.cli.console import configure_logging
from reconciler.cli.runtime import Runtime

F = TypeVar("F", bound=Callable[..., Any])
FORMATS = ("text", "json", "markdown")
QUIET_HELP = (
    "Only the result, warnings and errors: no apply progress (failed actions still show), "
    "no notes such as 'Valid: ...', 'Saved the plan to ...' or 'Wrote ...'."
)


class _UsageError(click.UsageError):
    exit_code = 1


def _usage_error_exits_1(error: click.UsageError) -> click.UsageError:
    return _UsageError(error.format_message(), error.ctx)


def _output_option(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    """Record an output option in the invocation's ``Runtime``, wherever it was given."""
    if not value or ctx.resilient_parsing:
        return
    state = ctx.ensure_object(Runtime)
    if param.name == "no_color":
        ctx.color = ctx.find_root().color = False  # console.color_enabled; click.echo strips
        return
    if param.name == "verbose":
        state.verbose = True
    elif param.name == "quiet":
        state.quiet = True
    if state.verbose and state.quiet:
        raise click.UsageError("-v/--verbose and -q/--quiet cannot be used together", ctx)
    configure_logging(state.verbose, state.redactor, quiet=state.quiet)


def output_options() -> list[click.Option]:
    """``-v``, ``-q`` and ``--no-color``: fresh options for one command or the group."""
    flag: dict[str, Any] = {"is_flag": True, "expose_value": False, "callback": _output_option}
    return [
        click.Option(
            ["-v", "--verbose"],
            help="Log each HTTP request and step to stderr (no secrets).",
            **flag,
        ),
        click.Option(["-q", "--quiet"], help=QUIET_HELP, **flag),
        click.Option(
            ["--no-color"],
            help="No colour, even on a terminal (as is NO_COLOR in the environment).",
            **flag,
        ),
    ]


class Command(click.Command):
    """A command whose usage errors exit 1, with the output options (``-v``, ``-q``,
    ``--no-color``) after its own."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(output_options())

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _usage_error_exits_1(error) from None


class Group(click.Group):
    """A group whose usage errors (unknown command included) exit 1."""

    command_class = Command

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _usage_error_exits_1(error) from None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as error:
            raise _usage_error_exits_1(error) from None


def files_option(command: F) -> F:
    return click.option(
        "-f",
        "--file",
        "files",
        multiple=True,
        type=click.Path(),
        help="Manifest file or directory (every *.yaml / *.yml inside). Repeatable. "
        "Default: integrations.yaml if it exists, else the integrations/ directory.",
    )(command)


def api_options(command: F) -> F:
    command = click.option(
        "--max-requests-per-minute",
        type=click.FloatRange(min=1),
        default=6000,
        show_default=True,
        help="Client-side request budget, to stay under the API's rate limit.",
    )(command)
    return click.option(
        "--api-url",
        envvar="WORKOS_BASE_URL",
        default="https://api.workos.com",
        show_default=True,
        help="API base URL (env WORKOS_BASE_URL). Plain http:// only to loopback.",
    )(command)


def policy_option(command: F) -> F:
    return click.option(
        "--policy",
        "policy_file",
        envvar="RECONCILER_POLICY",
        type=click.Path(dir_okay=False),
        help="Trusted policy file (env RECONCILER_POLICY): which ${env:} and ${file:} "
        "references manifests may use, where custom providers may point, and the bounds "
        "of the safety rails. Never looked for beside the manifests. "
        "Default: the default policy (RECONCILER_* variables, files in the manifest's tree).",
    )(command)


def no_secrets_option(command: F) -> F:
    return click.option(
        "--no-secrets",
        is_flag=True,
        help="Check client secret references against the policy without reading them: no "
        "client secret is needed (pull-request plans). Secrets are not compared; a plan made "
        "so can be shown, never applied.",
    )(command)


def rotate_option(command: F) -> F:
    return click.option(
        "--rotate-secrets",
        is_flag=True,
        help="Send every managed client secret, even one whose last 4 characters match the "
        "remote's: the API shows only the last 4, so a new secret that ends like the old one "
        "can't be told apart (recorded in a saved plan).",
    )(command)


def environment_option(command: F) -> F:
    return click.option(
        "--environment",
        envvar="RECONCILER_ENVIRONMENT",
        help="The WorkOS environment this run targets (env RECONCILER_ENVIRONMENT); "
        "must match the manifest's settings.environment.",
    )(command)


def format_option(command: F) -> F:
    return click.option(
        "--format",
        "output_format",
        type=click.Choice(FORMATS),
        default="text",
        show_default=True,
        help="text for terminals and logs, json for programs, markdown for pull requests.",
    )(command)


def target_option(command: F) -> F:
    return click.option(
        "--target",
        "targets",
        multiple=True,
        metavar="SLUG[/OWNERSHIP]",
        help="Plan (or apply) only these integrations: a slug glob, optionally /user or "
        "/organization. Repeatable. The plan says it is partial and lists the integrations "
        "with changes it skips; prune deletes only targeted ones. A pattern that matches "
        "nothing is an error. Recorded in a saved plan.",
    )(command)


def baseline_option(command: F) -> F:
    return click.option(
        "--baseline",
        multiple=True,
        type=click.Path(),
        metavar="PATH",
        help="The base branch's manifests (file or directory; repeatable): unchanged entries "
        "they don't list are shown as adopted (will be managed; no change). Never a change "
        "for --detailed-exitcode. Only their slugs and ownerships are read; a missing path "
        "is an empty baseline.",
    )(command)
