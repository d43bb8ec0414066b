"""Compatibility alias while the manifest loader still imports it: the catalogue now lives in
``reconciler.emulator.providers`` and the built-in slugs in ``reconciler.manifest.builtins``."""

from __future__ import annotations

from reconciler.emulator.providers import BUILTIN_PROVIDERS, BuiltinProvider

__all__ = ["BUILTIN_PROVIDERS", "BuiltinProvider", "is_builtin"]


def is_builtin(slug: str) -> bool:
    return slug in BUILTIN_PROVIDERS
