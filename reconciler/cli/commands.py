"""The commands: option parsing, one call into the library, rendering, the exit code.

Exit codes: 0 ok; 1 error; 2 changes pending (``plan --detailed-exitcode``);
3 refused (unsafe or stale plan). The rules (safety rails, saved plans,
environments) live in ``reconciler.workflow``; heavy modules are imported
inside the commands so that ``reconciler --help`` starts fast.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource

from reconciler import __version__
from reconciler.cli.console import Progress, color_enabled, configure_logging
from reconciler.cli.options import (
    Group,
    api_options,
    environment_option,
    files_option,
    format_option,
    policy_option,
    rotate_option,
)
from reconciler.cli.runtime import (
    Runtime,
    confirm,
    echo,
    github_apply_report,
    github_plan_report,
    handle_errors,
    load_manifests,
    make_client,
    read_policy,
    render_review,
    run,
    runtime,
)
from reconciler.errors import ConfigError
from reconciler.escaping import for_terminal

if TYPE_CHECKING:
    from reconciler.client import ApiClient
    from reconciler.exporter import Export
    from reconciler.results import ApplyResult
    from reconciler.workflow import Review

EXIT_CHANGES = 2


@click.group(
    cls=Group,
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
    desired = load_manifests(files, read_policy(policy_file), resolve_secrets=not no_secrets)
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
    from reconciler.workflow import review, save

    policy = read_policy(policy_file)
    desired = load_manifests(files, policy)
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
            )

    reviewed = run(reviewed_then_closed())
    echo(render_review(reviewed, output_format), nl=False)
    github_plan_report(reviewed)
    reviewed.raise_if_unsafe()
    if out:
        _write_plan(out, save(reviewed, client))
    if detailed_exitcode and reviewed.has_changes:
        sys.exit(EXIT_CHANGES)


def _write_plan(out: str, text: str) -> None:
    try:
        Path(out).write_text(runtime().redactor.redact(text))
    except OSError as error:
        raise ConfigError(f"cannot write the plan to {out}: {error.strerror}") from None
    click.echo(
        f"Saved the plan to {for_terminal(out)}: apply it with "
        f"`reconciler apply --plan {for_terminal(out)}`.",
        err=True,
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
    from reconciler.workflow import review

    saved = planfile.read(plan_file) if plan_file else None
    ctx = click.get_current_context()
    if saved is not None and ctx.get_parameter_source("files") is ParameterSource.DEFAULT:
        files = tuple(saved.files)
    policy = read_policy(policy_file)
    desired = load_manifests(files, policy)
    client = make_client(api_url, max_requests_per_minute)
    as_json = output_format == "json"

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
            )
            if not as_json or dry_run or not reviewed.has_changes or reviewed.refusals:
                echo(render_review(reviewed, output_format), nl=False)
            if not reviewed.has_changes or reviewed.refusals or dry_run:
                github_apply_report(reviewed)
                reviewed.raise_if_unsafe()
                if not as_json:
                    done = "Dry run: nothing was changed." if reviewed.has_changes else ""
                    click.echo(done or "Nothing to apply.")
                return
            if saved is None:
                confirm(yes)
            outcome = await _execute(reviewed, client, concurrency, as_json)
        github_apply_report(reviewed, outcome)
        if as_json:
            from reconciler.render import render_apply_json

            echo(render_apply_json(reviewed.plan, outcome), nl=False)
        else:
            from reconciler.render import render_apply_summary

            click.echo(render_apply_summary(outcome, color_enabled()))
        outcome.raise_for_failures()

    run(apply_reviewed())


async def _execute(
    reviewed: Review, client: ApiClient, concurrency: int, as_json: bool
) -> ApplyResult:
    """Execute with a progress report; the first SIGINT/SIGTERM starts no new action."""
    from reconciler.applier import stop_on_signals
    from reconciler.workflow import execute

    progress = Progress(reviewed.plan, runtime().redactor, enabled=not as_json)

    def stopping(which: object) -> None:
        name = getattr(which, "name", str(which))
        click.echo(
            f"\n{name}: starting no new action, finishing those in flight "
            f"({progress.in_flight}); send it again to stop at once.",
            err=True,
        )

    with stop_on_signals(stopping) as stop, progress as report:
        return await execute(
            reviewed,
            client,
            concurrency=concurrency,
            on_start=progress.started,
            on_result=report,
            stop=stop.is_set,
        )


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
    from reconciler.exporter import schema_reference, secret_note
    from reconciler.workflow import snapshot

    policy = read_policy(policy_file)
    ignore = load_manifests(files, policy, resolve_secrets=False).settings.ignore if files else []
    client = make_client(api_url, max_requests_per_minute)

    async def exported_then_closed() -> Export:
        async with client:
            return await snapshot(
                client, schema=schema_reference(out or None), ignore=ignore, policy=policy
            )

    result = run(exported_then_closed())
    if out:
        _write_new(out, result.text, force=force)
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


def _write_new(out: str, text: str, *, force: bool) -> None:
    try:
        with open(out, "w" if force else "x", encoding="utf-8") as handle:
            handle.write(text)
    except FileExistsError:
        raise ConfigError(f"{out} exists: pass --force to overwrite it") from None
    except OSError as error:
        raise ConfigError(f"cannot write {out}: {error.strerror}") from None


def _add_emulator() -> None:
    from reconciler.emulator.command import emulator

    cli.add_command(emulator)


_add_emulator()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="reconciler")
