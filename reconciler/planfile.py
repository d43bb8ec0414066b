"""Saved plans: ``plan --out FILE`` writes one, ``apply --plan FILE`` checks and applies it.

A saved plan holds no secret and no API key. It records the manifest's digest,
a salted digest of each secret it will send, and the id and ``updated_at`` of
every remote object it touches. Before any change, ``verify`` checks all of
them against the world as it is now; any difference is a ``StalePlanError``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from reconciler.errors import ConfigError, StalePlanError
from reconciler.models import Desired, RemoteIntegration
from reconciler.plan import Action, Identity, Plan

FILE_KIND = "reconciler-saved-plan"
FILE_VERSION = 1


def manifest_digest(files: Sequence[str]) -> str:
    """SHA-256 over the names and contents of the manifest files, in order."""
    digest = hashlib.sha256()
    for name in files:
        data = Path(name).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _key(identity: Identity) -> str:
    return f"{identity[0]}/{identity[1]}"


def _secret_digests(actions: Sequence[Action], salt: bytes) -> dict[str, str]:
    return {
        _key(action.identity): action.desired.client_secret.digest(salt)
        for action in actions
        if action.desired is not None
        and action.desired.client_secret is not None
        and "credentials" in action.body
    }


@dataclass(frozen=True)
class SavedPlan:
    """A plan as read back from its file."""

    data: dict[str, Any]

    @property
    def files(self) -> list[str]:
        return list(self.data["manifest"]["files"])

    @property
    def changes(self) -> list[dict[str, Any]]:
        return list(self.data["plan"]["changes"])


def dump(plan: Plan, desired: Desired, *, api_url: str) -> str:
    """The saved-plan file's text (JSON)."""
    salt = secrets.token_bytes(16)
    data = {
        "kind": FILE_KIND,
        "version": FILE_VERSION,
        "api_url": api_url,
        "manifest": {"files": list(desired.files), "sha256": manifest_digest(desired.files)},
        "salt": salt.hex(),
        "secret_digests": _secret_digests(plan.actions, salt),
        "plan": plan.to_dict(),
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read(path: str) -> SavedPlan:
    """Read a saved plan, refusing anything that is not one."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such plan file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: not a saved plan ({type(error).__name__})") from None
    if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
        raise ConfigError(f"{path}: not a saved plan made by `reconciler plan --out`")
    if data.get("version") != FILE_VERSION:
        raise ConfigError(f"{path}: unsupported saved-plan version {data.get('version')!r}")
    if not _well_formed(data):
        raise ConfigError(f"{path}: not a saved plan: its content is incomplete or altered")
    return SavedPlan(data)


def _well_formed(data: dict[str, Any]) -> bool:
    """Every key ``verify`` reads is there, with the type it expects."""
    manifest, plan = data.get("manifest"), data.get("plan")
    checks = [
        isinstance(data.get("api_url"), str),
        isinstance(data.get("salt"), str),
        isinstance(data.get("secret_digests"), dict),
        isinstance(manifest, dict),
        isinstance(plan, dict),
    ]
    if not all(checks):
        return False
    assert isinstance(manifest, dict) and isinstance(plan, dict)
    try:
        bytes.fromhex(data["salt"])
    except ValueError:
        return False
    changes = plan.get("changes")
    return (
        isinstance(manifest.get("files"), list)
        and all(isinstance(name, str) for name in manifest["files"])
        and isinstance(manifest.get("sha256"), str)
        and isinstance(changes, list)
        and all(
            isinstance(c, dict)
            and isinstance(c.get("slug"), str)
            and c.get("ownership") in ("user", "organization")
            and (c.get("remote") is None or isinstance(c.get("remote"), dict))
            for c in changes
        )
    )


def verify(
    saved: SavedPlan,
    desired: Desired,
    remote: Sequence[RemoteIntegration],
    fresh: Plan,
    *,
    api_url: str,
) -> Plan:
    """Check the saved plan still holds; return the plan to execute (exactly its actions)."""
    if saved.data.get("api_url") != api_url:
        raise StalePlanError(
            f"stale plan: it was made for {saved.data.get('api_url')}, not {api_url}"
        )
    if list(desired.files) != saved.files:
        raise StalePlanError(
            f"stale plan: it was made from {', '.join(saved.files)}, not {', '.join(desired.files)}"
        )
    if manifest_digest(desired.files) != saved.data["manifest"]["sha256"]:
        raise StalePlanError("stale plan: the manifest changed since the plan was made")
    existing = {r.identity: r for r in remote}
    planned = {a.identity: a for a in fresh.actions}
    salt = bytes.fromhex(saved.data["salt"])
    digests = _secret_digests(fresh.actions, salt)
    actions: list[Action] = []
    for change in saved.changes:
        identity: Identity = (change["slug"], change["ownership"])
        name = f"{identity[0]} ({identity[1]})"
        _check_remote(name, change.get("remote"), existing.get(identity))
        if digests.get(_key(identity)) != saved.data["secret_digests"].get(_key(identity)):
            raise StalePlanError(f"stale plan: the client secret of {name} changed since the plan")
        action = planned.get(identity)
        if action is None or action.to_dict() != change:
            raise StalePlanError(f"stale plan: {name} would now be planned differently")
        actions.append(action)
    return Plan(
        actions=tuple(actions),
        unchanged=fresh.unchanged,
        unmanaged=fresh.unmanaged,
        warnings=fresh.warnings,
        managed_remote_count=fresh.managed_remote_count,
    )


def _check_remote(
    name: str, recorded: dict[str, Any] | None, current: RemoteIntegration | None
) -> None:
    if recorded is None:
        if current is not None:
            raise StalePlanError(f"stale plan: {name} was created since the plan (id {current.id})")
        return
    if current is None:
        raise StalePlanError(f"stale plan: {name} was deleted since the plan")
    if current.id != recorded["id"]:
        raise StalePlanError(
            f"stale plan: {name} was recreated since the plan (id {recorded['id']} → {current.id})"
        )
    if current.updated_at != recorded["updated_at"]:
        raise StalePlanError(
            f"stale plan: {name} changed since the plan "
            f"(updated_at {recorded['updated_at']} → {current.updated_at})"
        )
