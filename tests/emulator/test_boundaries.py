"""The emulator stands apart from the tool: it imports nothing of the tool, and the tool knows
only the built-in slugs (``reconciler.manifest.builtins``), which must be its catalogue's."""

from __future__ import annotations

import ast
from pathlib import Path

import reconciler.emulator
from reconciler.emulator.providers import BUILTIN_PROVIDERS
from reconciler.manifest.builtins import BUILTIN_SLUGS


def test_the_emulator_imports_nothing_of_the_reconciler_outside_itself() -> None:
    package = Path(reconciler.emulator.__file__).resolve().parent
    modules = sorted(package.glob("*.py"))
    assert {"command.py", "service.py", "providers.py"} <= {m.name for m in modules}
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            for name in names:
                if name == "reconciler" or name.startswith("reconciler."):
                    inside = name == "reconciler.emulator" or name.startswith(
                        "reconciler.emulator."
                    )
                    assert inside, f"{module.name} imports {name}"


def test_the_catalogue_and_the_manifests_built_in_slugs_agree() -> None:
    """A slug in one and not the other: a manifest could shadow a built-in the emulator serves,
    or be refused a custom provider the emulator would accept."""
    assert set(BUILTIN_PROVIDERS) == BUILTIN_SLUGS
    assert all(provider.slug == slug for slug, provider in BUILTIN_PROVIDERS.items())
