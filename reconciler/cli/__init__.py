"""The command line: ``reconciler validate | schema | plan | apply | export | emulator``.

``group`` is the ``reconciler`` group; ``review`` holds ``plan`` and ``apply``,
``commands`` the others. They parse options and call the library
(``reconciler.workflow``); ``runtime`` holds the shared steps, ``options`` the
shared options and ``console`` what a terminal shows besides plans.
"""

from __future__ import annotations

from reconciler.cli import commands, review  # noqa: F401  (they register the commands)
from reconciler.cli.group import cli, main
from reconciler.cli.runtime import Runtime

__all__ = ["Runtime", "cli", "main"]
