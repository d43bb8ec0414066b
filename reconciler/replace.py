"""Each kind of action as requests that never lose an integration silently.

**Know before you guess.** A write whose answer was lost (retries exhausted
on a 5xx, a timeout, a connection lost after sending: ``ApiError.ambiguous``)
is followed by a GET of the identity (``reconciler.settle``): a DELETE that
took effect lets a replace go on to its re-create; a POST or PUT that took
effect counts as done. Only then is anything restored or reported.

**A replace** deletes, then creates. If the create fails, the integration is
gone: ``replace`` then restores the previous object from the plan's snapshot
(``action.remote``) where it can do so faithfully, and says which state it
left (``LeftState``): restored as a new integration, or DELETED. Custom
credentials are restored only under the manifest's ``client_id`` when it is
the old one (with the manifest's secret): never an old client id with a new
secret; when they cannot be, nothing is restored. Between its delete and its
re-create (or restore) a replace runs to its end whatever cancels it
(``Shield``): a signal stops the apply after that.

**A custom slug's definition** is handled by its ``Lane``
(``reconciler.lanes``): a create beside an existing sibling sends no
``custom_provider`` (a PUT follows when the definition must change), and a
restore sends back only what the failed action itself changed.

A create answered 409 although the plan saw nothing there is followed by a
GET of the identity: it either exists now (someone else created it since the
plan) or is invisible to this API (credentials the API does not list).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

from reconciler.api import IntegrationsApi
from reconciler.errors import (
    ActionError,
    ApiError,
    ApiUnreachableError,
    ConflictError,
    ReconcilerError,
    UnrestorableError,
)
from reconciler.lanes import Lane
from reconciler.plan import Action, ActionKind
from reconciler.results import DELETED, FIX_AND_RERUN, RESTORED, SUMMARIES, LeftState
from reconciler.secrets import Secret
from reconciler.settle import Unknown, took_effect
from reconciler.wire import created_as_asked, request_body, restore_body

T = TypeVar("T")

CREATED_BY_SOMEONE_ELSE = "created by someone else since the plan; run plan again"
HIDDEN = (
    "exists with credentials this API does not list (e.g. created in the dashboard); "
    "it can't be managed here: remove it in the dashboard or leave it out of the manifest"
)


class Shield:
    """Runs a critical section to its end even if the task is cancelled meanwhile;
    ``cancelled`` then says so (the caller reports, then lets the cancellation go on)."""

    def __init__(self) -> None:
        self.cancelled = False

    async def run(self, work: Awaitable[T]) -> T:
        task = asyncio.ensure_future(work)
        while True:
            try:
                return await asyncio.shield(task)
            except asyncio.CancelledError:
                if task.done():
                    raise
                self.cancelled = True


def deleted(reason: str) -> ActionError:
    """The DELETED report: ``DELETED and not recreated: <reason>; fix and re-run``."""
    return ActionError(f"{DELETED}: {reason}; {FIX_AND_RERUN}", LeftState.DELETED)


async def run_action(
    client: IntegrationsApi,
    action: Action,
    secret: Secret | None,
    lane: Lane | None,
    shield: Shield,
) -> None:
    """Make ``action``'s requests; raise ``ActionError`` (or an ``ApiError``) if it failed."""
    if action.kind is ActionKind.CREATE:
        await create(client, action, secret, lane)
    elif action.kind is ActionKind.UPDATE:
        await update(client, action, secret, lane)
    elif action.kind is ActionKind.REPLACE:
        await replace(client, action, secret, lane, shield)
    else:
        await delete(client, action, lane)


async def delete(client: IntegrationsApi, action: Action, lane: Lane | None) -> None:
    try:
        await client.delete(action.slug, action.ownership)
    except ApiError as error:
        if not error.ambiguous or not await _settled(client, action, "DELETE", {}, error):
            raise
    if lane is not None:
        lane.deleted(action.ownership)


async def update(
    client: IntegrationsApi, action: Action, secret: Secret | None, lane: Lane | None
) -> None:
    body = request_body(action, secret)
    if lane is not None:
        body.pop("custom_provider", None)
        if lane.pending:
            body["custom_provider"] = dict(lane.pending)
    if not body:
        return  # its only change, the shared definition, was made by an action before it
    await _put(client, action, body)
    if lane is not None and "custom_provider" in body:
        lane.carried(body["custom_provider"])


async def create(
    client: IntegrationsApi, action: Action, secret: Secret | None, lane: Lane | None
) -> None:
    """POST (see ``_post``); then, beside an existing sibling, the definition's change (PUT)."""
    body = request_body(action, secret)
    beside = _shape_for_lane(body, action, lane)
    await _post(client, action, body)
    await _after_create(client, action, body, lane, beside)


async def replace(
    client: IntegrationsApi,
    action: Action,
    secret: Secret | None,
    lane: Lane | None,
    shield: Shield,
) -> None:
    """Delete, then create; if the create fails, restore or report (``ActionError``).

    It runs to its end whatever cancels the task (its delete included: cancelled
    while the DELETE is in flight, it could not know whether to re-create).
    """

    async def whole() -> None:
        await delete(client, action, lane)
        await _recreate(client, action, secret, lane)

    await shield.run(whole())


def _shape_for_lane(body: dict[str, Any], action: Action, lane: Lane | None) -> bool:
    """Fit a create's ``custom_provider`` to the lane: none beside an existing sibling
    (returns True), else the whole definition (as last known, with pending changes)."""
    if lane is None:
        return False
    body.pop("custom_provider", None)
    if lane.sibling(action.ownership) is not None:
        return True
    whole = lane.whole_definition()
    if whole:
        body["custom_provider"] = whole
    return False


async def _after_create(
    client: IntegrationsApi,
    action: Action,
    body: dict[str, Any],
    lane: Lane | None,
    beside: bool,
) -> None:
    if lane is None:
        return
    lane.created(action.ownership)
    if not beside:
        lane.carried(body.get("custom_provider", {}))
    elif lane.pending:
        change = {"custom_provider": dict(lane.pending)}
        try:
            await _put(client, action, change)
        except ReconcilerError as error:
            raise ActionError(
                f"created, but changing the shared custom_provider definition failed: {error}"
            ) from None
        lane.carried(change["custom_provider"])


async def _post(client: IntegrationsApi, action: Action, body: dict[str, Any]) -> None:
    """POST ``body``; a lost answer is settled by a GET, a 409 explained by one."""
    try:
        await client.create(body)
    except ConflictError as conflict:
        if conflict.code == "idempotency_key_reused":
            raise
        raise await _explain_conflict(client, action, conflict) from None
    except ApiError as error:
        if not error.ambiguous or not await _settled(client, action, "POST", body, error):
            raise


async def _put(client: IntegrationsApi, action: Action, body: dict[str, Any]) -> None:
    try:
        await client.update(action.slug, action.ownership, body)
    except ApiError as error:
        if not error.ambiguous or not await _settled(client, action, "PUT", body, error):
            raise


async def _settled(
    client: IntegrationsApi, action: Action, method: str, body: dict[str, Any], error: ApiError
) -> bool:
    """Whether the write whose answer was lost took effect (a GET says); unknown: raise."""
    try:
        return await took_effect(client, action, method, body)
    except Unknown as unknown:
        raise ActionError(
            f"{error}; whether it took effect is unknown (checking failed too: {unknown}): "
            "run plan to see"
        ) from None


async def _explain_conflict(
    client: IntegrationsApi, action: Action, conflict: ConflictError
) -> ReconcilerError:
    try:
        found = await client.get(action.slug, action.ownership)
    except ApiError:
        return conflict
    hint = CREATED_BY_SOMEONE_ELSE if found is not None else HIDDEN
    return ActionError(f"{hint} ({conflict})")


async def _recreate(
    client: IntegrationsApi, action: Action, secret: Secret | None, lane: Lane | None
) -> None:
    body = request_body(action, secret)
    beside = _shape_for_lane(body, action, lane)
    try:
        await _post_recreate(client, action, body)
    except ActionError:
        raise
    except ReconcilerError as error:
        await _restore(client, action, secret, lane, f"the re-create failed: {error}")
    await _after_create(client, action, body, lane, beside)


async def _post_recreate(client: IntegrationsApi, action: Action, body: dict[str, Any]) -> None:
    try:
        await client.create(body)
    except ReconcilerError as error:
        if not isinstance(error, ConflictError | ApiUnreachableError) and not (
            isinstance(error, ApiError) and error.ambiguous
        ):
            raise
        failure = f"the re-create failed: {error}"
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
        raise


async def _restore(
    client: IntegrationsApi, action: Action, secret: Secret | None, lane: Lane | None, failure: str
) -> None:
    """Create the previous object again, sending back only what this action changed."""
    try:
        if lane is None:
            restore = restore_body(action, secret)
        elif lane.sibling(action.ownership) is not None:
            restore = restore_body(action, secret, definition=None)
        else:
            restore = restore_body(action, secret, definition=lane.definition)
    except UnrestorableError as why:
        raise deleted(f"{failure}; not restored: {why}") from None
    try:
        await _post(client, action, restore)
    except ReconcilerError as again:
        raise deleted(f"{failure}; restoring the previous one failed too: {again}") from None
    if lane is not None:
        lane.created(action.ownership)
        if "custom_provider" in restore:
            lane.definition = dict(restore["custom_provider"])
    raise ActionError(f"{failure}; {RESTORED}", LeftState.RESTORED) from None
