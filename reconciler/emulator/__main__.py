"""Allow ``python -m reconciler.emulator`` (the same command as ``reconciler emulator``)."""

from __future__ import annotations

from reconciler.emulator.command import emulator

emulator(prog_name="python -m reconciler.emulator")
