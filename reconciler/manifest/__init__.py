"""The manifest side: YAML files in, a validated ``Desired`` state out.

The modules, in the order a run uses them: ``files`` finds the manifests and
reads them within bounds; ``reconciler.yamlsource`` (shared with the policy)
parses YAML while remembering where every node was written; ``interpolation``
resolves ``${env:...}`` references, under the rules of ``references``;
pydantic validates (``manifestfile``), and ``messages`` rewords its errors as
file:line:column problems; ``checks`` looks across entries; ``loader`` runs
the steps and resolves the client secrets. ``builtins`` names the built-in
provider slugs a custom provider may not shadow.
"""

from __future__ import annotations

from reconciler.manifest.loader import load

__all__ = ["load"]
