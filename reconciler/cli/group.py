"""The ``reconciler`` group: version, the output options, and the redactor armed
before anything runs.

Exit codes: 0 ok; 1 error (usage errors included); 2 changes pending
(``plan --detailed-exitcode``); 3 refused (unsafe or stale plan).
"""

from __future__ import annotations

import gc
import os

import click

from reconciler import __version__
from reconciler.cli.console import configure_logging
from reconciler.cli.options import Group, output_options
from reconciler.cli.runtime import Runtime


def _with_output_options(group: click.Group) -> click.Group:
    group.params.extend(output_options())
    return group


@_with_output_options
@click.group(
    cls=Group,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, prog_name="reconciler")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """Keep WorkOS Pipes data integrations as code.

    Describe the integrations you want in YAML, review `reconciler plan`,
    then `reconciler apply`. The API key comes from WORKOS_API_KEY. Without
    -f, commands read integrations.yaml, or else the integrations/ directory.

    -v, -q and --no-color may come before or after the command
    (`reconciler -v plan` is `reconciler plan -v`). Shell completion:
    `reconciler completion bash|zsh|fish`.

    \b
    Examples:
      reconciler validate -f integrations/
      reconciler plan -f integrations/ --detailed-exitcode
      reconciler apply -f integrations/ --yes
      reconciler emulator --seed examples/remote-seed.yaml
    """
    state = ctx.ensure_object(Runtime)
    state.redactor.add_secret(os.environ.get("WORKOS_API_KEY"))  # before anything is read or shown
    configure_logging(state.verbose, state.redactor, quiet=state.quiet)


GC_THRESHOLDS = (100_000, 50, 100)
"""The collector's thresholds for a run. A run allocates hundreds of thousands of objects
that live to its end (YAML nodes, models, API objects) and frees few cycles; CPython's
default thresholds (700, 10, 10) scan them again and again, some 15% of a plan of
10,000 integrations (``make bench``). Cycles are still collected, less often."""


def main() -> None:
    """Console-script entry point."""
    gc.set_threshold(*GC_THRESHOLDS)
    cli(prog_name="reconciler")
