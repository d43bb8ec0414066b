"""The manifest side: YAML files in, a validated ``Desired`` state out.

The modules, in the order a run uses them: ``files`` finds the manifests and
reads them within bounds; ``yamlsource`` (with ``scalars``) parses YAML while
remembering where every node was written; ``interpolation`` resolves
``${env:...}`` references, under the rules of ``references``; pydantic
validates (``manifestfile``), and ``messages`` rewords its errors as
file:line:column problems; ``checks`` looks across entries; ``loader`` runs
the steps and resolves the client secrets. ``builtins`` names the built-in
provider slugs a custom provider may not shadow.

``load`` is imported on first use, not here: ``reconciler.policy`` (trusted
configuration) parses its own YAML with ``yamlsource``, and the loader needs
the policy, so importing this package must not import the loader.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from reconciler.manifest.loader import load

__all__ = ["load"]


def __getattr__(name: str) -> Any:
    if name == "load":
        from reconciler.manifest.loader import load

        return load
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
