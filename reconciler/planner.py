"""The planner: a pure function from desired and remote state to a Plan.

No I/O, no clock, no printing. See DESIGN.md "Planning" for the rules.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from fnmatch import fnmatchcase
from typing import Any

from reconciler.errors import ManifestError, Problem, UnsafePlanError
from reconciler.models import Desired, DesiredIntegration, Ownership, RemoteIntegration, Settings
from reconciler.plan import Action, ActionKind, FieldChange, Identity, Plan, identity_key
from reconciler.policy import DEFAULT_POLICY, Policy
from reconciler.secrets import masked

SIMPLE_FIELDS = ("description", "enabled", "scopes")
CREATION_ONLY_FIELDS = ("auth_methods", "config")


def plan(desired: Desired, remote: Sequence[RemoteIntegration]) -> Plan:
    """Compare desired with remote state and return the actions to reconcile them."""
    return _Planner(desired, remote).run()


class _Planner:
    """One planning pass: the state shared by the per-integration decisions."""

    def __init__(self, desired: Desired, remote: Sequence[RemoteIntegration]) -> None:
        self.settings = settings = desired.settings
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
        managed = sum(1 for i in self.existing if self.settings.prune or i in self.wanted)
        return Plan(
            actions=tuple(sorted(self.actions, key=lambda a: a.sort_key)),
            unchanged=tuple(self.unchanged),
            unmanaged=tuple(self.unmanaged),
            warnings=tuple(self.warnings),
            managed_remote_count=managed,
        )

    def _not_in_manifest(self, current: RemoteIntegration) -> None:
        if not self.settings.prune:
            self.unmanaged.append(current.identity)
            return
        reason = "not in the manifest (settings.prune is true)"
        self.actions.append(
            Action(ActionKind.DELETE, *current.identity, reason=reason, remote=current)
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
        reasons = _replacement_reasons(entry, current, definition)
        changes, body = _update(entry, current)
        if reasons:
            self._replace(entry, current, reasons, changes, sibling)
            return
        if definition and slug not in self.definition_planned:
            self.definition_planned.add(slug)
            definition_changes = _definition_changes(definition, current)
            if definition_changes:
                changes.extend(definition_changes)
                body["custom_provider"] = {
                    c.path.split(".", 1)[1]: c.after for c in definition_changes
                }
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
                body=body,
                desired=entry,
                remote=current,
            )
        )

    def _replace(
        self,
        entry: DesiredIntegration,
        current: RemoteIntegration,
        reasons: list[FieldChange],
        changes: list[FieldChange],
        sibling: RemoteIntegration | None,
    ) -> None:
        definition = self.definitions.get(entry.spec.slug, {})
        self.problems.extend(_creation_problems(entry))
        # The definition goes with the last integration of its slug: carry it over.
        created = _create(entry, {**(current.custom_provider or {}), **definition})
        replaced = Action(
            ActionKind.REPLACE,
            *entry.identity,
            fields=(*reasons, *changes, *_definition_changes(definition, current)),
            reason="; ".join(f"{r.path} cannot change in place" for r in reasons),
            body=created.body,
            desired=entry,
            remote=current,
        )
        self.actions.append(replaced)
        if sibling is not None:
            self.warnings.extend(_shared_warning(replaced.fields, entry, sibling))
        self.definition_planned.add(entry.spec.slug)


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
        if a.destructive
        and (
            (a.desired is not None and a.desired.spec.protect)
            or policy.protects(a.identity[0], a.identity[1])
        )
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
    changes = _definition_changes(definition, sibling)
    body = dict(plain.body)
    if changes:
        body["custom_provider"] = {c.path.split(".", 1)[1]: c.after for c in changes}
    return replace(plain, fields=(*plain.fields, *changes), body=body)


def _shared_warning(
    fields: Iterable[FieldChange], entry: DesiredIntegration, sibling: RemoteIntegration
) -> list[str]:
    paths = [f.path for f in fields if f.path.startswith("custom_provider.")]
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
    where = (entry.source.file, entry.source.line, entry.source.column)
    if "oauth" in spec.auth_methods and spec.credentials is None:
        return [
            Problem(
                *where,
                f"{_name(entry.identity)} must be created and uses oauth: it needs credentials",
            )
        ]
    if (
        spec.credentials is not None
        and spec.credentials.type == "custom"
        and not entry.client_secret
    ):
        return [Problem(*where, f"{_name(entry.identity)}: client_secret is not resolved")]
    return []


def _credentials_body(entry: DesiredIntegration) -> dict[str, Any]:
    credentials = entry.spec.credentials
    assert credentials is not None
    body: dict[str, Any] = {"type": credentials.type}
    if credentials.client_id is not None:
        body["client_id"] = credentials.client_id
    return body


def _create(entry: DesiredIntegration, definition: dict[str, Any]) -> Action:
    spec = entry.spec
    body: dict[str, Any] = {"provider": spec.slug, "ownership": spec.ownership}
    fields: list[FieldChange] = []
    for name in (*SIMPLE_FIELDS, *CREATION_ONLY_FIELDS):
        if entry.managed(name):
            value = getattr(spec, name)
            body[name] = value
            fields.append(FieldChange(name, None, value))
    if spec.credentials is not None:
        body["credentials"] = _credentials_body(entry)
        for key, value in body["credentials"].items():
            fields.append(FieldChange(f"credentials.{key}", None, value))
        if entry.client_secret is not None:
            after = masked(entry.client_secret.hint)
            fields.append(FieldChange("credentials.client_secret", None, after, sensitive=True))
    if definition:
        body["custom_provider"] = dict(definition)
        fields.extend(FieldChange(f"custom_provider.{k}", None, v) for k, v in definition.items())
    return Action(
        ActionKind.CREATE, spec.slug, spec.ownership, tuple(fields), body=body, desired=entry
    )


def _replacement_reasons(
    entry: DesiredIntegration, current: RemoteIntegration, definition: dict[str, Any]
) -> list[FieldChange]:
    spec = entry.spec
    reasons: list[FieldChange] = []
    if entry.managed("auth_methods") and set(spec.auth_methods) != set(current.auth_methods):
        reasons.append(
            FieldChange(
                "auth_methods", current.auth_methods, spec.auth_methods, forces_replacement=True
            )
        )
    if entry.managed("config") and spec.config != current.config:
        reasons.append(FieldChange("config", current.config, spec.config, forces_replacement=True))
    if definition and current.custom_provider is None:
        reasons.append(
            FieldChange("provider", "built-in", "custom_provider", forces_replacement=True)
        )
    return reasons


def _update(
    entry: DesiredIntegration, current: RemoteIntegration
) -> tuple[list[FieldChange], dict[str, Any]]:
    """Changes of the in-place fields, and the partial PUT body that makes them."""
    spec = entry.spec
    changes: list[FieldChange] = []
    body: dict[str, Any] = {}
    for name in SIMPLE_FIELDS:
        after = getattr(spec, name)
        before = getattr(current, name)
        if entry.managed(name) and after != before:
            changes.append(FieldChange(name, before, after))
            body[name] = after
    credential_changes = _credential_changes(entry, current)
    if credential_changes:
        changes.extend(credential_changes)
        body["credentials"] = _credentials_body(entry)
    return changes, body


def _credential_changes(entry: DesiredIntegration, current: RemoteIntegration) -> list[FieldChange]:
    wanted = entry.spec.credentials
    if not entry.managed("credentials") or wanted is None:
        return []
    have = current.credentials
    before_type = have.type if have else None
    before_id = have.client_id if have else None
    before_last4 = have.redacted_client_secret if have else None
    after_last4 = entry.client_secret.last4 if entry.client_secret is not None else None
    after_hint = entry.client_secret.hint if entry.client_secret is not None else None
    changes: list[FieldChange] = []
    if wanted.type != before_type:
        changes.append(FieldChange("credentials.type", before_type, wanted.type))
    if wanted.client_id != before_id:
        changes.append(FieldChange("credentials.client_id", before_id, wanted.client_id))
    before = masked(before_last4) if before_last4 else None
    if after_last4 != before_last4 and (after_last4 or before_last4):
        after = masked(after_hint) if after_last4 else None
        changes.append(FieldChange("credentials.client_secret", before, after, sensitive=True))
    elif changes and after_last4:
        # credentials are sent whole: the same secret goes again, and is stored anew
        after = f"{masked(after_hint)}, sent again"
        changes.append(FieldChange("credentials.client_secret", before, after, sensitive=True))
    return changes


def _definition_changes(
    definition: dict[str, Any], current: RemoteIntegration
) -> list[FieldChange]:
    remote = current.custom_provider or {}
    return [
        FieldChange(f"custom_provider.{key}", remote.get(key), value)
        for key, value in definition.items()
        if remote.get(key) != value
    ]
