"""Saved plans: ``plan --out FILE`` writes one, ``apply --plan FILE`` checks and applies it.

A saved plan holds no secret and no API key. It records the manifest's digest,
the API URL, a keyed fingerprint of the API key and the fingerprint of the
policy in force, and for each change a keyed digest of exactly what it will
do (and of the client secret it will send), with the id and ``updated_at`` of
every remote object it touches. Before any change, ``verify`` checks all of
them against the world as it is now; any difference is a ``StalePlanError``.

Every digest is keyed with material the file does not hold (an HMAC key
derived from the API key and the plan's salt), so the file alone cannot be
used to test guesses of a secret; and digests are computed from structured
values, never from the file's (redacted) text, so redaction never makes a
fresh plan look stale.

The file format is version 3 (``planformat``). Manifest paths are recorded
relative to the directory ``plan`` ran in; ``apply --plan`` reads them from
its own working directory, confined there like any relative ``-f``, and only
after ``check_binding`` has checked the file's format, key and policy: a plan
file (which may live anywhere) cannot make the tool read a file elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from reconciler.errors import PlanFileError, Problem, RefusedError, StalePlanError
from reconciler.manifest.files import Unreadable, read_bounded
from reconciler.models import Desired, RemoteIntegration
from reconciler.plan import Action, Identity, Plan
from reconciler.plandocument import ChangeDoc, RemoteDoc, plan_document
from reconciler.planformat import FILE_KIND as FILE_KIND
from reconciler.planformat import FILE_VERSION as FILE_VERSION
from reconciler.planformat import SavedPlanFile
from reconciler.policy import Policy
from reconciler.secrets import Secret
from reconciler.wire import request_body, sends_secret

MAX_PLAN_FILE_BYTES = 256 * 2**20
"""A saved plan of 10,000 integrations takes some 10 MB; anything far larger is not one."""


def manifest_digest(files: Sequence[str], names: Sequence[str]) -> str:
    """SHA-256 over the names and contents of the manifest files, in order; ``names``
    are the files' names as the saved plan records them."""
    digest = hashlib.sha256()
    for path, name in zip(files, names, strict=True):
        data = Path(path).read_bytes()
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def stored_name(path: str, base: str | os.PathLike[str] = os.curdir) -> str:
    """A manifest's path as a saved plan records it: relative to ``base`` (the directory
    ``plan`` ran in), with ``/``; ``apply --plan`` resolves it against its own working
    directory and reads it only if it stays inside (a path that leaves ``base`` does not)."""
    absolute = os.path.abspath(path)
    try:
        relative = os.path.relpath(absolute, os.path.abspath(base))
    except ValueError:  # another drive (Windows): never inside the working directory
        return Path(absolute).as_posix()
    return Path(relative).as_posix()


@dataclass(frozen=True)
class _Keys:
    """The HMAC keys of one saved plan: derived from the API key and the plan's salt."""

    fingerprint: bytes
    digests: bytes

    @classmethod
    def derive(cls, api_key: str, salt: bytes) -> _Keys:
        def key(purpose: bytes) -> bytes:
            return hmac.new(api_key.encode(), purpose + b"\0" + salt, hashlib.sha256).digest()

        return cls(key(b"reconciler saved-plan api key"), key(b"reconciler saved-plan digests"))

    @property
    def key_fingerprint(self) -> str:
        return self.fingerprint.hex()

    def change(self, action: Action) -> str:
        """What the action does (its JSON form and the values it sends), as a keyed digest."""
        data = {"change": ChangeDoc.of(action).data(), "body": request_body(action)}
        text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hmac.new(self.digests, b"change\0" + text.encode(), hashlib.sha256).hexdigest()

    def secret(self, action: Action | None, secrets: Mapping[Identity, Secret]) -> str | None:
        """The client secret the action sends, as a keyed digest (None if it sends none)."""
        secret = secrets.get(action.identity) if action is not None else None
        if action is None or secret is None or not sends_secret(action):
            return None
        value = secret.reveal().encode()
        return hmac.new(self.digests, b"secret\0" + value, hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class SavedPlan:
    """A saved plan as read back: ``file``, the checked content (everything reads it);
    ``data``, the same JSON as read, untyped."""

    file: SavedPlanFile
    data: dict[str, Any]

    @property
    def names(self) -> list[str]:
        """The manifest paths as recorded (relative to the directory ``plan`` ran in)."""
        return list(self.file.manifest.files)

    @property
    def files(self) -> list[str]:
        """The manifest paths to read, from the current directory (the loader confines
        them to it)."""
        return [os.path.normpath(name) for name in self.names]

    @property
    def changes(self) -> list[dict[str, Any]]:
        """The recorded changes, as JSON data."""
        return [change.data() for change in self.file.plan.changes]

    @property
    def rotate_secrets(self) -> bool:
        """Whether the plan was made with ``--rotate-secrets`` (its fresh check must be too)."""
        return self.file.rotate_secrets

    @property
    def no_secrets(self) -> bool:
        """Whether the plan was made with ``--no-secrets`` (it cannot be applied)."""
        return self.file.no_secrets

    @property
    def targets(self) -> tuple[str, ...]:
        """The ``--target`` patterns the plan was made with (none: the whole manifest)."""
        return self.file.targets


def dump(
    plan: Plan,
    desired: Desired,
    *,
    api_url: str,
    api_key: str,
    policy: Policy,
    rotate_secrets: bool = False,
    no_secrets: bool = False,
    targets: Sequence[str] = (),
) -> str:
    """The saved-plan file's text (JSON); the manifest paths are recorded relative to the
    current directory, where ``apply --plan`` will look for them (the plan file itself
    may be written anywhere)."""
    names = [stored_name(path) for path in desired.files]
    salt = secrets.token_bytes(16)
    keys = _Keys.derive(api_key, salt)
    data = {
        "kind": FILE_KIND,
        "version": FILE_VERSION,
        "api_url": api_url,
        "created_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "api_key_fingerprint": keys.key_fingerprint,
        "policy": {"name": policy.name, "sha256": policy.fingerprint},
        "manifest": {"files": names, "sha256": manifest_digest(desired.files, names)},
        "salt": salt.hex(),
        "rotate_secrets": rotate_secrets,
        "no_secrets": no_secrets,
        "targets": list(targets),
        "digests": [
            {"change": keys.change(action), "secret": keys.secret(action, desired.secrets())}
            for action in plan.actions
        ],
        "plan": plan_document(plan).data(),
    }
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def read(path: str) -> SavedPlan:
    """Read a saved plan, refusing anything that is not one (``PlanFileError``, exit 1)."""
    try:
        text = read_bounded(path, MAX_PLAN_FILE_BYTES, what="saved plans").decode("utf-8")
        data = json.loads(text)
    except Unreadable as error:
        if str(error) == "no such file":
            raise _refused(path, "no such plan file") from None
        raise _refused(path, f"not a saved plan ({error})") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as error:
        raise _refused(path, f"not a saved plan ({type(error).__name__})") from None
    if not isinstance(data, dict) or data.get("kind") != FILE_KIND:
        raise _refused(path, "not a saved plan made by `reconciler plan --out`")
    if data.get("version") != FILE_VERSION:
        raise _refused(
            path,
            f"unsupported saved-plan version {data.get('version')!r}; "
            "make the plan again with this version of reconciler",
        )
    try:
        content = SavedPlanFile.model_validate_json(text)
    except ValidationError:
        raise _refused(path, "not a saved plan: its content is incomplete or altered") from None
    return SavedPlan(content, data)


def _refused(path: str, message: str) -> PlanFileError:
    return PlanFileError([Problem(path, 0, 0, message)])


def check_binding(saved: SavedPlan, *, api_url: str, api_key: str, policy: Policy) -> None:
    """What a saved plan is bound to, checked before any file it names is read: made
    with secrets, for this API, with this key, under this policy (else exit 3)."""
    if saved.no_secrets:
        raise RefusedError(
            "this plan was made without secrets (plan --no-secrets); "
            "make it again without --no-secrets to apply it"
        )
    file = saved.file
    if file.api_url != api_url:
        raise StalePlanError(f"stale plan: it was made for {file.api_url}, not {api_url}")
    keys = _Keys.derive(api_key, bytes.fromhex(file.salt))
    if not hmac.compare_digest(keys.key_fingerprint, file.api_key_fingerprint):
        raise StalePlanError(
            "stale plan: it was made with another API key (another WorkOS environment?); "
            "make the plan again with this key"
        )
    if file.policy.sha256 != policy.fingerprint:
        was = file.policy.name
        detail = f"{was} has changed" if was == policy.name else f"{was}, not {policy.name}"
        raise StalePlanError(f"stale plan: it was made under {detail}")


def verify(
    saved: SavedPlan,
    desired: Desired,
    remote: Sequence[RemoteIntegration],
    fresh: Plan,
    *,
    api_url: str,
    api_key: str,
    policy: Policy,
) -> Plan:
    """Check the saved plan still holds; return the plan to execute (exactly its actions)."""
    check_binding(saved, api_url=api_url, api_key=api_key, policy=policy)
    file = saved.file
    keys = _Keys.derive(api_key, bytes.fromhex(file.salt))
    if [os.path.abspath(p) for p in desired.files] != [os.path.abspath(p) for p in saved.files]:
        raise StalePlanError(
            f"stale plan: it was made from {', '.join(saved.files)}, not {', '.join(desired.files)}"
        )
    if manifest_digest(desired.files, saved.names) != file.manifest.sha256:
        raise StalePlanError("stale plan: the manifest changed since the plan was made")
    existing = {r.identity: r for r in remote}
    planned = {a.identity: a for a in fresh.actions}
    by_digest = {keys.change(a): a for a in fresh.actions}
    resolved = desired.secrets()
    actions: list[Action] = []
    stale: list[str] = []
    for change, recorded in zip(file.plan.changes, file.digests, strict=True):
        action = by_digest.get(recorded.change)
        identity = action.identity if action else Identity(change.slug, change.ownership)
        name = str(identity)
        remote_changed = _remote_change(name, change.remote, existing.get(identity))
        if remote_changed is not None:
            stale.append(remote_changed)
        elif keys.secret(action or planned.get(identity), resolved) != recorded.secret:
            stale.append(f"the client secret of {name} changed since the plan")
        elif action is None:
            stale.append(f"{name} would now be planned differently")
        else:
            actions.append(action)
    if stale:
        raise StalePlanError(f"stale plan: {'; '.join(stale)}")
    return Plan(
        actions=tuple(actions),
        unchanged=fresh.unchanged,
        unmanaged=fresh.unmanaged,
        warnings=fresh.warnings,
        managed_remote_count=fresh.managed_remote_count,
        targeting=fresh.targeting,
        custom_slugs=fresh.custom_slugs,
    )


def _remote_change(
    name: str, recorded: RemoteDoc | None, current: RemoteIntegration | None
) -> str | None:
    """How the remote object changed since the plan, if it did."""
    if recorded is None:
        return None if current is None else f"{name} was created since the plan (id {current.id})"
    if current is None:
        return f"{name} was deleted since the plan"
    if current.id != recorded.id:
        return f"{name} was recreated since the plan (id {recorded.id} → {current.id})"
    if current.updated_at != recorded.updated_at:
        return (
            f"{name} changed since the plan "
            f"(updated_at {recorded.updated_at} → {current.updated_at})"
        )
    return None
