"""The JSON plan document (``--format json``) as frozen pydantic models.

Every JSON plan the tool prints (``plan``, ``apply``, ``show``) and the plan a
saved-plan file holds is built here, from a ``Plan`` and its results, and
dumped from these models; ``schemas/plan.schema.json`` is generated from them
(``plan_schema``, ``make schema``) and a test keeps the committed file equal.

A key that is sometimes absent is never ``null``: it is left out (the schema
says so: ``_absent``). Keys that can be ``null`` (``before``, ``error``,
``created_at``...) are always present.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt
from pydantic.json_schema import GenerateJsonSchema

from reconciler.escaping import for_json
from reconciler.plan import Action, FieldChange, Plan, Target, Targeting
from reconciler.results import ActionResult

FORMAT_VERSION: Literal[1] = 1
SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

Ownership = Literal["user", "organization"]
ActionName = Literal["create", "update", "replace", "delete"]


def _never_null(schema: dict[str, Any]) -> None:
    """The schema of a key that is absent rather than null: its value's alone."""
    options = schema.pop("anyOf", None)
    if options is not None:
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1:
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept
    schema.pop("default", None)


def _absent(description: str | None = None) -> Any:
    """A key the document leaves out when it does not apply (never ``null``)."""
    return Field(default=None, description=description, json_schema_extra=_never_null)


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    def data(self) -> dict[str, Any]:
        """As JSON data: the keys that apply, and only those."""
        return self.model_dump(mode="json", exclude_unset=True)


class IdentityDoc(_Part):
    """An integration: its provider slug and ownership."""

    slug: str
    ownership: Ownership


class FieldDoc(_Part):
    """One field's change. Sensitive values are shown by their last 4 characters only."""

    path: str = Field(
        description="Dotted field path, e.g. credentials.client_id; a map gives one entry "
        "per changed key (config.account)."
    )
    before: Any = Field(description="Value before (null for a create).")
    after: Any = Field(description="Value after.")
    sensitive: bool = Field(
        description="True for secrets: before/after are then `(sensitive, ends …1234)`."
    )
    forces_replacement: Literal[True] | None = _absent(
        "Present on a creation-only field whose change forces the replace."
    )
    added: list[Any] | None = _absent(
        "Set and list fields, when neither side is null: the elements added."
    )
    removed: list[Any] | None = _absent(
        "Set and list fields, when neither side is null: the elements removed."
    )
    carried_over: Literal[True] | None = _absent(
        "Replace only: a value the manifest leaves unmanaged, kept from the remote object "
        "(before equals after)."
    )
    key_action: Literal["added", "removed", "changed"] | None = _absent(
        "One key of a map field (`config.account`): whether the key is added, removed or "
        "changed (a value may be null either way)."
    )

    @classmethod
    def of(cls, change: FieldChange) -> FieldDoc:
        optional: dict[str, Any] = {}
        if change.forces_replacement:
            optional["forces_replacement"] = True
        if change.added is not None:
            optional["added"] = list(change.added)
        if change.removed is not None:
            optional["removed"] = list(change.removed)
        if change.carried_over:
            optional["carried_over"] = True
        if change.key_action is not None:
            optional["key_action"] = change.key_action.value
        return cls.model_construct(
            path=change.path,
            before=change.before,
            after=change.after,
            sensitive=change.sensitive,
            **optional,
        )


class RemoteDoc(_Part):
    """The remote object the action starts from (absent for a create)."""

    id: str
    updated_at: str


class ChangeDoc(_Part):
    """One action on one integration."""

    action: ActionName
    slug: str
    ownership: Ownership
    fields: list[FieldDoc]
    destroys_connected_accounts: bool = Field(
        description="True for deletes and replaces: every connected account of the "
        "integration is destroyed, with no undo."
    )
    reason: str | None = _absent("Why a replace or delete happens.")
    remote: RemoteDoc | None = _absent(
        "The remote object the action starts from (absent for a create)."
    )

    @classmethod
    def of(cls, action: Action) -> ChangeDoc:
        optional: dict[str, Any] = {}
        if action.reason:
            optional["reason"] = action.reason
        if action.remote is not None:
            optional["remote"] = RemoteDoc.model_construct(
                id=action.remote.id, updated_at=action.remote.updated_at
            )
        return cls.model_construct(
            action=action.kind.value,
            slug=action.slug,
            ownership=action.ownership,
            fields=[FieldDoc.of(change) for change in action.fields],
            destroys_connected_accounts=action.destructive,
            **optional,
        )


class SummaryDoc(_Part):
    """How many integrations each action concerns."""

    create: NonNegativeInt
    update: NonNegativeInt
    delete: NonNegativeInt
    replace: NonNegativeInt
    unchanged: NonNegativeInt
    adopted: NonNegativeInt = Field(
        description="Unchanged entries the baseline (`plan --baseline`) does not list; "
        "not counted in `unchanged`."
    )
    unmanaged: NonNegativeInt


class TargetDoc(_Part):
    """What the plan was made against."""

    api_url: str
    api_key: str = Field(
        description="`sk_…` plus the key's last 4 characters.",
        json_schema_extra={"pattern": "^sk_…"},
    )
    files: list[str]
    policy: str = Field(description="The policy in force: `the default policy` or `policy FILE`.")

    @classmethod
    def of(cls, target: Target) -> TargetDoc:
        return cls.model_construct(
            api_url=target.api_url,
            api_key=target.api_key_hint,
            files=list(target.files),
            policy=target.policy,
        )


class TargetingDoc(_Part):
    """Present when the plan is partial (`--target`): the patterns, and the integrations
    they leave out that have changes (not applied)."""

    patterns: list[str] = Field(min_length=1)
    skipped: list[IdentityDoc]

    @classmethod
    def of(cls, targeting: Targeting) -> TargetingDoc:
        return cls.model_construct(
            patterns=list(targeting.patterns),
            skipped=[_identity(s, o) for s, o in targeting.skipped],
        )


class StampDoc(_Part):
    """The policy in force when the plan was made."""

    name: str
    sha256: str


class ManifestDoc(_Part):
    """The manifest files the plan was made from, and their digest."""

    files: list[str]
    sha256: str


class SavedDoc(_Part):
    """`reconciler show --format json` only: the saved plan's file, when it was made, and
    what binds it."""

    file: str
    version: int = Field(description="The saved plan's file version.")
    api_url: str
    created_at: str | None = Field(
        description="When the plan was made, UTC (null if the file does not say)."
    )
    age_seconds: int | None = Field(description="Seconds since then, when shown.")
    api_key_fingerprint: str = Field(
        description="The keyed fingerprint of the API key the plan was made with."
    )
    policy: StampDoc
    manifest: ManifestDoc
    options: list[str] = Field(
        description="The options it was made with (`--rotate-secrets`, `--no-secrets`, "
        "`--target PATTERN`)."
    )


class RecoveryDoc(_Part):
    """A failed replace whose state is `deleted` or `unknown`: the integration as it was,
    as a complete manifest entry (YAML, one item of `integrations:`; the custom
    provider's definition included; a client secret as an `${env:...}` reference, never
    a value), and how to create it again from it."""

    manifest_entry: str
    how: str


class ResultDoc(_Part):
    """apply only: the outcome of one action."""

    action: ActionName
    slug: str
    ownership: Ownership
    outcome: Literal["succeeded", "failed", "skipped"]
    error: str | None
    duration: NonNegativeFloat
    state: Literal["restored", "deleted", "unknown"] | None = _absent(
        "A failed replace only: what it left behind. `restored`: the previous object was "
        "created again (new id and redirect URI; its connected accounts are gone); "
        "`deleted`: the integration is gone and was not re-created; `unknown`: deleted, "
        "and whether the re-create took effect could not be checked."
    )
    recovery: RecoveryDoc | None = _absent()

    @classmethod
    def of(cls, result: ActionResult) -> ResultDoc:
        optional: dict[str, Any] = {}
        if result.state is not None:
            optional["state"] = result.state.value
        if result.recovery is not None:
            optional["recovery"] = RecoveryDoc.model_construct(
                manifest_entry=result.recovery.entry, how=result.recovery.how
            )
        return cls.model_construct(
            action=result.action.kind.value,
            slug=result.action.slug,
            ownership=result.action.ownership,
            outcome=result.outcome.value,
            error=result.error,
            duration=round(result.duration, 3),
            **optional,
        )


class PlanDocument(_Part):
    """The JSON plan printed by `reconciler plan --format json` (and by `apply --format
    json`, which adds `results`; and `show --format json`, which adds `saved`). No secret
    is ever part of it: sensitive values are shown by their last 4 characters only."""

    model_config = ConfigDict(title="reconciler plan")

    format_version: Literal[1] = Field(
        description="Version of this document's shape. Additions keep the version; "
        "changes to existing keys bump it."
    )
    summary: SummaryDoc
    changes: list[ChangeDoc] = Field(
        description="The actions, ordered by action kind (replace, delete, create, "
        "update: destructive first), then slug, then ownership (user first)."
    )
    unmanaged: list[IdentityDoc] = Field(
        description="Remote integrations the manifest does not list; left alone."
    )
    adopted: list[IdentityDoc] = Field(
        description="Unchanged entries the baseline (`plan --baseline PATH`, the base "
        "branch's manifests) does not list: from now on managed, with no change. Empty "
        "without a baseline. Never a change (`--detailed-exitcode` ignores them)."
    )
    warnings: list[str]
    secrets_compared: Literal[False] | None = _absent(
        "Present (false) on a plan made with `--no-secrets`: client secrets were not "
        "read, so the plan can be shown but never applied."
    )
    target: TargetDoc | None = _absent()
    targeting: TargetingDoc | None = _absent()
    saved: SavedDoc | None = _absent()
    results: list[ResultDoc] | None = _absent("apply only: the outcome of each action.")

    def text(self) -> str:
        """The document as printed: sorted keys, 2-space indent, safe to print."""
        dumped = json.dumps(self.data(), indent=2, sort_keys=True, ensure_ascii=False)
        return for_json(dumped) + "\n"


def _identity(slug: str, ownership: Ownership) -> IdentityDoc:
    return IdentityDoc.model_construct(slug=slug, ownership=ownership)


def plan_document(
    plan: Plan,
    *,
    target: Target | None = None,
    results: tuple[ActionResult, ...] | None = None,
) -> PlanDocument:
    """``plan`` as its JSON document; with ``target`` (the header) or ``results`` (apply)."""
    optional: dict[str, Any] = {}
    if plan.targeting is not None:
        optional["targeting"] = TargetingDoc.of(plan.targeting)
    if not plan.secrets_compared:
        optional["secrets_compared"] = False
    if target is not None:
        optional["target"] = TargetDoc.of(target)
    if results is not None:
        optional["results"] = [ResultDoc.of(result) for result in results]
    return PlanDocument.model_construct(
        format_version=FORMAT_VERSION,
        summary=SummaryDoc.model_validate(plan.summary),
        changes=[ChangeDoc.of(action) for action in plan.actions],
        unmanaged=[_identity(s, o) for s, o in plan.unmanaged],
        adopted=[_identity(s, o) for s, o in plan.adopted],
        warnings=list(plan.warnings),
        **optional,
    )


class _Generator(GenerateJsonSchema):
    """Properties untitled (their names say it); models keep their docstrings."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False


def plan_schema() -> dict[str, Any]:
    """The JSON Schema of the JSON plan document, from ``PlanDocument``."""
    schema = PlanDocument.model_json_schema(schema_generator=_Generator)
    return {"$schema": SCHEMA_DIALECT, **schema}
