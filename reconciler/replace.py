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
from typing import Any

from reconciler.api import IntegrationsApi
from reconciler.errors import (
    ActionError,
    ApiError,
    ApiUnreachableError,
    ConflictError,
    ReconcilerError,
)
from reconciler.plan import Action
from reconciler.results import DELETED, FIX_AND_RERUN, RESTORED, SUMMARIES, LeftState
from reconciler.secrets import Secret
from reconciler.wire import created_as_asked, restore_body

CREATED_BY_SOMEONE_ELSE = "created by someone else since the plan; run plan again"
HIDDEN = (
    "exists with credentials this API does not list (e.g. created in the dashboard); "
    "it can't be managed here: remove it in the dashboard or leave it out of the manifest"
)
INTERRUPTED = (
    "the apply was interrupted before the re-create finished"
    " (if its request reached the API, plan shows the integration)"
)


def deleted(reason: str) -> ActionError:
    """The DELETED report: ``DELETED and not recreated: <reason>; fix and re-run``."""
    return ActionError(f"{DELETED}: {reason}; {FIX_AND_RERUN}", LeftState.DELETED)


async def create(client: IntegrationsApi, body: dict[str, Any]) -> None:
    """POST ``body``; a 409 is explained by a GET of the identity (see module doc)."""
    try:
        await client.create(body)
    except ConflictError as conflict:
        if conflict.code == "idempotency_key_reused":
            raise
        raise await _explain_conflict(client, body, conflict) from None


async def _explain_conflict(
    client: IntegrationsApi, body: dict[str, Any], conflict: ConflictError
) -> ReconcilerError:
    slug, ownership = str(body.get("provider")), body.get("ownership", "user")
    try:
        found = await client.get(slug, "organization" if ownership == "organization" else "user")
    except ApiError:
        return conflict
    hint = CREATED_BY_SOMEONE_ELSE if found is not None else HIDDEN
    return ActionError(f"{hint} ({conflict})")


async def replace(
    client: IntegrationsApi,
    action: Action,
    body: dict[str, Any],
    *,
    secret: Secret | None = None,
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
        await _recreate(client, action, body, secret)
    except asyncio.CancelledError:
        if on_interrupt is not None:
            on_interrupt(deleted(INTERRUPTED))
        raise


async def _recreate(
    client: IntegrationsApi, action: Action, body: dict[str, Any], secret: Secret | None
) -> None:
    try:
        await client.create(body)
    except ReconcilerError as error:
        failure = f"the re-create failed: {error}"
        if isinstance(error, ConflictError | ApiUnreachableError):
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
        restore = restore_body(action, secret)
        if isinstance(restore, str):
            raise deleted(f"{failure}; not restored: {restore}") from None
        try:
            await client.create(restore)
        except ReconcilerError as again:
            raise deleted(f"{failure}; restoring the previous one failed too: {again}") from None
        raise ActionError(f"{failure}; {RESTORED}", LeftState.RESTORED) from None
