"""The command line: parse options, call the library, render, pick the exit code.

Exit codes: 0 ok; 1 error; 2 changes pending (``plan --detailed-exitcode``);
3 refused (unsafe or stale plan). Heavy modules are imported inside the
commands so that ``reconciler --help`` starts fast.
"""

from __future__ import annotations

import functools
import json
import os
import signal
import sys
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click
from click.core import ParameterSource

from reconciler import __version__
from reconciler.console import Progress, color_enabled, configure_logging
from reconciler.errors import ApplyFailedError, ConfigError, ManifestError, ReconcilerError
from reconciler.escaping import for_terminal
from reconciler.secrets import Redactor

if TYPE_CHECKING:
    import httpx

    from reconciler.applier import ApplyResult
    from reconciler.client import ApiClient
    from reconciler.models import Desired, RemoteIntegration
    from reconciler.plan import Plan
    from reconciler.policy import Policy
    from reconciler.render import Target

EXIT_CHANGES = 2
FORMATS = ("text", "json", "markdown")
F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


@dataclass
class Runtime:
    """One invocation's context: what tests may swap (the HTTP transport, whether
    a terminal is attached) and the secrets to scrub from errors and logs."""

    transport: httpx.AsyncBaseTransport | None = None
    interactive: bool | None = None
    redactor: Redactor = field(default_factory=Redactor)


def _runtime() -> Runtime:
    return click.get_current_context().ensure_object(Runtime)


def _github_actions() -> bool:
    return os.environ.get("GITHUB_ACTIONS") == "true"


def handle_errors(command: F) -> F:
    """Turn library errors into a message on stderr and the error's exit code."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except ManifestError as error:
            for problem in error.problems:
                click.echo(_runtime().redactor.redact(str(problem)), err=True)
            if _github_actions():
                from reconciler.github import problem_annotations

                for line in problem_annotations(error.problems):
                    click.echo(_runtime().redactor.redact(line), err=True)
            count = len(error.problems)
            click.echo(f"Error: the manifest has {count} problem{'s' * (count != 1)}.", err=True)
            sys.exit(error.exit_code)
        except ReconcilerError as error:
            click.echo(_runtime().redactor.redact(f"Error: {for_terminal(str(error))}"), err=True)
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


def _policy(policy_file: str | None) -> Policy:
    from reconciler.policy import load_policy

    return load_policy(policy_file or None)


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


def _client(api_url: str, max_requests_per_minute: float) -> ApiClient:
    from reconciler.client import ApiClient

    api_key = os.environ.get("WORKOS_API_KEY", "")
    if not api_key:
        raise ConfigError("WORKOS_API_KEY is not set: export the environment's API key")
    _runtime().redactor.add(api_key)
    return ApiClient(
        api_key=api_key,
        base_url=api_url,
        transport=_runtime().transport,
        max_requests_per_minute=max_requests_per_minute,
    )


def _target(client: ApiClient, desired: Desired, policy: Policy) -> Target:
    from reconciler.client import redact_key
    from reconciler.render import Target

    return Target(client.base_url, redact_key(client.api_key), desired.files, policy.name)


def _load(
    files: tuple[str, ...] | list[str],
    policy: Policy,
    *,
    resolve_secrets: bool = True,
    environment: str | None = None,
    check_environment: bool = False,
) -> Desired:
    """The manifests under ``policy``; every value they reference is registered with
    the redactor as it is read, before any message about them is built."""
    from reconciler.environments import check_environment as check
    from reconciler.loader import load

    desired = load(
        list(files),
        policy=policy,
        resolve_secrets=resolve_secrets,
        redactor=_runtime().redactor,
    )
    if check_environment:
        check(desired.settings.environment, environment, policy.environment)
    return desired


def _refusals(
    result: Plan, desired: Desired, policy: Policy, force: bool
) -> tuple[Plan, list[str]]:
    """The plan with the policy's warnings and its refusals among its warnings."""
    from reconciler.planner import policy_warnings, safety_problems, with_refusals

    refusals = safety_problems(result, desired.settings, policy=policy, force=force)
    warnings = policy_warnings(desired.settings, policy)
    return with_refusals(result, [*warnings, *refusals]), refusals


def _render(plan: Plan, output_format: str, target: Target) -> str:
    from reconciler.markdown import render_markdown
    from reconciler.render import render_json, render_text

    if output_format == "json":
        text = render_json(plan, target=target)
    elif output_format == "markdown":
        text = render_markdown(plan, target=target)
    else:
        text = render_text(plan, color=color_enabled(), target=target)
    return _runtime().redactor.redact(text)  # defence in depth: plans are built secret-free


def _github_report(plan: Plan, target: Target, refusals: list[str]) -> None:
    """Under GitHub Actions: the job summary, an error per refusal, a warning per unmanaged."""
    if not _github_actions():
        return
    from reconciler.github import annotation, unmanaged_annotations
    from reconciler.markdown import render_markdown

    for refusal in refusals:
        click.echo(annotation("error", refusal, title="unsafe plan"), err=True)
    for line in unmanaged_annotations(plan):
        click.echo(line, err=True)
    summary = os.environ.get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(_runtime().redactor.redact(render_markdown(plan, target=target)) + "\n")


class _UsageError(click.UsageError):
    """Exit code 2 means "changes pending" (``plan --detailed-exitcode``): a mistyped
    flag or command must never read as that, so usage errors exit 1."""

    exit_code = 1


def _usage_error_exits_1(error: click.UsageError) -> click.UsageError:
    return _UsageError(error.format_message(), error.ctx)


class _Command(click.Command):
    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as error:
            raise _usage_error_exits_1(error) from None


class _Group(click.Group):
    command_class = _Command

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


@click.group(
    cls=_Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="reconciler")
@click.option(
    "-v", "--verbose", is_flag=True, help="Log each HTTP request and step to stderr (no secrets)."
)
@click.pass_context
def cli(ctx: click.Context, verbose: bool) -> None:
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
    redactor = ctx.ensure_object(Runtime).redactor
    redactor.add_secret(os.environ.get("WORKOS_API_KEY"))  # before anything is read or shown
    configure_logging(verbose, redactor)


@cli.command()
@files_option
@policy_option
@click.option(
    "--no-secrets",
    is_flag=True,
    help="Check secret references' syntax only; don't resolve them (e.g. in pre-commit).",
)
@handle_errors
def validate(files: tuple[str, ...], policy_file: str | None, no_secrets: bool) -> None:
    """Check manifests offline: syntax, schema, references. No API call.

    Every problem is reported at once as file:line:column: message; the exit
    code is 1 if there is any. Under GitHub Actions each problem is also an
    error annotation on its line.

    \b
    Examples:
      reconciler validate
      reconciler validate -f base/ -f production/
      reconciler validate --no-secrets -f integrations.yaml
      reconciler validate --policy .github/reconciler-policy.yaml -f integrations/
    """
    desired = _load(files, _policy(policy_file), resolve_secrets=not no_secrets)
    count, file_count = len(desired.integrations), len(desired.files)
    click.echo(
        f"Valid: {count} integration{'s' * (count != 1)} in {file_count} "
        f"file{'s' * (file_count != 1)}."
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
@policy_option
@api_options
@environment_option
@format_option
@click.option("--out", type=click.Path(dir_okay=False), help="Save the plan for `apply --plan`.")
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes to apply (0: none, 1: error).",
)
@click.option("--force", is_flag=True, help="Don't fail on the delete threshold.")
@rotate_option
@handle_errors
def plan(
    files: tuple[str, ...],
    policy_file: str | None,
    api_url: str,
    max_requests_per_minute: float,
    environment: str | None,
    output_format: str,
    out: str | None,
    detailed_exitcode: bool,
    force: bool,
    rotate_secrets: bool,
) -> None:
    """Show what apply would change. Changes nothing.

    Exit codes: 0 ok (with --detailed-exitcode: no changes), 1 error,
    2 changes pending (with --detailed-exitcode), 3 unsafe plan (a protected
    integration deleted or replaced, or too many deletes without --force).

    \b
    Examples:
      reconciler plan
      reconciler plan -f integrations/ --format markdown > plan.md
      reconciler plan --out plan.json          # then: reconciler apply --plan plan.json
      reconciler plan --detailed-exitcode      # nightly drift check
      reconciler plan --policy .github/reconciler-policy.yaml
    """
    from reconciler import planfile
    from reconciler.planner import check_safety
    from reconciler.planner import plan as make_plan

    policy = _policy(policy_file)
    desired = _load(files, policy, environment=environment, check_environment=True)
    client = _client(api_url, max_requests_per_minute)
    remote = _run(_list_and_close(client))
    fresh = make_plan(desired, remote, rotate_secrets=rotate_secrets)
    result, refusals = _refusals(fresh, desired, policy, force)
    target = _target(client, desired, policy)
    click.echo(_render(result, output_format, target), nl=False)
    _github_report(result, target, refusals)
    check_safety(result, desired.settings, policy=policy, force=force)
    if out:
        try:
            saved = planfile.dump(
                result,
                desired,
                api_url=client.base_url,
                api_key=client.api_key,
                policy=policy,
                rotate_secrets=rotate_secrets,
            )
            Path(out).write_text(_runtime().redactor.redact(saved))
        except OSError as error:
            raise ConfigError(f"cannot write the plan to {out}: {error.strerror}") from None
        click.echo(
            f"Saved the plan to {for_terminal(out)}: apply it with "
            f"`reconciler apply --plan {for_terminal(out)}`.",
            err=True,
        )
    if detailed_exitcode and result.has_changes:
        sys.exit(EXIT_CHANGES)


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, imported here: asyncio (and ssl with it) costs ~50 ms at start-up."""
    import asyncio

    return asyncio.run(coroutine)


async def _list_and_close(client: ApiClient) -> list[RemoteIntegration]:
    async with client:
        return await client.list_integrations()


@cli.command()
@files_option
@policy_option
@api_options
@environment_option
@click.option(
    "--plan",
    "plan_file",
    type=click.Path(dir_okay=False),
    help="Apply exactly this saved plan (from `plan --out`), if nothing changed since.",
)
@click.option("--yes", "-y", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--dry-run", is_flag=True, help="Show the plan and change nothing.")
@click.option("--force", is_flag=True, help="Apply even over the delete threshold.")
@rotate_option
@click.option(
    "--concurrency",
    type=click.IntRange(1, 64),
    default=4,
    show_default=True,
    help="Independent actions run at once.",
)
@format_option
@handle_errors
def apply(
    files: tuple[str, ...],
    policy_file: str | None,
    api_url: str,
    max_requests_per_minute: float,
    environment: str | None,
    plan_file: str | None,
    yes: bool,
    dry_run: bool,
    force: bool,
    rotate_secrets: bool,
    concurrency: int,
    output_format: str,
) -> None:
    """Plan, confirm, then change the remote integrations to match.

    Asks for confirmation on a terminal; without one, pass --yes or apply a
    reviewed saved plan with --plan. A saved plan is applied only if the
    manifest, its secrets and every remote integration it touches are
    unchanged since it was made (else exit 3, "stale plan"). Creates and
    updates run before deletes; a failed action does not stop the others
    (exit 1); running again finishes the work.

    \b
    Examples:
      reconciler apply
      reconciler apply -f integrations/ --yes
      reconciler plan --out plan.json && reconciler apply --plan plan.json
      reconciler apply --dry-run
      reconciler apply --policy .github/reconciler-policy.yaml --yes
    """
    from reconciler import planfile
    from reconciler.applier import apply_plan, stop_on_signals
    from reconciler.planner import check_safety
    from reconciler.planner import plan as make_plan
    from reconciler.render import render_apply_json, render_apply_summary

    saved = planfile.read(plan_file) if plan_file else None
    if saved is not None:
        if rotate_secrets and not saved.rotate_secrets:
            raise ConfigError(
                f"{plan_file} was made without --rotate-secrets: make the plan again with it"
            )
        rotate_secrets = saved.rotate_secrets
    ctx = click.get_current_context()
    if saved is not None and ctx.get_parameter_source("files") is ParameterSource.DEFAULT:
        files = tuple(saved.files)
    policy = _policy(policy_file)
    desired = _load(files, policy, environment=environment, check_environment=True)
    client = _client(api_url, max_requests_per_minute)
    as_json = output_format == "json"

    async def run() -> None:
        async with client:
            remote = await client.list_integrations()
            fresh = make_plan(desired, remote, rotate_secrets=rotate_secrets)
            result = (
                planfile.verify(
                    saved,
                    desired,
                    remote,
                    fresh,
                    api_url=client.base_url,
                    api_key=client.api_key,
                    policy=policy,
                )
                if saved is not None
                else fresh
            )
            result, refusals = _refusals(result, desired, policy, force)
            target = _target(client, desired, policy)
            if not as_json or dry_run or not result.has_changes or refusals:
                click.echo(_render(result, output_format, target), nl=False)
            _github_report(result, target, refusals)
            if not result.has_changes:
                if not as_json:
                    click.echo("Nothing to apply.")
                return
            check_safety(result, desired.settings, policy=policy, force=force)
            if dry_run:
                if not as_json:
                    click.echo("Dry run: nothing was changed.")
                return
            if saved is None:
                _confirm(yes)

            def stopping(which: signal.Signals) -> None:
                click.echo(
                    f"\n{which.name}: starting no new action, finishing those in flight "
                    "(send it again to stop at once).",
                    err=True,
                )

            with (
                stop_on_signals(stopping) as stop,
                Progress(result, _runtime().redactor, enabled=not as_json) as report,
            ):
                outcome = await apply_plan(
                    result, client, concurrency=concurrency, on_result=report, stop=stop.is_set
                )
            if as_json:
                click.echo(_runtime().redactor.redact(render_apply_json(result, outcome)), nl=False)
            else:
                click.echo(render_apply_summary(outcome, color_enabled()))
            _fail_if_any(outcome)

    _run(run())


@cli.command()
@click.option(
    "-f",
    "--file",
    "files",
    multiple=True,
    type=click.Path(),
    help="Manifest file or directory (every *.yaml / *.yml inside), read only for its "
    "settings.ignore: integrations whose slug it matches are left out. Repeatable. "
    "Default: none (export everything).",
)
@policy_option
@api_options
@click.option(
    "--out",
    type=click.Path(dir_okay=False),
    help="Write the manifest to this file (refuses to overwrite without --force).",
)
@click.option("--force", is_flag=True, help="Overwrite --out if it exists.")
@handle_errors
def export(
    files: tuple[str, ...],
    policy_file: str | None,
    api_url: str,
    max_requests_per_minute: float,
    out: str | None,
    force: bool,
) -> None:
    """Write the remote integrations as a manifest, to adopt them as code.

    A faithful snapshot: every integration of both ownerships, in a stable
    order, with every field a manifest can manage, API defaults included
    (enabled: false, scopes: null...), so that a change made by hand in the
    dashboard shows in `plan`. Client secrets are written as ${env:NAME}
    references; the names to set (and the last 4 characters each secret must
    end with) are listed on stderr. With those set, `plan` on the exported
    manifest shows no changes.

    With -f, the manifests' settings.ignore leaves out the integrations it
    matches (nothing else is read from them). With --policy, a warning names
    each variable the export refers to that the policy would refuse.

    The `# yaml-language-server: $schema=...` header points at this checkout's
    schemas/manifest.schema.json: relative to the --out file's directory, or
    to the current directory when writing to stdout. It is left out when the
    schema file is not there (an installed package).

    \b
    Examples:
      reconciler export > integrations.yaml
      reconciler export --out integrations.yaml
      reconciler export --out integrations.yaml --force
      reconciler export -f integrations/ --out adopted.yaml      # honour settings.ignore
      reconciler export --policy .github/reconciler-policy.yaml --out integrations.yaml
    """
    from reconciler.exporter import export_manifest, schema_reference, secret_note

    policy = _policy(policy_file)
    ignore = _load(files, policy, resolve_secrets=False).settings.ignore if files else []
    client = _client(api_url, max_requests_per_minute)
    remote = _run(_list_and_close(client))
    result = export_manifest(
        remote, schema=schema_reference(out or None), ignore=ignore, policy=policy
    )
    if out:
        try:
            with open(out, "w" if force else "x", encoding="utf-8") as handle:
                handle.write(result.text)
        except FileExistsError:
            raise ConfigError(f"{out} exists: pass --force to overwrite it") from None
        except OSError as error:
            raise ConfigError(f"cannot write {out}: {error.strerror}") from None
        click.echo(f"Wrote {result.count} integrations to {for_terminal(out)}.", err=True)
    else:
        click.echo(result.text, nl=False)
    if result.ignored:
        left_out = ", ".join(f"{slug} ({ownership})" for slug, ownership in result.ignored)
        click.echo(f"Left out (settings.ignore): {for_terminal(left_out)}.", err=True)
    for warning in result.warnings:
        click.echo(f"Warning: {for_terminal(warning)}", err=True)
    note = secret_note(result)
    if note:
        click.echo(note, err=True)


def _fail_if_any(outcome: ApplyResult) -> None:
    if outcome.ok:
        return
    parts = [f"{len(outcome.failed)} failed"]
    if outcome.skipped:
        parts.append(f"{len(outcome.skipped)} not started (apply was stopped)")
    raise ApplyFailedError(
        f"{' and '.join(parts)} of {len(outcome.results)} actions; "
        "fix the cause and run apply again to finish"
    )


def _confirm(yes: bool) -> None:
    if yes:
        return
    interactive = _runtime().interactive
    if interactive is None:
        interactive = sys.stdin.isatty()
    if not interactive:
        raise ConfigError(
            "refusing to apply without confirmation: no terminal to ask on. "
            "Pass --yes, or apply a reviewed saved plan with --plan FILE"
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
