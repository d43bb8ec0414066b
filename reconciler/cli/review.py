"""The commands that review a plan: ``plan`` shows it, ``apply`` executes it.

The rules (safety rails, saved plans, environments) live in
``reconciler.workflow``: these parse options, make one ``review`` (and one
``execute``), render, and pick the exit code.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from reconciler.cli.console import (
    FINISHING_REPLACES,
    Progress,
    color_enabled,
    stopped_at_once,
)
from reconciler.cli.group import cli
from reconciler.cli.options import (
    api_options,
    baseline_option,
    environment_option,
    files_option,
    format_option,
    no_secrets_option,
    policy_option,
    rotate_option,
    target_option,
)
from reconciler.cli.runtime import (
    confirm,
    echo,
    github_apply_report,
    github_plan_report,
    handle_errors,
    load_manifests,
    make_client,
    note,
    read_policy,
    render_review,
    run,
    runtime,
)
from reconciler.errors import ApplyInterruptedError, ConfigError
from reconciler.escaping import for_terminal

if TYPE_CHECKING:
    from reconciler.client import ApiClient
    from reconciler.results import ApplyResult
    from reconciler.workflow import Review

EXIT_CHANGES = 2


@cli.command()
@files_option
@policy_option
@api_options
@environment_option
@format_option
@click.option(
    "-o", "--out", type=click.Path(dir_okay=False), help="Save the plan for `apply --plan`."
)
@click.option(
    "--detailed-exitcode",
    is_flag=True,
    help="Exit 2 when there are changes to apply (0: none, 1: error).",
)
@click.option("--force", is_flag=True, help="Don't fail on the delete threshold.")
@rotate_option
@no_secrets_option
@target_option
@baseline_option
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
    no_secrets: bool,
    targets: tuple[str, ...],
    baseline: tuple[str, ...],
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
      reconciler plan --no-secrets             # a pull request's plan: no client secret
      reconciler plan --policy .github/reconciler-policy.yaml
      reconciler plan --target github --target 'crm-*/organization'
      reconciler plan -f integrations/ --baseline base/integrations/   # shows adoptions
    """
    from reconciler.adoption import read_baseline
    from reconciler.workflow import review, save

    if no_secrets and rotate_secrets:
        raise ConfigError("--rotate-secrets needs the secrets: drop --no-secrets")
    policy = read_policy(policy_file)
    desired = load_manifests(files, policy, resolve_secrets=not no_secrets)
    adoption = read_baseline(baseline) if baseline else None
    client = make_client(api_url, max_requests_per_minute)

    async def reviewed_then_closed() -> Review:
        async with client:
            return await review(
                desired,
                client,
                policy=policy,
                force=force,
                rotate_secrets=rotate_secrets,
                environment=environment,
                targets=targets,
                baseline=adoption,
            )

    reviewed = run(reviewed_then_closed())
    echo(render_review(reviewed, output_format), nl=False)
    github_plan_report(reviewed)
    reviewed.raise_if_unsafe()
    if out:
        _write_plan(out, save(reviewed, client, no_secrets=no_secrets))
    if detailed_exitcode and reviewed.has_changes:
        sys.exit(EXIT_CHANGES)


def _write_plan(out: str, text: str) -> None:
    from reconciler.safefiles import write_text

    try:
        write_text(out, text)
    except OSError as error:
        raise ConfigError(f"cannot write the plan to {out}: {error.strerror}") from None
    note(
        f"Saved the plan to {for_terminal(out)}: apply it with "
        f"`reconciler apply --plan {for_terminal(out)}`."
    )


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
@target_option
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
    targets: tuple[str, ...],
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
      reconciler apply --target slack/user --yes
    """
    from reconciler import planfile
    from reconciler.workflow import review

    saved = planfile.read(plan_file) if plan_file else None
    policy = read_policy(policy_file)
    client = make_client(api_url, max_requests_per_minute)
    if saved is not None:  # before any file it names is read
        planfile.check_binding(
            saved, api_url=client.base_url, api_key=client.api_key, policy=policy
        )
        ctx = click.get_current_context()
        if ctx.get_parameter_source("files") is ParameterSource.DEFAULT:
            files = tuple(saved.files)
    desired = load_manifests(files, policy)

    async def apply_reviewed() -> None:
        async with client:
            reviewed = await review(
                desired,
                client,
                policy=policy,
                saved=saved,
                force=force,
                rotate_secrets=rotate_secrets,
                environment=environment,
                targets=targets,
            )
            if not _ready_to_execute(reviewed, output_format, dry_run):
                return
            if saved is None:
                confirm(yes)
            outcome = await _execute(reviewed, client, concurrency, output_format == "json")
        _report_results(reviewed, outcome, output_format)
        outcome.raise_for_failures()

    run(apply_reviewed())


def _ready_to_execute(reviewed: Review, output_format: str, dry_run: bool) -> bool:
    """Show the review (JSON output waits for the results when it runs); False, after
    saying why, when there is nothing to run; ``UnsafePlanError`` when it is refused."""
    as_json = output_format == "json"
    runs = reviewed.has_changes and reviewed.safe and not dry_run
    if not as_json or not runs:
        echo(render_review(reviewed, output_format), nl=False)
    if runs:
        return True
    github_apply_report(reviewed)
    if reviewed.has_changes:
        reviewed.raise_if_unsafe()
    if not as_json:
        click.echo("Dry run: nothing was changed." if reviewed.has_changes else "Nothing to apply.")
    return False


def _report_results(reviewed: Review, outcome: ApplyResult, output_format: str) -> None:
    github_apply_report(reviewed, outcome)
    if output_format == "json":
        from reconciler.render import render_apply_json

        echo(render_apply_json(reviewed.plan, outcome), nl=False)
    else:
        from reconciler.render import render_apply_summary

        click.echo(render_apply_summary(outcome, color_enabled()))


async def _execute(
    reviewed: Review, client: ApiClient, concurrency: int, as_json: bool
) -> ApplyResult:
    """Execute with a progress report. The first SIGINT/SIGTERM starts no new action;
    the second stops at once, listing the actions in flight (their outcome is unknown)."""
    import asyncio

    from reconciler.applier import stop_on_signals
    from reconciler.workflow import execute

    progress = Progress(reviewed.plan, enabled=not as_json, quiet=runtime().quiet)
    work: asyncio.Future[ApplyResult] | None = None
    interrupted: list[str] = []

    def stopping(which: object) -> None:
        name = getattr(which, "name", str(which))
        click.echo(
            f"\n{name}: starting no new action, finishing those in flight "
            f"({progress.in_flight}); send it again to stop at once.",
            err=True,
        )

    def stopping_now(which: object) -> None:
        name = getattr(which, "name", str(which))
        if interrupted:  # already stopping: only the replaces in flight are left to finish
            click.echo(f"\n{name}: {FINISHING_REPLACES}", err=True)
            return
        interrupted.append(name)
        echo(stopped_at_once(name, progress.flying), err=True)
        if work is not None:
            work.cancel()

    with stop_on_signals(stopping, on_second=stopping_now) as stop, progress as report:
        work = asyncio.ensure_future(
            execute(
                reviewed,
                client,
                concurrency=concurrency,
                on_start=progress.started,
                on_result=report,
                stop=stop.is_set,
            )
        )
        try:
            return await work
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not interrupted or (current is not None and current.cancelling()):
                raise
    raise ApplyInterruptedError(
        f"stopped at once by a second {interrupted[0]}: what the actions in flight did is "
        "unknown; run `reconciler plan` to see where things stand"
    )
