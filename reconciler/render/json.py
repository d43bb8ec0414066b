"""The JSON renderer: the plan and apply results for programs (docs/design.md "JSON plan").

The document is ``reconciler.plandocument``'s: built from the plan, dumped from its
models, sorted and stable, every string safe to print (``for_json``).
"""

from __future__ import annotations

from reconciler.plan import Plan, Target
from reconciler.plandocument import plan_document
from reconciler.results import ApplyResult


def render_json(plan: Plan, *, target: Target | None = None) -> str:
    """The JSON plan (docs/design.md keys), sorted and stable; safe to print (``for_json``)."""
    return plan_document(plan, target=target).text()


def render_apply_json(plan: Plan, result: ApplyResult) -> str:
    """The JSON plan plus ``results``; a failed replace's result adds its ``state``, and
    its ``recovery`` (manifest entry, how) when the integration may be gone."""
    return plan_document(plan, results=result.results).text()
