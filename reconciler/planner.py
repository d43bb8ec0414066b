"""The planner: a pure function from desired and remote state to a Plan.

No I/O, no clock, no printing. See docs/design.md "Planning" for the rules.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

from reconciler.changes import (
    create_action,
    definition_changes,
    destroyed,
    recreate,
    replacement_reasons,
    update_changes,
)
from reconciler.errors import ManifestError, Problem
from reconciler.lanes import custom_slugs
from reconciler.models import (
    Desired,
    DesiredIntegration,
    RemoteIntegration,
    Settings,
)
from reconciler.plan import (
    Action,
    ActionKind,
    FieldChange,
    Identity,
    Plan,
    Targeting,
)
from reconciler.refusals import builtin_problems, oauth_problems


def plan(
    desired: Desired,
    remote: Sequence[RemoteIntegration],
    *,
    rotate_secrets: bool = False,
    selects: Callable[[Identity], bool] | None = None,
) -> Plan:
    """Compare desired with remote state and return the actions to reconcile them.

    The API shows only a secret's last 4 characters, so a new secret that ends
    like the old one can't be told apart: ``rotate_secrets`` sends every
    managed custom client secret anyway.

    With ``selects`` (``reconciler.targeting``), only the integrations it
    selects are acted on: the others with changes are listed in
    ``plan.targeting.skipped``. Everything is still planned (the manifest's
    problems are problems whatever the subset), selected integrations first,
    so that a custom provider's shared definition goes with a selected action.
    """
    return _Planner(desired, remote, rotate_secrets, selects).run()


class _Planner:
    """One planning pass: the state shared by the per-integration decisions."""

    def __init__(
        self,
        desired: Desired,
        remote: Sequence[RemoteIntegration],
        rotate_secrets: bool,
        selects: Callable[[Identity], bool] | None = None,
    ) -> None:
        self.settings = settings = desired.settings
        self.secrets_compared = desired.secrets_resolved
        self.rotate_secrets = rotate_secrets
        self.selects = selects
        self.warnings: list[str] = []
        self.wanted: dict[Identity, DesiredIntegration] = {}
        for item in desired.integrations:
            if _ignored(item.spec.slug, settings):
                self.warnings.append(
                    f"{item.source}: {item.identity} matches settings.ignore and is left alone"
                )
            else:
                self.wanted[item.identity] = item
        self.existing = {r.identity: r for r in remote if not _ignored(r.slug, settings)}
        self.definitions = _shared_definitions(self.wanted.values())
        self.actions: list[Action] = []
        self.unchanged: list[Identity] = []
        self.unmanaged: list[Identity] = []
        self.problems: list[Problem] = []
        # custom slugs whose shared definition an action already carries
        self.definition_planned: set[str] = set()

    def run(self) -> Plan:
        identities = sorted(self.wanted.keys() | self.existing.keys(), key=Identity.sort_key)
        selects = self.selects
        if selects is not None:  # selected first: they carry shared definitions
            identities.sort(key=lambda identity: not selects(identity))
        for identity in identities:
            self._one(identity)
        if self.problems:
            raise ManifestError(self.problems)
        self.warnings.extend(self._ownership_hints())
        if not self.secrets_compared:
            self.warnings.append(
                "client secrets were not read (--no-secrets): a secret that differs from "
                "the remote's is not shown; apply compares them"
            )
        managed = sum(1 for i in self.existing if self.settings.prune or i in self.wanted)
        return self._selected(
            Plan(
                actions=tuple(sorted(self.actions, key=lambda a: a.sort_key)),
                unchanged=tuple(sorted(self.unchanged, key=Identity.sort_key)),
                unmanaged=tuple(sorted(self.unmanaged, key=Identity.sort_key)),
                warnings=tuple(self.warnings),
                managed_remote_count=managed,
                custom_slugs=custom_slugs(self.actions, self.existing, self.definitions),
                secrets_compared=self.secrets_compared,
            )
        )

    def _one(self, identity: Identity) -> None:
        entry, current = self.wanted.get(identity), self.existing.get(identity)
        if entry is None:
            assert current is not None
            self._not_in_manifest(current)
        elif current is None:
            self._create(entry)
        else:
            self._reconcile(entry, current)

    def _selected(self, whole: Plan) -> Plan:
        """The plan cut to the selected integrations; what has changes besides is skipped
        (the managed count stays the whole's: the delete threshold's denominator)."""
        selects = self.selects
        if selects is None:
            return whole
        return replace(
            whole,
            actions=tuple(a for a in whole.actions if selects(a.identity)),
            unchanged=tuple(i for i in whole.unchanged if selects(i)),
            unmanaged=tuple(i for i in whole.unmanaged if selects(i)),
            targeting=Targeting(
                skipped=tuple(a.identity for a in whole.actions if not selects(a.identity))
            ),
        )

    def _ownership_hints(self) -> list[str]:
        """A create beside the other ownership of the same slug, which the manifest drops:
        most likely an ownership change, which the API can't make in place."""
        hints = []
        for action in self.actions:
            if action.kind is not ActionKind.CREATE:
                continue
            other = action.identity.other()
            if other in self.existing and other not in self.wanted:
                hints.append(
                    f"{action.identity} will be created beside {other}, which the "
                    "manifest does not list. If you meant to change its ownership: ownership "
                    f"is fixed at creation, so this makes a new integration and {other} "
                    "stays (settings.prune: true would delete it, with its connected accounts)"
                )
        return hints

    def _not_in_manifest(self, current: RemoteIntegration) -> None:
        if not self.settings.prune:
            self.unmanaged.append(current.identity)
            return
        reason = "not in the manifest (settings.prune is true)"
        self.actions.append(
            Action(
                ActionKind.DELETE,
                *current.identity,
                fields=destroyed(current),
                reason=reason,
                remote=current,
            )
        )

    def _create(self, entry: DesiredIntegration) -> None:
        slug = entry.spec.slug
        definition = self.definitions.get(slug, {})
        sibling = _sibling(self.existing, entry.identity)
        self.problems.extend(_creation_problems(entry, self.secrets_compared))
        self.problems.extend(builtin_problems(entry, self.existing))
        if sibling is None:
            if definition and "name" not in definition:
                message = f"custom_provider.name is required to create the custom provider {slug}"
                self.problems.append(_problem(entry, message))
            self.actions.append(create_action(entry, definition))
            self.definition_planned.add(slug)
        elif sibling.identity in self.wanted and (
            self.selects is None or self.selects(sibling.identity)
        ):
            # the existing sibling carries a definition change (its update or replace)
            self.actions.append(_create_beside(entry, {}, sibling))
        else:
            shared = {} if slug in self.definition_planned else definition
            created = _create_beside(entry, shared, sibling)
            self.actions.append(created)
            self.warnings.extend(_shared_warning(created.fields, entry, sibling))
            self.definition_planned.add(slug)

    def _reconcile(self, entry: DesiredIntegration, current: RemoteIntegration) -> None:
        slug = entry.spec.slug
        definition = self.definitions.get(slug, {})
        sibling = _sibling(self.existing, entry.identity)
        refused = builtin_problems(entry, self.existing) + oauth_problems(entry, current)
        if refused:
            self.problems.extend(refused)
            return
        if replacement_reasons(entry, current, definition):
            self._replace(entry, current, sibling)
            return
        changes, body = update_changes(entry, current, self.rotate_secrets)
        if definition and slug not in self.definition_planned:
            self.definition_planned.add(slug)
            shared, sent = definition_changes(definition, current.custom_provider)
            if shared:
                changes.extend(shared)
                body["custom_provider"] = sent
                if sibling is not None:
                    self.warnings.extend(_shared_warning(shared, entry, sibling))
        if not changes:
            self.unchanged.append(entry.identity)
            return
        self.actions.append(
            Action(
                ActionKind.UPDATE,
                *entry.identity,
                fields=tuple(changes),
                values=body,
                spec=entry.spec,
                remote=current,
            )
        )

    def _replace(
        self,
        entry: DesiredIntegration,
        current: RemoteIntegration,
        sibling: RemoteIntegration | None,
    ) -> None:
        """Delete and create again: the new object keeps every remote value the manifest
        leaves unmanaged, and the plan shows the whole object it creates."""
        definition = self.definitions.get(entry.spec.slug, {})
        reasons = replacement_reasons(entry, current, definition)
        fields, body = recreate(entry, current, definition)
        if entry.spec.credentials is not None:
            self.problems.extend(_creation_problems(entry, self.secrets_compared))
        elif _custom_credentials(current):
            self.problems.append(
                _problem(
                    entry,
                    f"{entry.identity} must be replaced ({_reason(reasons)}), and its "
                    "custom credentials are not in the manifest: the API never returns a "
                    "client secret, so they can't be carried over. Add credentials with a "
                    "client_secret reference to replace it",
                )
            )
        elif "oauth" in body.get("auth_methods", ()) and "credentials" not in body:
            message = f"{entry.identity} must be replaced and uses oauth: it needs credentials"
            self.problems.append(_problem(entry, message))
        replaced = Action(
            ActionKind.REPLACE,
            *entry.identity,
            fields=tuple(fields),
            reason=_reason(reasons),
            values=body,
            spec=entry.spec,
            remote=current,
        )
        self.actions.append(replaced)
        if sibling is not None:
            shared = [f for f in replaced.fields if f.changed]
            self.warnings.extend(_shared_warning(shared, entry, sibling))
        self.definition_planned.add(entry.spec.slug)


def _ignored(slug: str, settings: Settings) -> bool:
    return any(fnmatchcase(slug, pattern) for pattern in settings.ignore)


def _shared_definitions(entries: Iterable[DesiredIntegration]) -> dict[str, dict[str, Any]]:
    """Per custom slug, the managed custom_provider fields of all its entries."""
    definitions: dict[str, dict[str, Any]] = {}
    for entry in entries:
        provider = entry.spec.custom_provider
        if provider is not None:
            fields = provider.model_dump(mode="json", exclude_unset=True)
            definitions.setdefault(entry.spec.slug, {}).update(fields)
    return definitions


def _sibling(
    existing: dict[Identity, RemoteIntegration], identity: Identity
) -> RemoteIntegration | None:
    """The other ownership's integration of a custom slug: it shares the definition."""
    found = existing.get(identity.other())
    return found if found is not None and found.custom_provider is not None else None


def _create_beside(
    entry: DesiredIntegration, definition: dict[str, Any], sibling: RemoteIntegration
) -> Action:
    """Create the other ownership of an existing custom provider.

    The definition exists already (shared with ``sibling``): send only what
    differs from it, and show it as a change from the sibling's values.
    """
    plain = create_action(entry, {})
    changes, sent = definition_changes(definition, sibling.custom_provider)
    values = dict(plain.values)
    if changes:
        values["custom_provider"] = sent
    return replace(plain, fields=(*plain.fields, *changes), values=values)


def _shared_warning(
    changes: Iterable[FieldChange], entry: DesiredIntegration, sibling: RemoteIntegration
) -> list[str]:
    paths = sorted({c.path for c in changes if c.path.startswith("custom_provider.")})
    if not paths or (sibling.custom_provider is None):
        return []
    return [
        f"{entry.identity} shares its custom_provider definition with "
        f"{sibling.identity}: this plan changes it for both ({', '.join(paths)})"
    ]


def _problem(entry: DesiredIntegration, message: str) -> Problem:
    return Problem(entry.source.file, entry.source.line, entry.source.column, message)


def _creation_problems(entry: DesiredIntegration, secrets_read: bool) -> list[Problem]:
    spec = entry.spec
    if "oauth" in spec.auth_methods and spec.credentials is None:
        message = f"{entry.identity} must be created and uses oauth: it needs credentials"
        return [_problem(entry, message)]
    if (
        spec.credentials is not None
        and spec.credentials.type == "custom"
        and not entry.client_secret
        and secrets_read
    ):
        return [_problem(entry, f"{entry.identity}: client_secret is not resolved")]
    return []


def _reason(reasons: Sequence[str]) -> str:
    """``config cannot change in place``: each forcing field by its top-level name."""
    return "; ".join(f"{name} cannot change in place" for name in reasons)


def _custom_credentials(current: RemoteIntegration) -> bool:
    return current.credentials is not None and current.credentials.type == "custom"
