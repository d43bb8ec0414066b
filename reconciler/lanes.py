"""One slug, one lane: the actions on one custom provider run one after another.

The user- and organization-owned integrations of a custom provider share one
definition, which the API keeps while at least one of them exists. Run at
the same time, a replace of one (whose delete may take the definition with
it) and a create of the other race; so the actions of a custom slug form a
**lane**, run in a fixed order, while other actions keep their concurrency:

- creates first, then updates, then replaces (each user before organization):
  what adds or keeps an integration of the slug runs before what deletes one,
  so a replace's delete removes the definition only when nothing else holds it;
- deletes last (the apply's second phase), as everywhere.

A ``Lane`` follows the slug while its actions run: which ownerships exist, the
definition as last known, and the manifest's changes to it not yet made
(``pending``). The first action in the lane that can carry them does (a
create beside an existing sibling sends no ``custom_provider``: a PUT
follows); a restore sends back what the failed action itself changed, never
a sibling's change.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from reconciler.changes import definition_changes
from reconciler.identity import OWNERSHIPS, Identity, Ownership
from reconciler.models import RemoteIntegration
from reconciler.plan import Action, ActionKind, CustomSlug, Plan

LANE_ORDER = (ActionKind.CREATE, ActionKind.UPDATE, ActionKind.REPLACE, ActionKind.DELETE)


class Lane:
    """A custom slug while its actions run (see the module doc)."""

    def __init__(self, seen: CustomSlug) -> None:
        self.slug = seen.slug
        self.existing: set[Ownership] = set(seen.existing)
        self.definition: dict[str, Any] | None = (
            dict(seen.definition) if seen.definition is not None else None
        )
        _, self.pending = definition_changes(seen.wanted, seen.definition)

    def sibling(self, ownership: Ownership) -> Ownership | None:
        """The other ownership, if it exists now (it holds the definition)."""
        other = Identity(self.slug, ownership).other().ownership
        return other if other in self.existing else None

    def whole_definition(self) -> dict[str, Any]:
        """The definition to create the slug anew: as last known, with the pending changes."""
        return {**(self.definition or {}), **self.pending}

    def carried(self, sent: dict[str, Any]) -> None:
        """``sent`` (definition fields) took effect."""
        self.definition = {**(self.definition or {}), **sent}
        self.pending = {k: v for k, v in self.pending.items() if k not in sent}

    def created(self, ownership: Ownership) -> None:
        self.existing.add(ownership)

    def deleted(self, ownership: Ownership) -> None:
        self.existing.discard(ownership)


def lane_key(action: Action) -> tuple[int, int]:
    """Order within a lane: kind (``LANE_ORDER``), then user before organization."""
    return (LANE_ORDER.index(action.kind), OWNERSHIPS.index(action.ownership))


def units(plan: Plan, indexed: Sequence[tuple[int, Action]]) -> list[list[tuple[int, Action]]]:
    """``indexed`` actions as units that run concurrently: one action each, except the
    actions of one custom slug, which form one unit in lane order."""
    custom = {seen.slug for seen in plan.custom_slugs}
    lanes: dict[str, list[tuple[int, Action]]] = {}
    single: list[list[tuple[int, Action]]] = []
    for index, action in indexed:
        if action.slug in custom:
            lanes.setdefault(action.slug, []).append((index, action))
        else:
            single.append([(index, action)])
    ordered = [sorted(lane, key=lambda pair: lane_key(pair[1])) for lane in lanes.values()]
    return ordered + single


def custom_slugs(
    actions: Sequence[Action],
    existing: Mapping[Identity, RemoteIntegration],
    definitions: Mapping[str, dict[str, Any]],
) -> tuple[CustomSlug, ...]:
    """What a plan saw of each custom slug its ``actions`` touch: the ownerships that
    ``existing`` holds, their shared definition, the manifest's managed fields of it
    (``definitions``)."""
    found = []
    for slug in sorted({a.slug for a in actions}):
        remote = [existing[Identity(slug, o)] for o in OWNERSHIPS if (slug, o) in existing]
        definition = next((r.custom_provider for r in remote if r.custom_provider), None)
        if definition is None and slug not in definitions:
            continue
        owned = tuple(r.ownership for r in remote)
        found.append(CustomSlug(slug, owned, definition, dict(definitions.get(slug, {}))))
    return tuple(found)


def lanes_of(plan: Plan) -> dict[str, Lane]:
    """A fresh ``Lane`` per custom slug of the plan."""
    return {seen.slug: Lane(seen) for seen in plan.custom_slugs}
