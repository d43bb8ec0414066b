"""The command line: parse options, call the library, render, pick the exit code.

Exit codes: 0 ok; 1 error; 2 changes pending (``plan --detailed-exitcode``);
3 refused (unsafe or stale plan).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from reconciler import __version__
from reconciler.errors import ApplyFailedError, ConfigError, ManifestError, ReconcilerError

if TYPE_CHECKING:
    import httpx

    from reconciler.client import ApiClient
    from reconciler.models import Desired, RemoteIntegration

EXIT_CHANGES = 2
F = TypeVar("F", bound=Callable[..., Any])


@dataclass
class Runtime:
    """What tests may swap: the HTTP transport and whether a terminal is attached."""

    transport: httpx.AsyncBaseTransport | None = None
    interactive: bool | None = None


def _runtime() -> Runtime:
    ctx = click.get_current_context()
    obj = ctx.find_object(Runtime)
    return obj if obj is not None else Runtime()


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ


def handle_errors(command: F) -> F:
    """Turn library errors into a message on stderr and the error's exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ManifestError as error:
            for problem in error.problems:
                click.echo(str(problem), err=True)
            count = len(error.problems)
            click.echo(f"Error: the manifest has {count} problem{'s' * (count != 1)}.", err=True)
            sys.exit(error.exit_code)
        except ReconcilerError as error:
            click.echo(f"Error: {error}", err=True)
            sys.exit(error.exit_code)

    return cast(F, wrapper)


def files_option(command: F) -> F:
    return click.option(
        "-f",
        "--file",
        "files",
        multiple=True,
        type=click.Path(),
        default=("integrations.yaml",),
        show_default=True,
        help="Manifest file or directory (every *.yaml / *.yml inside). Repeatable.",
    )(command)


def api_options(command: F) -> F:
    return click.option(
        "--api-url",
        envvar="WORKOS_BASE_URL",
        default="https://api.workos.com",
        show_default=True,
        help="API base URL (env WORKOS_BASE_URL). Plain http:// only to loopback.",
    )(command)


def _client(api_url: str) -> ApiClient:
    from reconciler.client import ApiClient

    api_key = os.environ.get("WORKOS_API_KEY", "")
    if not api_key:
        raise ConfigError("WORKOS_API_KEY is not set: export the environment's API key")
    return ApiClient(api_key=api_key, base_url=api_url, transport=_runtime().transport)


def _load(files: tuple[str, ...], *, resolve_secrets: bool = True) -> Desired:
    from reconciler.loader import load

    return load(list(files), resolve_secrets=resolve_secrets)


@click.group(
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="reconciler")
def cli() -> None:
    """Keep WorkOS Pipes data integrations as code.

    Describe the integrations you want in YAML, review `reconciler plan`,
    then `reconciler apply`. The API key comes from WORKOS_API_KEY.

    \b
    Examples:
      reconciler validate -f integrations/
      reconciler plan -f integrations/ --detailed-exitcode
      reconciler apply -f integrations/ --yes
      reconciler emulator --seed examples/remote-seed.yaml
    """


@cli.command()
@files_option
@click.option(
    "--no-secrets",
    is_flag=True,
    help="Check secret references' syntax only; don't resolve them (e.g. in pre-commit).",
)
@handle_errors
def validate(files: tuple[str, ...], no_secrets: bool) -> None:
    """Check manifests offline: syntax, schema, references. No API call.

    Every problem is reported at once as file:line:column: message; the exit
    code is 1 if there is any.

    \b
    Examples:
      reconciler validate
      reconciler validate -f base/ -f production/
      reconciler validate --no-secrets -f integrations.yaml
    """
    desired = _load(files, resolve_secrets=not no_secrets)
    count = len(desired.integrations)
    click.echo(
        f"Valid: {count} integration{'s' * (count != 1)} in {len(desired.files)} "
        f"file{'s' * (len(desired.files) != 1)}."
    )


@cli.command()
@handle_errors
def schema() -> None:
    """Print the manifest's JSON Schema (for editors and CI checks).

    \b
    Examples:
      reconciler schema > schemas/manifest.schema.json
    """
    from reconciler.schema import manifest_schema

    click.echo(json.dumps(manifest_schema(), indent=2, sort_keys=True))


@cli.command()
@files_option
@api_options
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes to apply (0: none, 1: error).",
)
@click.option("--force", is_flag=True, help="Don't fail on the delete threshold.")
@handle_errors
def plan(
    files: tuple[str, ...],
    api_url: str,
    output_format: str,
    detailed_exitcode: bool,
    force: bool,
) -> None:
    """Show what apply would change. Changes nothing.

    Exit codes: 0 ok (with --detailed-exitcode: no changes), 1 error,
    2 changes pending (with --detailed-exitcode), 3 unsafe plan.

    \b
    Examples:
      reconciler plan
      reconciler plan -f integrations/ --format json
      reconciler plan --detailed-exitcode   # nightly drift check
    """
    from reconciler.planner import check_safety
    from reconciler.planner import plan as make_plan
    from reconciler.render import render_json, render_text

    desired = _load(files)
    client = _client(api_url)
    remote = asyncio.run(_fetch_and_close(client))
    result = make_plan(desired, remote)
    if output_format == "json":
        click.echo(render_json(result), nl=False)
    else:
        click.echo(render_text(result, color=_color()), nl=False)
    check_safety(result, desired.settings, force=force)
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


async def _fetch_and_close(client: ApiClient) -> list[RemoteIntegration]:
    async with client:
        return await client.list_integrations()


@cli.command()
@files_option
@api_options
@click.option("--yes", "-y", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@click.option("--force", is_flag=True, help="Apply even over the delete threshold.")
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Independent actions run at once.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@handle_errors
def apply(
    files: tuple[str, ...],
    api_url: str,
    yes: bool,
    dry_run: bool,
    force: bool,
    concurrency: int,
    output_format: str,
) -> None:
    """Plan, confirm, then change the remote integrations to match.

    Asks for confirmation on a terminal; without one, --yes is required.
    Creates and updates run before deletes; a failed action does not stop the
    others, and the exit code is then 1. Running again finishes the work.

    \b
    Examples:
      reconciler apply
      reconciler apply -f integrations/ --yes
      reconciler apply --dry-run
    """
    from reconciler.applier import apply_plan
    from reconciler.planner import check_safety
    from reconciler.planner import plan as make_plan
    from reconciler.render import (
        render_apply_json,
        render_apply_summary,
        render_json,
        render_result_line,
        render_text,
    )

    desired = _load(files)
    client = _client(api_url)
    color = _color()
    as_json = output_format == "json"

    async def run() -> None:
        async with client:
            remote = await client.list_integrations()
            result = make_plan(desired, remote)
            if not as_json or dry_run or not result.has_changes:
                text = render_json(result) if as_json else render_text(result, color=color)
                click.echo(text, nl=False)
            if not result.has_changes:
                if not as_json:
                    click.echo("Nothing to apply.")
                return
            check_safety(result, desired.settings, force=force)
            if dry_run:
                if not as_json:
                    click.echo("Dry run: nothing was changed.")
                return
            _confirm(yes)

            def report(done: Any) -> None:
                if not as_json:
                    click.echo(render_result_line(done, color))

            outcome = await apply_plan(result, client, concurrency=concurrency, on_result=report)
            if as_json:
                click.echo(render_apply_json(result, outcome), nl=False)
            else:
                click.echo(render_apply_summary(outcome, color))
            if not outcome.ok:
                raise ApplyFailedError(
                    f"{len(outcome.failed)} of {len(outcome.results)} actions failed; "
                    "fix the cause and run apply again to finish"
                )

    asyncio.run(run())


def _confirm(yes: bool) -> None:
    if yes:
        return
    interactive = _runtime().interactive
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise ConfigError(
            "refusing to apply without confirmation: no terminal to ask on. "
            "Pass --yes to apply this plan"
        )
    if not click.confirm("Apply these changes?", default=False):
        raise ConfigError("apply cancelled: nothing was changed")


def _add_emulator() -> None:
    from reconciler.emulator.command import emulator

    cli.add_command(emulator)


_add_emulator()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="reconciler")
