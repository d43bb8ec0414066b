"""A saved plan read back for review: ``reconciler show PLAN_FILE``, no API call.

The file holds the plan's JSON document (``reconciler.plandocument``) and what binds it: the
API it was made for, when, the keyed fingerprint of the key, the policy's and
the manifests' digests, the options it was made with. ``Shown`` carries these
and the plan rebuilt from its JSON form, for the renderers (``render.saved``).
Nothing here is secret: the file holds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from reconciler.plan import Action, ActionKind, FieldChange, Identity, KeyAction, Plan
from reconciler.plandocument import (
    ChangeDoc,
    FieldDoc,
    IdentityDoc,
    ManifestDoc,
    PlanDocument,
    SavedDoc,
    StampDoc,
)
from reconciler.planfile import SavedPlan


@dataclass(frozen=True)
class RecordedPlan(Plan):
    """A plan rebuilt from its JSON form, which lists no unchanged identity: its counts
    are the ones recorded."""

    recorded_summary: tuple[tuple[str, int], ...] = ()

    @property
    def summary(self) -> dict[str, int]:
        return {**super().summary, **dict(self.recorded_summary)}


@dataclass(frozen=True)
class Shown:
    """A saved plan as ``show`` presents it: where and when it was made, and the plan."""

    file: str
    version: int
    api_url: str
    created_at: datetime | None
    age_seconds: int | None
    api_key_fingerprint: str
    policy_name: str
    policy_sha256: str
    manifest_files: tuple[str, ...]
    manifest_sha256: str
    options: tuple[str, ...]
    plan: RecordedPlan
    document: PlanDocument
    """The plan's JSON document as saved (what ``--format json`` prints, with ``saved``)."""

    @property
    def made(self) -> str | None:
        """When the plan was made, UTC (``2026-01-02T03:04:05Z``), if the file says."""
        return _timestamp(self.created_at)

    def with_saved(self) -> PlanDocument:
        """The document of ``show --format json``: the plan's, plus ``saved``."""
        saved = SavedDoc(
            file=self.file,
            version=self.version,
            api_url=self.api_url,
            created_at=self.made,
            age_seconds=self.age_seconds,
            api_key_fingerprint=self.api_key_fingerprint,
            policy=StampDoc(name=self.policy_name, sha256=self.policy_sha256),
            manifest=ManifestDoc(files=list(self.manifest_files), sha256=self.manifest_sha256),
            options=list(self.options),
        )
        return PlanDocument.model_validate({**self.document.data(), "saved": saved.data()})


def show(saved: SavedPlan, file: str, *, now: datetime | None = None) -> Shown:
    """What ``reconciler show`` presents of ``saved`` (read from ``file``) at ``now``."""
    content = saved.file
    created = _parse_time(content.created_at)
    moment = now or datetime.now(UTC)
    age = None if created is None else int((moment - created).total_seconds())
    options = []
    if content.rotate_secrets:
        options.append("--rotate-secrets")
    if content.no_secrets:
        options.append("--no-secrets")
    options += [f"--target {pattern}" for pattern in saved.targets]
    return Shown(
        file=file,
        version=content.version,
        api_url=content.api_url,
        created_at=created,
        age_seconds=age,
        api_key_fingerprint=content.api_key_fingerprint,
        policy_name=content.policy.name,
        policy_sha256=content.policy.sha256,
        manifest_files=tuple(saved.names),
        manifest_sha256=content.manifest.sha256,
        options=tuple(options),
        plan=plan_from_document(content.plan),
        document=content.plan,
    )


def plan_from_document(document: PlanDocument) -> RecordedPlan:
    """The plan of a JSON plan document, its recorded counts kept."""
    return RecordedPlan(
        actions=tuple(_action(change) for change in document.changes),
        unmanaged=_identities(document.unmanaged),
        adopted=_identities(document.adopted),
        warnings=tuple(document.warnings),
        recorded_summary=tuple(sorted(document.summary.model_dump().items())),
    )


def _action(change: ChangeDoc) -> Action:
    return Action(
        kind=ActionKind(change.action),
        slug=change.slug,
        ownership=change.ownership,
        fields=tuple(_field(item) for item in change.fields),
        reason=change.reason,
    )


def _field(item: FieldDoc) -> FieldChange:
    added, removed = item.added, item.removed
    return FieldChange(
        path=item.path,
        before=item.before,
        after=item.after,
        sensitive=item.sensitive,
        forces_replacement=item.forces_replacement is True,
        added=None if added is None else tuple(added),
        removed=None if removed is None else tuple(removed),
        carried_over=item.carried_over is True,
        key_action=None if item.key_action is None else KeyAction(item.key_action),
    )


def _identities(items: list[IdentityDoc]) -> tuple[Identity, ...]:
    return tuple(Identity(item.slug, item.ownership) for item in items)


def _parse_time(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _timestamp(moment: datetime | None) -> str | None:
    return None if moment is None else moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_age(seconds: int | None) -> str:
    """``3 h 12 min ago``; ``unknown`` without a time; clock skew said as such."""
    if seconds is None:
        return "unknown (the file records no time)"
    if seconds < 0:
        return "in the future (is a clock wrong?)"
    if seconds < 60:
        return f"{seconds} s ago"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if hours == 0:
        return f"{minutes} min ago"
    if days == 0:
        return f"{hours} h {minutes % 60} min ago"
    return f"{days} d {hours % 24} h ago"
