"""The safety rails: why a plan must be refused, from the manifest and the policy.

The manifest can only tighten the trusted policy's rails: ``protect`` from
either side holds, the delete threshold is the lower of the two, prune is
refused where the policy forbids it, and ``force`` lifts the threshold only.
``reconciler.workflow`` applies them to every review and every execution.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from reconciler.errors import Refusal, RefusalKind, UnsafePlanError
from reconciler.models import Settings
from reconciler.plan import Plan
from reconciler.policy import DEFAULT_POLICY, Policy

MIN_MANAGED_FOR_THRESHOLD = 10
"""The delete threshold applies from this many managed integrations on: below it, one
delete would already be a large fraction."""


def refusals(
    result: Plan, settings: Settings, *, policy: Policy = DEFAULT_POLICY, force: bool = False
) -> list[Refusal]:
    """Why the plan must be refused: a protected integration, prune where the policy
    forbids it, or too many deletes.

    The manifest can only tighten the policy's rails: ``protect`` from either
    side holds, the threshold is the lower of the two, and ``--force`` lifts
    the threshold only.
    """
    found = []
    protected = [
        a for a in result.actions if a.destructive and (a.protected or policy.protects(*a.identity))
    ]
    if protected:
        names = ", ".join(f"{a.identity} ({a.kind.value})" for a in protected)
        message = (
            f"refusing to delete or replace protected integrations: {names}. "
            f"They have protect: true in the manifest or are protected by {policy.name}; "
            "change that in a reviewed change first."
        )
        identities = tuple(a.identity for a in protected)
        found.append(Refusal(RefusalKind.PROTECTED, identities, message))
    if settings.prune and not policy.allow_prune:
        message = (
            f"refusing settings.prune: true: {policy.name} does not allow prune "
            "(safety.allow_prune: false). Remove prune from the manifest."
        )
        found.append(Refusal(RefusalKind.PRUNE, (), message))
    destructive = [a for a in result.actions if a.destructive]
    total = result.managed_remote_count
    limit = policy.delete_fraction(settings.max_delete_fraction)
    if not force and total >= MIN_MANAGED_FOR_THRESHOLD and len(destructive) > limit * total:
        message = (
            f"refusing a plan that deletes or replaces {len(destructive)} of {total} managed "
            f"integrations ({len(destructive) / total:.0%}), over max_delete_fraction "
            f"{limit:g} ({int(limit * total)} allowed). Review it, then pass --force to apply "
            "anyway."
        )
        identities = tuple(a.identity for a in destructive)
        found.append(Refusal(RefusalKind.TOO_MANY_DELETES, identities, message))
    return found


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
    """Raise ``UnsafePlanError`` for a plan the rails refuse (``refusals``)."""
    found = refusals(result, settings, policy=policy, force=force)
    if found:
        raise UnsafePlanError(found)


def with_refusals(result: Plan, warnings: Sequence[str | Refusal]) -> Plan:
    """The plan with these warnings and refusals among its warnings, so that every format
    shows them."""
    added = tuple(str(warning) for warning in warnings)
    return replace(result, warnings=(*result.warnings, *added)) if added else result
