"""What changes, field by field: the planner's building blocks.

Each function compares one entry of the manifest with its remote object (or
with nothing) through the field table (``reconciler.fields``) and returns the
``FieldChange`` list a plan shows and the values an action sets (secret-free:
``reconciler.wire`` adds the client secret at send time).
"""

from __future__ import annotations

from typing import Any

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
from reconciler.models import DesiredIntegration, RemoteIntegration
from reconciler.plan import Action, ActionKind, FieldChange, KeyAction
from reconciler.secrets import masked


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
        FieldChange(
            f"{f.name}.{key}",
            old.get(key),
            new.get(key),
            key_action=_key_action(key, old, new),
            **flags,
        )
        for key in sorted(old.keys() | new.keys())
        if old.get(key) != new.get(key)
    ]


def _key_action(key: str, old: dict[str, Any], new: dict[str, Any]) -> KeyAction:
    if key not in old:
        return KeyAction.ADDED
    return KeyAction.CHANGED if key in new else KeyAction.REMOVED


def diff(f: Field, before: Any, after: Any, **flags: Any) -> list[FieldChange]:
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


def create_action(entry: DesiredIntegration, definition: dict[str, Any]) -> Action:
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
        if entry.client_secret is not None or entry.secret_deferred:
            after = _secret_shown(entry)
            changes.append(FieldChange("credentials.client_secret", None, after, sensitive=True))
    if definition:
        body["custom_provider"] = dict(definition)
        changes.extend(FieldChange(f"custom_provider.{k}", None, v) for k, v in definition.items())
    return Action(
        ActionKind.CREATE, spec.slug, spec.ownership, tuple(changes), values=body, spec=spec
    )


def recreate(
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
        changes.extend(diff(f, before, after, forces_replacement=f.creation_only) or [kept])
    if spec.credentials is not None:
        body["credentials"] = _credentials_body(entry)
        credentials = credential_changes(entry, current, rotate=True)
        changed = {c.path for c in credentials}
        changes.extend(
            FieldChange(f"credentials.{key}", value, value)
            for key, value in body["credentials"].items()
            if f"credentials.{key}" not in changed
        )
        changes.extend(credentials)
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
                changes.extend(diff(f, before, after) or [kept])
    return changes, body


def replacement_reasons(
    entry: DesiredIntegration, current: RemoteIntegration, definition: dict[str, Any]
) -> list[str]:
    """The fields whose creation-only differences force a replace (sets ignore order),
    by their top-level names, each once."""
    reasons = [
        f.name
        for f in creation_only()
        if entry.managed(f.key) and not f.equal(getattr(current, f.key), getattr(entry.spec, f.key))
    ]
    if definition and current.custom_provider is None:
        reasons.append("provider")
    return reasons


def update_changes(
    entry: DesiredIntegration, current: RemoteIntegration, rotate: bool
) -> tuple[list[FieldChange], dict[str, Any]]:
    """Changes of the in-place fields, and the partial PUT body that makes them."""
    changes: list[FieldChange] = []
    body: dict[str, Any] = {}
    for f in in_place():
        if entry.managed(f.key):
            after = getattr(entry.spec, f.key)
            differences = diff(f, getattr(current, f.key), after)
            if differences:
                changes.extend(differences)
                body[f.key] = after
    credentials = credential_changes(entry, current, rotate=rotate)
    if any(c.changed for c in credentials):
        changes.extend(credentials)
        body["credentials"] = _credentials_body(entry)
    return changes, body


def credential_changes(
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
    if entry.secret_deferred:
        if changes or rotate:
            changes.append(
                FieldChange("credentials.client_secret", before, NOT_COMPARED, sensitive=True)
            )
        return changes
    if after_last4 != before_last4 and (after_last4 or before_last4):
        after = masked(secret.hint) if secret is not None else None
        changes.append(FieldChange("credentials.client_secret", before, after, sensitive=True))
    elif (changes or rotate) and secret is not None:
        # credentials are sent whole: the same secret goes again, and is stored anew
        after = f"{masked(secret.hint)}, sent again"
        changes.append(FieldChange("credentials.client_secret", before, after, sensitive=True))
    return changes


NOT_COMPARED = "(not compared: checked at apply)"
"""How a plan made with ``--no-secrets`` shows a client secret it did not read."""


def _secret_shown(entry: DesiredIntegration) -> str:
    """A desired client secret as a plan shows it: its last 4, or not compared."""
    secret = entry.client_secret
    return NOT_COMPARED if secret is None else masked(secret.hint)


def definition_changes(
    definition: dict[str, Any], remote: dict[str, Any] | None
) -> tuple[list[FieldChange], dict[str, Any]]:
    """The custom_provider fields the manifest manages that differ from ``remote``
    (maps key by key), and the partial definition that sends them (maps whole)."""
    current = remote or {}
    changes: list[FieldChange] = []
    sent: dict[str, Any] = {}
    for key, value in definition.items():
        f = field(f"custom_provider.{key}")
        differences = diff(f, current.get(key), value)
        if differences:
            changes.extend(differences)
            sent[key] = value
    return changes, sent


def destroyed(current: RemoteIntegration) -> tuple[FieldChange, ...]:
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
