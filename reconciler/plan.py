"""A plan is plain data: the actions to take, in a fixed order, and its JSON form.

Renderers turn a ``Plan`` into text; the applier executes its actions. A plan
holds no secret: a sensitive field carries only the last 4 characters, as the
API itself returns them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from reconciler.identity import Identity as Identity  # re-exported for older imports
from reconciler.identity import Ownership
from reconciler.models import Integration, RemoteIntegration


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REPLACE = "replace"
    DELETE = "delete"


DISPLAY_ORDER = (ActionKind.REPLACE, ActionKind.DELETE, ActionKind.CREATE, ActionKind.UPDATE)
"""Every format shows destructive actions first; execution runs deletes last."""
KIND_ORDER = {kind: index for index, kind in enumerate(DISPLAY_ORDER)}


class KeyAction(StrEnum):
    """What happens to one key of a map field (``config.account``)."""

    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"


@dataclass(frozen=True)
class FieldChange:
    """One field's change; sensitive values are already masked.

    ``added`` / ``removed`` list a set's elements when both sides are lists;
    a map's change is one ``FieldChange`` per key (``config.account``), its
    ``key_action`` saying whether the key is added, removed or changed.
    ``carried_over`` marks a value a replace keeps from the remote object
    because the manifest leaves it unmanaged (then ``before == after``).
    """

    path: str
    before: Any
    after: Any
    sensitive: bool = False
    forces_replacement: bool = False
    added: tuple[Any, ...] | None = None
    removed: tuple[Any, ...] | None = None
    carried_over: bool = False
    key_action: KeyAction | None = None

    @property
    def changed(self) -> bool:
        """False for a value a replace shows but keeps as it is."""
        return bool(self.before != self.after)


@dataclass(frozen=True)
class Action:
    """One change to make to one integration (identity = slug, ownership): the intent.

    ``values`` are the fields to set, in the API's names, without the
    identity and without any secret (``reconciler.wire`` builds the request
    from them and adds the client secret at send time). ``spec`` is the
    manifest's entry (secret-free: its client_secret is a reference) and
    ``remote`` the object as listed, the snapshot a failed replace restores.
    """

    kind: ActionKind
    slug: str
    ownership: Ownership
    fields: tuple[FieldChange, ...] = ()
    reason: str | None = None
    values: dict[str, Any] = field(default_factory=dict)
    spec: Integration | None = field(default=None, compare=False, repr=False)
    remote: RemoteIntegration | None = field(default=None, compare=False, repr=False)

    @property
    def protected(self) -> bool:
        """The manifest says ``protect: true`` for this integration."""
        return self.spec is not None and self.spec.protect

    @property
    def identity(self) -> Identity:
        return Identity(self.slug, self.ownership)

    @property
    def destructive(self) -> bool:
        """Deletes and replaces destroy every connected account."""
        return self.kind in (ActionKind.DELETE, ActionKind.REPLACE)

    @property
    def sort_key(self) -> tuple[int, str, int]:
        return (KIND_ORDER[self.kind], *self.identity.sort_key())


@dataclass(frozen=True)
class Target:
    """What a plan was made against: shown in every plan's header."""

    api_url: str
    api_key_hint: str
    files: tuple[str, ...]
    policy: str = "the default policy"


@dataclass(frozen=True)
class Targeting:
    """A partial plan (``--target``): the patterns, and the integrations left out that
    have changes (``reconciler.targeting``)."""

    patterns: tuple[str, ...] = ()
    skipped: tuple[Identity, ...] = ()


@dataclass(frozen=True)
class CustomSlug:
    """A custom provider's slug as the plan saw it (``reconciler.lanes`` runs its actions).

    ``existing``: the ownerships of it that the API lists; ``definition``: the
    shared definition they hold (None when none exists); ``wanted``: the
    definition's fields the manifest manages.
    """

    slug: str
    existing: tuple[Ownership, ...] = ()
    definition: dict[str, Any] | None = field(default=None, compare=False)
    wanted: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class Plan:
    """Everything a run would do, in deterministic order; ``targeting`` when partial.

    ``custom_slugs``: what the plan saw of each custom provider its actions touch.
    """

    actions: tuple[Action, ...] = ()
    unchanged: tuple[Identity, ...] = ()
    unmanaged: tuple[Identity, ...] = ()
    warnings: tuple[str, ...] = ()
    managed_remote_count: int = 0
    targeting: Targeting | None = None
    secrets_compared: bool = True
    """False for a plan made with ``--no-secrets``: it can be shown, never applied."""
    custom_slugs: tuple[CustomSlug, ...] = ()
    adopted: tuple[Identity, ...] = ()
    """Unchanged entries the baseline (``plan --baseline``) does not list: from now on
    managed, with no change. Never a change (``has_changes`` ignores them)."""

    def custom_slug(self, slug: str) -> CustomSlug | None:
        """What the plan saw of ``slug`` when it is a custom provider's, else None."""
        return next((c for c in self.custom_slugs if c.slug == slug), None)

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    def count(self, kind: ActionKind) -> int:
        return sum(1 for action in self.actions if action.kind is kind)

    @property
    def summary(self) -> dict[str, int]:
        counts = {kind.value: self.count(kind) for kind in ActionKind}
        counts["unchanged"] = len(self.unchanged)
        counts["adopted"] = len(self.adopted)
        counts["unmanaged"] = len(self.unmanaged)
        return counts
