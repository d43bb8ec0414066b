"""The safety rails: why a plan must be refused, from the manifest and the policy.

The manifest can only tighten the trusted policy's rails: ``protect`` from
either side holds, the delete threshold is the lower of the two, prune is
refused where the policy forbids it, and ``force`` lifts the threshold only.
``reconciler.workflow`` applies them to every review and every execution.
"""

from __future__ import annotations

from dataclasses import replace

from reconciler.errors import UnsafePlanError
from reconciler.models import Settings
from reconciler.plan import Identity, Plan
from reconciler.policy import DEFAULT_POLICY, Policy


def safety_problems(
    result: Plan, settings: Settings, *, policy: Policy = DEFAULT_POLICY, force: bool = False
) -> list[str]:
    """Why the plan must be refused: a protected integration, prune where the policy
    forbids it, or too many deletes.

    The manifest can only tighten the policy's rails: ``protect`` from either
    side holds, the threshold is the lower of the two, and ``--force`` lifts
    the threshold only.
    """
    problems = []
    protected = [
        a
        for a in result.actions
        if a.destructive and (a.protected or policy.protects(a.identity[0], a.identity[1]))
    ]
    if protected:
        names = ", ".join(f"{_name(a.identity)} ({a.kind.value})" for a in protected)
        problems.append(
            f"refusing to delete or replace protected integrations: {names}. "
            f"They have protect: true in the manifest or are protected by {policy.name}; "
            "change that in a reviewed change first."
        )
    if settings.prune and not policy.allow_prune:
        problems.append(
            f"refusing settings.prune: true: {policy.name} does not allow prune "
            "(safety.allow_prune: false). Remove prune from the manifest."
        )
    destructive = sum(1 for a in result.actions if a.destructive)
    total = result.managed_remote_count
    limit = policy.delete_fraction(settings.max_delete_fraction)
    if not force and total >= 10 and destructive > limit * total:
        problems.append(
            f"refusing a plan that deletes or replaces {destructive} of {total} managed "
            f"integrations ({destructive / total:.0%}), over max_delete_fraction {limit:g} "
            f"({int(limit * total)} allowed). Review it, then pass --force to apply anyway."
        )
    return problems


def policy_warnings(settings: Settings, policy: Policy = DEFAULT_POLICY) -> list[str]:
    """What the manifest asked for that the policy does not grant (not an error: the
    policy's bound is used instead, which may then refuse the plan)."""
    if settings.max_delete_fraction <= policy.max_delete_fraction:
        return []
    return [
        f"settings.max_delete_fraction {settings.max_delete_fraction:g} is above the ceiling "
        f"{policy.max_delete_fraction:g} of {policy.name}; "
        f"{policy.max_delete_fraction:g} is used"
    ]


def check_safety(
    result: Plan, settings: Settings, *, policy: Policy = DEFAULT_POLICY, force: bool = False
) -> None:
    """Raise ``UnsafePlanError`` for a plan ``safety_problems`` refuses."""
    problems = safety_problems(result, settings, policy=policy, force=force)
    if problems:
        raise UnsafePlanError(" ".join(problems))


def with_refusals(result: Plan, problems: list[str]) -> Plan:
    """The plan with its refusals among its warnings, so that every format shows them."""
    return replace(result, warnings=(*result.warnings, *problems)) if problems else result


def _name(identity: Identity) -> str:
    return f"{identity[0]} ({identity[1]})"
