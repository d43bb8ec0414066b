"""The JSON renderer: the plan and apply results for programs (docs/design.md "JSON plan").

Sorted and stable; every string passes through ``for_json`` so that the
output is safe to print.
"""

from __future__ import annotations

import json
from typing import Any

from reconciler.escaping import for_json
from reconciler.plan import Plan, Target
from reconciler.results import ActionResult, ApplyResult


def render_json(plan: Plan, *, target: Target | None = None) -> str:
    """The JSON plan (docs/design.md keys), sorted and stable; safe to print (``for_json``)."""
    data = plan.to_dict()
    if target:
        data["target"] = target.to_dict()
    return for_json(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def render_apply_json(plan: Plan, result: ApplyResult) -> str:
    """The JSON plan plus ``results``; a failed replace's result adds its ``state``, and
    its ``recovery`` (manifest entry, how) when the integration may be gone."""
    data = plan.to_dict()
    data["results"] = [_result_dict(r) for r in result.results]
    return for_json(json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False)) + "\n"


def _result_dict(result: ActionResult) -> dict[str, Any]:
    data: dict[str, Any] = {
        "action": result.action.kind.value,
        "slug": result.action.slug,
        "ownership": result.action.ownership,
        "outcome": result.outcome.value,
        "error": result.error,
        "duration": round(result.duration, 3),
    }
    if result.state is not None:
        data["state"] = result.state.value
    if result.recovery is not None:
        data["recovery"] = result.recovery.to_dict()
    return data
