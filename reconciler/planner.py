"""The planner: a pure function from desired and remote state to a Plan.

No I/O, no clock, no printing. See docs/design.md "Planning" for the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

from reconciler.errors import ManifestError, Problem
from reconciler.fields import (
    CUSTOM_PROVIDER_FIELDS,
    FIELDS,
    INTEGRATION_FIELDS,
    MISSING,
    Field,
    Kind,
    creation_only,
    field,
    in_place,
)
from reconciler.models import Desired, DesiredIntegration, Ownership, RemoteIntegration, Settings
from reconciler.plan import Action, ActionKind, FieldChange, Identity, Plan, identity_key
from reconciler.secrets import masked


def plan(
    desired: Desired, remote: Sequence[RemoteIntegration], *, rotate_secrets: bool = False
) -> Plan:
    """Compare desired with remote state and return the actions to reconcile them.

    The API shows only a secret's last 4 characters, so a new secret that ends
    like the old one can't be told apart: ``rotate_secrets`` sends every
    managed custom client secret anyway.
    """
    return _Planner(desired, remote, rotate_secrets).run()


class _Planner:
    """One planning pass: the state shared by the per-integration decisions."""

    def __init__(
        self, desired: Desired, remote: Sequence[RemoteIntegration], rotate_secrets: bool
    ) -> None:
        self.settings = settings = desired.settings
        self.rotate_secrets = rotate_secrets
        self.warnings: list[str] = []
        self.wanted: dict[Identity, DesiredIntegration] = {}
        for item in desired.integrations:
            if _ignored(item.spec.slug, settings):
                self.warnings.append(
                    f"{item.source}: {_name(item.identity)} matches settings.ignore "
                    "and is left alone"
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
        for identity in sorted(self.wanted.keys() | self.existing.keys(), key=identity_key):
            entry, current = self.wanted.get(identity), self.existing.get(identity)
            if entry is None:
                assert current is not None
                self._not_in_manifest(current)
            elif current is None:
                self._create(entry)
            else:
                self._reconcile(entry, current)
        if self.problems:
            raise ManifestError(self.problems)
        self.warnings.extend(self._ownership_hints())
        managed = sum(1 for i in self.existing if self.settings.prune or i in self.wanted)
        return Plan(
            actions=tuple(sorted(self.actions, key=lambda a: a.sort_key)),
            unchanged=tuple(self.unchanged),
            unmanaged=tuple(self.unmanaged),
            warnings=tuple(self.warnings),
            managed_remote_count=managed,
        )

    def _ownership_hints(self) -> list[str]:
        """A create beside the other ownership of the same slug, which the manifest drops:
        most likely an ownership change, which the API can't make in place."""
        hints = []
        for action in self.actions:
            if action.kind is not ActionKind.CREATE:
                continue
            other: Identity = (action.slug, _other(action.ownership))
            if other in self.existing and other not in self.wanted:
                hints.append(
                    f"{_name(action.identity)} will be created beside {_name(other)}, which the "
                    "manifest does not list. If you meant to change its ownership: ownership "
                    f"is fixed at creation, so this makes a new integration and {_name(other)} "
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
                fields=_destroyed(current),
                reason=reason,
                remote=current,
            )
        )

    def _create(self, entry: DesiredIntegration) -> None:
        slug = entry.spec.slug
        definition = self.definitions.get(slug, {})
        sibling = _sibling(self.existing, entry.identity)
        self.problems.extend(_creation_problems(entry))
        if sibling is None:
            if definition and "name" not in definition:
                message = f"custom_provider.name is required to create the custom provider {slug}"
                self.problems.append(_problem(entry, message))
            self.actions.append(_create(entry, definition))
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
        if _replacement_reasons(entry, current, definition):
            self._replace(entry, current, sibling)
            return
        changes, body = _update(entry, current, self.rotate_secrets)
        if definition and slug not in self.definition_planned:
            self.definition_planned.add(slug)
            definition_changes, sent = _definition_changes(definition, current.custom_provider)
            if definition_changes:
                changes.extend(definition_changes)
                body["custom_provider"] = sent
                if sibling is not None:
                    self.warnings.extend(_shared_warning(definition_changes, entry, sibling))
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
        reasons = _replacement_reasons(entry, current, definition)
        fields, body = _recreate(entry, current, definition)
        if entry.spec.credentials is not None:
            self.problems.extend(_creation_problems(entry))
        elif _custom_credentials(current):
            self.problems.append(
                _problem(
                    entry,
                    f"{_name(entry.identity)} must be replaced ({_reason(reasons)}), and its "
                    "custom credentials are not in the manifest: the API never returns a "
                    "client secret, so they can't be carried over. Add credentials with a "
                    "client_secret reference to replace it",
                )
            )
        elif "oauth" in body.get("auth_methods", ()) and "credentials" not in body:
            message = (
                f"{_name(entry.identity)} must be replaced and uses oauth: it needs credentials"
            )
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


def _name(identity: Identity) -> str:
    return f"{identity[0]} ({identity[1]})"


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
    other: Ownership = "organization" if identity[1] == "user" else "user"
    found = existing.get((identity[0], other))
    return found if found is not None and found.custom_provider is not None else None


def _create_beside(
    entry: DesiredIntegration, definition: dict[str, Any], sibling: RemoteIntegration
) -> Action:
    """Create the other ownership of an existing custom provider.

    The definition exists already (shared with ``sibling``): send only what
    differs from it, and show it as a change from the sibling's values.
    """
    plain = _create(entry, {})
    changes, sent = _definition_changes(definition, sibling.custom_provider)
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
        f"{_name(entry.identity)} shares its custom_provider definition with "
        f"{_name(sibling.identity)}: this plan changes it for both ({', '.join(paths)})"
    ]


def _problem(entry: DesiredIntegration, message: str) -> Problem:
    return Problem(entry.source.file, entry.source.line, entry.source.column, message)


def _creation_problems(entry: DesiredIntegration) -> list[Problem]:
    spec = entry.spec
    if "oauth" in spec.auth_methods and spec.credentials is None:
        message = f"{_name(entry.identity)} must be created and uses oauth: it needs credentials"
        return [_problem(entry, message)]
    if (
        spec.credentials is not None
        and spec.credentials.type == "custom"
        and not entry.client_secret
    ):
        return [_problem(entry, f"{_name(entry.identity)}: client_secret is not resolved")]
    return []


def _other(ownership: Ownership) -> Ownership:
    return "organization" if ownership == "user" else "user"


def _reason(reasons: Sequence[FieldChange]) -> str:
    """``config cannot change in place``: each forcing field once, by its top-level name."""
    names = dict.fromkeys(r.path.split(".", 1)[0] for r in reasons)
    return "; ".join(f"{name} cannot change in place" for name in names)


def _custom_credentials(current: RemoteIntegration) -> bool:
    return current.credentials is not None and current.credentials.type == "custom"


def _change(f: Field, before: Any, after: Any, **flags: Any) -> FieldChange:
    """One field's change, with its elements for a set or list when both sides are lists."""
    if f.kind in (Kind.SET, Kind.LIST) and isinstance(before, list) and isinstance(after, list):
        added, removed = f.elements(before, after)
        return FieldChange(
            f.name, before, after, added=tuple(added), removed=tuple(removed), **flags
        )
    return FieldChange(f.name, before, after, **flags)


def _map_changes(f: Field, before: Any, after: Any, **flags: Any) -> list[FieldChange]:
    """A map's change, key by key (``config.account``): added, removed or changed."""
    old, new = before or {}, after or {}
    return [
        FieldChange(f"{f.name}.{key}", old.get(key), new.get(key), **flags)
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


def _diff(f: Field, before: Any, after: Any, **flags: Any) -> list[FieldChange]:
    """The changes of one field, element by element; none when both mean the same."""
    if f.equal(before, after):
        return []
    if f.kind is Kind.MAP and isinstance(before, dict) and isinstance(after, dict):
        return _map_changes(f, before, after, **flags)
    return [_change(f, before, after, **flags)]


def _credentials_body(entry: DesiredIntegration) -> dict[str, Any]:
    credentials = entry.spec.credentials
    assert credentials is not None
    body: dict[str, Any] = {"type": credentials.type}
    if credentials.client_id is not None:
        body["client_id"] = credentials.client_id
    return body


def _create(entry: DesiredIntegration, definition: dict[str, Any]) -> Action:
    spec = entry.spec
    body: dict[str, Any] = {}
    changes: list[FieldChange] = []
    for f in INTEGRATION_FIELDS:
        if entry.managed(f.key):
            value = getattr(spec, f.key)
            body[f.key] = value
            changes.append(FieldChange(f.name, None, value))
    if spec.credentials is not None:
        body["credentials"] = _credentials_body(entry)
        for key, value in body["credentials"].items():
            changes.append(FieldChange(f"credentials.{key}", None, value))
        if entry.client_secret is not None:
            after = masked(entry.client_secret.hint)
            changes.append(FieldChange("credentials.client_secret", None, after, sensitive=True))
    if definition:
        body["custom_provider"] = dict(definition)
        changes.extend(FieldChange(f"custom_provider.{k}", None, v) for k, v in definition.items())
    return Action(
        ActionKind.CREATE, spec.slug, spec.ownership, tuple(changes), values=body, spec=spec
    )


def _recreate(
    entry: DesiredIntegration, current: RemoteIntegration, definition: dict[str, Any]
) -> tuple[list[FieldChange], dict[str, Any]]:
    """The whole object a replace creates, as changes from ``current``, and its body.

    Every field the manifest leaves unmanaged keeps its remote value (marked
    ``carried_over``); organization credentials carry over too. Custom ones
    can't (the API never returns the secret): the planner refuses that case.
    """
    spec = entry.spec
    body: dict[str, Any] = {}
    changes: list[FieldChange] = []
    for f in INTEGRATION_FIELDS:
        before = getattr(current, f.key)
        managed = entry.managed(f.key)
        after = getattr(spec, f.key) if managed else before
        if after is not None:
            body[f.key] = after
        kept = FieldChange(f.name, before, after, carried_over=not managed)
        changes.extend(_diff(f, before, after, forces_replacement=f.creation_only) or [kept])
    if spec.credentials is not None:
        body["credentials"] = _credentials_body(entry)
        credential_changes = _credential_changes(entry, current, rotate=True)
        changed = {c.path for c in credential_changes}
        changes.extend(
            FieldChange(f"credentials.{key}", value, value)
            for key, value in body["credentials"].items()
            if f"credentials.{key}" not in changed
        )
        changes.extend(credential_changes)
    elif (
        current.credentials is not None
        and current.credentials.type == "organization"
        and "oauth" in body.get("auth_methods", ())
    ):
        body["credentials"] = {"type": "organization"}
        changes.append(
            FieldChange("credentials.type", "organization", "organization", carried_over=True)
        )
    if current.custom_provider is None and definition:
        changes.insert(
            0, FieldChange("provider", "built-in", "custom_provider", forces_replacement=True)
        )
    if current.custom_provider is not None or definition:
        remote = current.custom_provider or {}
        body["custom_provider"] = created = {**remote, **definition}
        for f in CUSTOM_PROVIDER_FIELDS:
            if f.key in created:
                before, after = remote.get(f.key), created[f.key]
                kept = FieldChange(f.name, before, after, carried_over=f.key not in definition)
                changes.extend(_diff(f, before, after) or [kept])
    return changes, body


def _replacement_reasons(
    entry: DesiredIntegration, current: RemoteIntegration, definition: dict[str, Any]
) -> list[FieldChange]:
    """The creation-only differences: each forces a replace (sets ignore order)."""
    reasons: list[FieldChange] = []
    for f in creation_only():
        if entry.managed(f.key):
            after, before = getattr(entry.spec, f.key), getattr(current, f.key)
            reasons.extend(_diff(f, before, after, forces_replacement=True))
    if definition and current.custom_provider is None:
        reasons.append(
            FieldChange("provider", "built-in", "custom_provider", forces_replacement=True)
        )
    return reasons


def _update(
    entry: DesiredIntegration, current: RemoteIntegration, rotate: bool
) -> tuple[list[FieldChange], dict[str, Any]]:
    """Changes of the in-place fields, and the partial PUT body that makes them."""
    changes: list[FieldChange] = []
    body: dict[str, Any] = {}
    for f in in_place():
        if entry.managed(f.key):
            after = getattr(entry.spec, f.key)
            differences = _diff(f, getattr(current, f.key), after)
            if differences:
                changes.extend(differences)
                body[f.key] = after
    credential_changes = _credential_changes(entry, current, rotate=rotate)
    if any(c.changed for c in credential_changes):
        changes.extend(credential_changes)
        body["credentials"] = _credentials_body(entry)
    return changes, body


def _credential_changes(
    entry: DesiredIntegration, current: RemoteIntegration, *, rotate: bool
) -> list[FieldChange]:
    """The managed credentials' changes. The secret counts as changed when its last 4
    differ, or when the credentials are sent anyway (they are sent whole: another field
    changed, or ``rotate``); a secret that ends like the old one can't be told apart."""
    wanted = entry.spec.credentials
    if not entry.managed("credentials") or wanted is None:
        return []
    have = current.credentials
    before_type = have.type if have else None
    before_id = have.client_id if have else None
    before_last4 = have.redacted_client_secret if have else None
    secret = entry.client_secret
    after_last4 = secret.last4 if secret is not None else None
    changes: list[FieldChange] = []
    if wanted.type != before_type:
        changes.append(FieldChange("credentials.type", before_type, wanted.type))
    if wanted.client_id != before_id:
        changes.append(FieldChange("credentials.client_id", before_id, wanted.client_id))
    before = masked(before_last4) if before_last4 else None
    if after_last4 != before_last4 and (after_last4 or before_last4):
        after = masked(secret.hint) if secret is not None else None
        changes.append(FieldChange("credentials.client_secret", before, after, sensitive=True))
    elif (changes or rotate) and secret is not None:
        # credentials are sent whole: the same secret goes again, and is stored anew
        after = f"{masked(secret.hint)}, sent again"
        changes.append(FieldChange("credentials.client_secret", before, after, sensitive=True))
    return changes


def _definition_changes(
    definition: dict[str, Any], remote: dict[str, Any] | None
) -> tuple[list[FieldChange], dict[str, Any]]:
    """The custom_provider fields the manifest manages that differ from ``remote``
    (maps key by key), and the partial definition that sends them (maps whole)."""
    current = remote or {}
    changes: list[FieldChange] = []
    sent: dict[str, Any] = {}
    for key, value in definition.items():
        f = field(f"custom_provider.{key}")
        differences = _diff(f, current.get(key), value)
        if differences:
            changes.extend(differences)
            sent[key] = value
    return changes, sent


def _destroyed(current: RemoteIntegration) -> tuple[FieldChange, ...]:
    """What a delete destroys: the object's fields that hold a value."""
    data = current.model_dump(mode="json")
    changes = []
    for f in FIELDS:
        value = f.get(data)
        if f.sensitive:
            last4 = current.credentials.redacted_client_secret if current.credentials else None
            if last4:
                changes.append(FieldChange(f.name, masked(last4), None, sensitive=True))
        elif value is not MISSING and value is not None and value != {}:
            changes.append(FieldChange(f.name, value, None))
    return tuple(changes)
