"""The ``reconciler`` group: version, ``-v``, and the redactor armed before anything runs.

Exit codes: 0 ok; 1 error (usage errors included); 2 changes pending
(``plan --detailed-exitcode``); 3 refused (unsafe or stale plan).
"""

from __future__ import annotations

import os

import click

from reconciler import __version__
from reconciler.cli.console import configure_logging
from reconciler.cli.options import Group
from reconciler.cli.runtime import Runtime


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


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="reconciler")
