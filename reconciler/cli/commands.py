"""The commands that need no review: ``validate``, ``schema`` and ``export``.

Each is option parsing, one call into the library and printing; heavy modules
are imported inside the commands so that ``reconciler --help`` starts fast.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from reconciler.cli.group import cli
from reconciler.cli.options import (
    api_options,
    files_option,
    format_option,
    no_secrets_option,
    policy_option,
)
from reconciler.cli.runtime import (
    echo,
    handle_errors,
    load_manifests,
    make_client,
    note,
    read_policy,
    run,
    runtime,
)
from reconciler.errors import ConfigError
from reconciler.escaping import for_terminal

if TYPE_CHECKING:
    from reconciler.exporter import Export


@cli.command()
@files_option
@policy_option
@no_secrets_option
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
    from reconciler.manifest.checks import ignored_warnings
    from reconciler.slugs import unknown_slug_warnings

    desired = load_manifests(files, read_policy(policy_file), resolve_secrets=not no_secrets)
    for warning in [*ignored_warnings(desired), *unknown_slug_warnings(desired)]:
        echo(f"Warning: {for_terminal(warning)}", err=True)
    if runtime().quiet:
        return
    count, file_count = len(desired.integrations), len(desired.files)
    click.echo(
        f"Valid: {count} integration{'s' * (count != 1)} in {file_count} "
        f"file{'s' * (file_count != 1)}."
    )


@cli.command()
@click.option(
    "--plan",
    "plan_schema",
    is_flag=True,
    help="The JSON plan's schema instead (what `plan --format json` prints).",
)
@handle_errors
def schema(plan_schema: bool) -> None:
    """Print the manifest's JSON Schema (for editors and CI checks).

    With --plan, the schema of the JSON plan (`plan --format json`,
    `apply --format json`, `show --format json`), generated from its models.

    \b
    Examples:
      reconciler schema > schemas/manifest.schema.json
      reconciler schema --plan > plan.schema.json
    """
    if plan_schema:
        from reconciler import schema as schemas

        click.echo(schemas.render_schema(schemas.plan_schema()), nl=False)
        return
    from reconciler.schema import manifest_schema

    click.echo(json.dumps(manifest_schema(), indent=2, sort_keys=True))


@cli.command()
@click.argument("plan_file", metavar="PLAN_FILE", type=click.Path(dir_okay=False))
@format_option
@handle_errors
def show(plan_file: str, output_format: str) -> None:
    """Show a saved plan (from `plan --out`): what it will do, where and when it was made.

    Prints the target API, the plan's age, the fingerprints that bind it (API
    key, policy, manifests) and its actions, in any format. No API call and no
    API key needed: to check that it still holds, `apply --plan` (or a fresh
    `plan`) asks the API.

    \b
    Examples:
      reconciler show plan.json
      reconciler show plan.json --format markdown >> "$GITHUB_STEP_SUMMARY"
      reconciler show plan.json --format json | jq .saved.age_seconds
    """
    from reconciler import planfile
    from reconciler.cli.console import color_enabled
    from reconciler.render.saved import (
        render_saved_json,
        render_saved_markdown,
        render_saved_text,
    )
    from reconciler.show import show as shown_of

    shown = shown_of(planfile.read(plan_file), plan_file)
    if output_format == "json":
        echo(render_saved_json(shown), nl=False)
    elif output_format == "markdown":
        echo(render_saved_markdown(shown), nl=False)
    else:
        echo(render_saved_text(shown, color=color_enabled()), nl=False)


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
        note(f"Wrote {result.count} integrations to {for_terminal(out)}.")
    else:
        click.echo(result.text, nl=False)
    if result.ignored:
        left_out = ", ".join(map(str, result.ignored))
        note(f"Left out (settings.ignore): {for_terminal(left_out)}.")
    for warning in result.warnings:
        click.echo(f"Warning: {for_terminal(warning)}", err=True)
    to_set = secret_note(result)
    if to_set:
        click.echo(to_set, err=True)


SHELLS = ("bash", "zsh", "fish")
COMPLETE_VARIABLE = "_RECONCILER_COMPLETE"


@cli.command()
@click.argument("shell", type=click.Choice(SHELLS))
def completion(shell: str) -> None:
    """Print the shell completion script for SHELL (bash, zsh or fish).

    Completes commands, options and their choices. Load it in your shell's
    start-up file, or save it where the shell looks for completions. The
    script calls `reconciler` with _RECONCILER_COMPLETE set (click's shell
    completion).

    \b
    Examples:
      eval "$(reconciler completion bash)"     # in ~/.bashrc (bash 4.4 or later)
      eval "$(reconciler completion zsh)"      # in ~/.zshrc
      reconciler completion fish > ~/.config/fish/completions/reconciler.fish
    """
    from click.shell_completion import get_completion_class

    completer = get_completion_class(shell)
    assert completer is not None, "click knows bash, zsh and fish"
    script = completer(cli, {}, "reconciler", COMPLETE_VARIABLE).source()
    click.echo(script.rstrip("\n"))


def _write_new(out: str, text: str, *, force: bool) -> None:
    from reconciler.safefiles import write_text

    try:
        write_text(out, text, overwrite=force)
    except FileExistsError:
        raise ConfigError(f"{out} exists: pass --force to overwrite it") from None
    except OSError as error:
        raise ConfigError(f"cannot write {out}: {error.strerror}") from None


def _add_emulator() -> None:
    from reconciler.emulator.command import emulator

    cli.add_command(emulator)


_add_emulator()
