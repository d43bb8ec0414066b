"""Creates and replaces that never lose an integration silently.

A replace deletes, then creates. If the create fails, the integration is gone:
``replace`` then restores the previous object from the plan's snapshot
(``action.remote``) where it can do so faithfully, and says which state it
left (``LeftState``): restored as a new integration, or DELETED. Custom
credentials are restored only under the manifest's ``client_id`` when it is
the old one (with the manifest's secret): never an old client id with a new
secret; when they cannot be, nothing is restored.

A create answered 409 although the plan saw nothing there is followed by a
GET of the identity: it either exists now (someone else created it since the
plan) or is invisible to this API (credentials the API does not list).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from enum import StrEnum
from typing import Any

from reconciler.client import ApiClient, created_as_asked
from reconciler.errors import ApiError, ConflictError, ReconcilerError, TransportError
from reconciler.plan import Action
from reconciler.secrets import Secret

CREATED_BY_SOMEONE_ELSE = "created by someone else since the plan; run plan again"
HIDDEN = (
    "exists with credentials this API does not list (e.g. created in the dashboard); "
    "it can't be managed here: remove it in the dashboard or leave it out of the manifest"
)
RESTORED = (
    "restored as a new integration (new id and redirect URI; its connected accounts are gone)"
)
DELETED = "DELETED and not recreated"
FIX_AND_RERUN = "fix and re-run"
INTERRUPTED = (
    "the apply was interrupted before the re-create finished"
    " (if its request reached the API, plan shows the integration)"
)


class LeftState(StrEnum):
    """What a failed replace left behind."""

    RESTORED = "restored"
    DELETED = "deleted"
    UNKNOWN = "unknown"

    @property
    def summary(self) -> str:
        """The state in one phrase, for summaries."""
        return SUMMARIES[self]


SUMMARIES = {
    LeftState.RESTORED: RESTORED,
    LeftState.DELETED: f"{DELETED}; {FIX_AND_RERUN}",
    LeftState.UNKNOWN: "deleted; whether the re-create took effect is unknown: run plan to see",
}
"""One phrase per state, for summaries."""


class ActionError(ReconcilerError):
    """An action failed, explained; ``state`` is what a failed replace left behind."""

    def __init__(self, message: str, state: LeftState | None = None) -> None:
        super().__init__(message)
        self.state = state


def deleted(reason: str) -> ActionError:
    """The DELETED report: ``DELETED and not recreated: <reason>; fix and re-run``."""
    return ActionError(f"{DELETED}: {reason}; {FIX_AND_RERUN}", LeftState.DELETED)


async def create(client: ApiClient, body: dict[str, Any]) -> None:
    """POST ``body``; a 409 is explained by a GET of the identity (see module doc)."""
    try:
        await client.create(body)
    except ConflictError as conflict:
        if conflict.code == "idempotency_key_reused":
            raise
        raise await _explain_conflict(client, body, conflict) from None


async def _explain_conflict(
    client: ApiClient, body: dict[str, Any], conflict: ConflictError
) -> ReconcilerError:
    slug, ownership = str(body.get("provider")), body.get("ownership", "user")
    try:
        found = await client.get(slug, "organization" if ownership == "organization" else "user")
    except ApiError:
        return conflict
    hint = CREATED_BY_SOMEONE_ELSE if found is not None else HIDDEN
    return ActionError(f"{hint} ({conflict})")


async def replace(
    client: ApiClient,
    action: Action,
    body: dict[str, Any],
    *,
    on_interrupt: Callable[[ActionError], None] | None = None,
) -> None:
    """Delete, then create ``body``; if the create fails, restore or report (``ActionError``).

    Once the delete is done, the create runs whatever a stop request says (it
    is one request). If the task is cancelled before the integration exists
    again, ``on_interrupt`` hears the DELETED report before the cancellation
    goes on.
    """
    await client.delete(action.slug, action.ownership)
    try:
        await _recreate(client, action, body)
    except asyncio.CancelledError:
        if on_interrupt is not None:
            on_interrupt(deleted(INTERRUPTED))
        raise


async def _recreate(client: ApiClient, action: Action, body: dict[str, Any]) -> None:
    try:
        await client.create(body)
    except ReconcilerError as error:
        failure = f"the re-create failed: {error}"
        if isinstance(error, ConflictError | TransportError):
            try:
                found = await client.get(action.slug, action.ownership)
            except ApiError as check:
                raise ActionError(
                    f"{failure}; checking whether it exists failed too: {check}; "
                    f"{SUMMARIES[LeftState.UNKNOWN]}",
                    LeftState.UNKNOWN,
                ) from None
            if found is not None and created_as_asked(found, body):
                return  # the create did take effect: the replace succeeded
            if found is not None:
                raise deleted(f"{failure}; another integration now holds this identity") from None
            if isinstance(error, ConflictError):
                raise deleted(f"{failure}; an integration that {HIDDEN}") from None
        restore = restore_body(action)
        if isinstance(restore, str):
            raise deleted(f"{failure}; not restored: {restore}") from None
        try:
            await client.create(restore)
        except ReconcilerError as again:
            raise deleted(f"{failure}; restoring the previous one failed too: {again}") from None
        raise ActionError(f"{failure}; {RESTORED}", LeftState.RESTORED) from None


def restore_body(action: Action) -> dict[str, Any] | str:
    """The create body that restores ``action.remote``, or why it can't be done faithfully."""
    old = action.remote
    if old is None:
        return "the plan holds no snapshot of the previous one"
    body: dict[str, Any] = {
        "provider": old.slug,
        "ownership": old.ownership,
        "description": old.description,
        "enabled": old.enabled,
        "scopes": None if old.scopes is None else list(old.scopes),
        "auth_methods": list(old.auth_methods),
        "config": dict(old.config),
    }
    if old.custom_provider is not None:
        body["custom_provider"] = dict(old.custom_provider)
    credentials = old.credentials
    if credentials is None or "oauth" not in old.auth_methods:
        return body
    if credentials.type == "organization":
        body["credentials"] = {"type": "organization"}
        return body
    secret = _same_app_secret(action, credentials.client_id)
    if secret is None:
        return (
            "its custom credentials can't be restored faithfully (the API never returns a "
            "client secret, and the manifest's client_id is not the old one)"
        )
    body["credentials"] = {
        "type": "custom",
        "client_id": credentials.client_id,
        "client_secret": secret.reveal(),
    }
    return body


def _same_app_secret(action: Action, client_id: str | None) -> Secret | None:
    """The manifest's client secret, if the manifest names the same OAuth app (client id)."""
    desired = action.desired
    if desired is None or client_id is None:
        return None
    wanted = desired.spec.credentials
    if wanted is None or wanted.type != "custom" or wanted.client_id != client_id:
        return None
    return desired.client_secret
