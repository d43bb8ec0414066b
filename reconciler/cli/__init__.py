"""The command line: ``reconciler validate | schema | plan | apply | export | emulator``.

``commands`` parses options and calls the library (``reconciler.workflow``);
``runtime`` holds the shared steps, ``options`` the shared options and
``console`` what a terminal shows besides plans.
"""

from __future__ import annotations

from reconciler.cli.commands import cli, main
from reconciler.cli.runtime import Runtime

__all__ = ["Runtime", "cli", "main"]
