"""reconciler: keep WorkOS Pipes data integrations as code (validate, plan, apply).

The library is what the command line runs, rules included::

    import asyncio
    from reconciler import ApiClient, execute, load, load_policy, review

    async def main() -> None:
        policy = load_policy("reconciler-policy.yaml")
        desired = load(["integrations.yaml"], policy=policy)
        async with ApiClient(api_key="sk_...") as api:
            reviewed = await review(desired, api, policy=policy)
            reviewed.raise_if_unsafe()        # protect, prune, the delete threshold
            result = await execute(reviewed, api)
            result.raise_for_failures()

    asyncio.run(main())

Names are imported on first use (PEP 562), so ``import reconciler`` and
``reconciler --help`` stay fast. ``__all__`` is the stable API.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"  # the one version source: pyproject.toml reads it (dynamic)

_EXPORTS = {
    # manifests and policy
    "load": "reconciler.manifest",
    "load_policy": "reconciler.policy",
    "Policy": "reconciler.policy",
    "DEFAULT_POLICY": "reconciler.policy",
    "Desired": "reconciler.models",
    "RemoteIntegration": "reconciler.models",
    # the workflow: the rules of a run
    "review": "reconciler.workflow",
    "execute": "reconciler.workflow",
    "save": "reconciler.workflow",
    "snapshot": "reconciler.workflow",
    "Review": "reconciler.workflow",
    # plans and results
    "Plan": "reconciler.plan",
    "Action": "reconciler.plan",
    "ActionKind": "reconciler.plan",
    "FieldChange": "reconciler.plan",
    "Target": "reconciler.plan",
    "ApplyResult": "reconciler.results",
    "ActionResult": "reconciler.results",
    "Outcome": "reconciler.results",
    "LeftState": "reconciler.results",
    "read_plan": "reconciler.planfile",
    "SavedPlan": "reconciler.planfile",
    # the API
    "ApiClient": "reconciler.client",
    "IntegrationsApi": "reconciler.api",
    # rendering
    "render_text": "reconciler.render",
    "render_json": "reconciler.render",
    "render_markdown": "reconciler.render",
    # errors
    "ReconcilerError": "reconciler.errors",
    "ProblemsError": "reconciler.errors",
    "ManifestError": "reconciler.errors",
    "PolicyError": "reconciler.errors",
    "PlanFileError": "reconciler.errors",
    "Problem": "reconciler.errors",
    "ConfigError": "reconciler.errors",
    "ApiError": "reconciler.errors",
    "AuthenticationError": "reconciler.errors",
    "NotFoundError": "reconciler.errors",
    "ConflictError": "reconciler.errors",
    "UnprocessableError": "reconciler.errors",
    "ApiUnreachableError": "reconciler.errors",
    "RefusedError": "reconciler.errors",
    "UnsafePlanError": "reconciler.errors",
    "Refusal": "reconciler.errors",
    "RefusalKind": "reconciler.errors",
    "StalePlanError": "reconciler.errors",
    "ApplyFailedError": "reconciler.errors",
}
_RENAMED = {"read_plan": "read"}

__all__ = [
    "DEFAULT_POLICY",
    "Action",
    "ActionKind",
    "ActionResult",
    "ApiClient",
    "ApiError",
    "ApiUnreachableError",
    "ApplyFailedError",
    "ApplyResult",
    "AuthenticationError",
    "ConfigError",
    "ConflictError",
    "Desired",
    "FieldChange",
    "IntegrationsApi",
    "LeftState",
    "ManifestError",
    "NotFoundError",
    "Outcome",
    "Plan",
    "PlanFileError",
    "Policy",
    "PolicyError",
    "Problem",
    "ProblemsError",
    "ReconcilerError",
    "Refusal",
    "RefusalKind",
    "RefusedError",
    "RemoteIntegration",
    "Review",
    "SavedPlan",
    "StalePlanError",
    "Target",
    "UnprocessableError",
    "UnsafePlanError",
    "__version__",
    "execute",
    "load",
    "load_policy",
    "read_plan",
    "render_json",
    "render_markdown",
    "render_text",
    "review",
    "save",
    "snapshot",
]

if TYPE_CHECKING:
    from reconciler.api import IntegrationsApi
    from reconciler.client import ApiClient
    from reconciler.errors import (
        ApiError,
        ApiUnreachableError,
        ApplyFailedError,
        AuthenticationError,
        ConfigError,
        ConflictError,
        ManifestError,
        NotFoundError,
        PlanFileError,
        PolicyError,
        Problem,
        ProblemsError,
        ReconcilerError,
        Refusal,
        RefusalKind,
        RefusedError,
        StalePlanError,
        UnprocessableError,
        UnsafePlanError,
    )
    from reconciler.manifest import load
    from reconciler.models import Desired, RemoteIntegration
    from reconciler.plan import Action, ActionKind, FieldChange, Plan, Target
    from reconciler.planfile import SavedPlan
    from reconciler.planfile import read as read_plan
    from reconciler.policy import DEFAULT_POLICY, Policy, load_policy
    from reconciler.render import render_json, render_markdown, render_text
    from reconciler.results import ActionResult, ApplyResult, LeftState, Outcome
    from reconciler.workflow import Review, execute, review, save, snapshot


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'reconciler' has no attribute {name!r}")
    value = getattr(import_module(module), _RENAMED.get(name, name))
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
