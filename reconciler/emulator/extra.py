"""The ``emulator`` extra: FastAPI and uvicorn are not dependencies of the tool itself.

Validate, plan and apply need neither; ``reconciler emulator`` does. This
module imports only click and the standard library, so that the command can be
registered, and its ``--help`` shown, without the extra installed.
"""

from __future__ import annotations

import importlib

import click

EXTRA_MODULES = ("fastapi", "uvicorn", "aiolimiter")
"""The top-level modules the emulator needs (starlette comes with FastAPI; aiolimiter is
its rate-limit bucket)."""

INSTALL_HINT = (
    "the emulator needs its extra dependencies (FastAPI, uvicorn): "
    "pip install 'workos-pipes-reconciler[emulator]'"
)


def require_extra() -> None:
    """Import the extra's modules, or fail with how to install them (exit 1, no traceback)."""
    for name in EXTRA_MODULES:
        try:
            importlib.import_module(name)
        except ImportError:
            raise click.ClickException(INSTALL_HINT) from None
