"""A saved plan read back for review: ``reconciler show PLAN_FILE``, no API call.

The file holds the plan's JSON form (``Plan.to_dict``) and what binds it: the
API it was made for, when, the keyed fingerprint of the key, the policy's and
the manifests' digests, the options it was made with. ``Shown`` carries these
and the plan rebuilt from its JSON form, for the renderers (``render.saved``).
Nothing here is secret: the file holds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from reconciler.plan import Action, ActionKind, FieldChange, Identity, Plan
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
    document: dict[str, Any]
    """The plan's JSON form as saved (what ``--format json`` prints, with ``saved``)."""

    def to_dict(self) -> dict[str, Any]:
        """The ``saved`` object of ``show --format json``."""
        return {
            "file": self.file,
            "version": self.version,
            "api_url": self.api_url,
            "created_at": _timestamp(self.created_at),
            "age_seconds": self.age_seconds,
            "api_key_fingerprint": self.api_key_fingerprint,
            "policy": {"name": self.policy_name, "sha256": self.policy_sha256},
            "manifest": {"files": list(self.manifest_files), "sha256": self.manifest_sha256},
            "options": list(self.options),
        }


def show(saved: SavedPlan, file: str, *, now: datetime | None = None) -> Shown:
    """What ``reconciler show`` presents of ``saved`` (read from ``file``) at ``now``."""
    data = saved.data
    created = _parse_time(data.get("created_at"))
    moment = now or datetime.now(UTC)
    age = None if created is None else int((moment - created).total_seconds())
    options = []
    if data.get("rotate_secrets") is True:
        options.append("--rotate-secrets")
    if data.get("no_secrets") is True:
        options.append("--no-secrets")
    options += [f"--target {pattern}" for pattern in saved.targets]
    document = dict(data["plan"])
    return Shown(
        file=file,
        version=int(data["version"]),
        api_url=str(data["api_url"]),
        created_at=created,
        age_seconds=age,
        api_key_fingerprint=str(data["api_key_fingerprint"]),
        policy_name=str(data["policy"]["name"]),
        policy_sha256=str(data["policy"]["sha256"]),
        manifest_files=tuple(saved.names),
        manifest_sha256=str(data["manifest"]["sha256"]),
        options=tuple(options),
        plan=plan_from_dict(document),
        document=document,
    )


def plan_from_dict(document: dict[str, Any]) -> RecordedPlan:
    """The plan of a JSON form (``Plan.to_dict``), its recorded counts kept."""
    summary = document.get("summary")
    counts = summary if isinstance(summary, dict) else {}
    return RecordedPlan(
        actions=tuple(_action(change) for change in document.get("changes", ())),
        unmanaged=_identities(document.get("unmanaged")),
        adopted=_identities(document.get("adopted")),
        warnings=tuple(str(w) for w in document.get("warnings", ()) if isinstance(w, str)),
        recorded_summary=tuple(
            (str(key), value) for key, value in sorted(counts.items()) if isinstance(value, int)
        ),
    )


def _action(change: dict[str, Any]) -> Action:
    return Action(
        kind=ActionKind(change["action"]),
        slug=str(change["slug"]),
        ownership=change["ownership"],
        fields=tuple(_field(item) for item in change.get("fields", ())),
        reason=change.get("reason"),
    )


def _field(item: dict[str, Any]) -> FieldChange:
    added, removed = item.get("added"), item.get("removed")
    return FieldChange(
        path=str(item["path"]),
        before=item.get("before"),
        after=item.get("after"),
        sensitive=item.get("sensitive") is True,
        forces_replacement=item.get("forces_replacement") is True,
        added=None if added is None else tuple(added),
        removed=None if removed is None else tuple(removed),
        carried_over=item.get("carried_over") is True,
    )


def _identities(items: Any) -> tuple[Identity, ...]:
    if not isinstance(items, list):
        return ()
    return tuple(
        Identity(str(item["slug"]), item["ownership"])
        for item in items
        if isinstance(item, dict) and item.get("ownership") in ("user", "organization")
    )


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
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
