"""Request bodies: where a planned action becomes what the API is sent.

The planner says what to set (``Action.values``, in the API's field names,
with no secret and no identity); this module adds the identity a create
needs and the client secret, revealed here and only here, at send time.
It also builds the body that restores a replaced integration from the
plan's snapshot, and checks whether an object found after an ambiguous
create is the one a body asked for.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from reconciler.errors import UnrestorableError
from reconciler.fields import INTEGRATION_FIELDS, MISSING
from reconciler.models import RemoteIntegration
from reconciler.plan import Action, ActionKind
from reconciler.secrets import Secret

CREATES = (ActionKind.CREATE, ActionKind.REPLACE)


def request_body(action: Action, secret: Secret | None = None) -> dict[str, Any]:
    """The body of the action's create (POST) or update (PUT).

    A create names its integration (``provider``, ``ownership``); credentials,
    when the action sends them, carry ``secret`` revealed.
    """
    body: dict[str, Any] = {}
    if action.kind in CREATES:
        body = {"provider": action.slug, "ownership": action.ownership}
    body.update(copy.deepcopy(action.values))
    credentials = body.get("credentials")
    if credentials is not None and secret is not None:
        body["credentials"] = {**credentials, "client_secret": secret.reveal()}
    return body


def sends_secret(action: Action) -> bool:
    """Whether the action's request carries credentials, and so the client secret if any."""
    return "credentials" in action.values


def restore_body(
    action: Action, secret: Secret | None = None, *, definition: Any = MISSING
) -> dict[str, Any]:
    """The create body that restores ``action.remote``: every integration field of the
    field table as the snapshot holds it; ``UnrestorableError`` when that can't be done
    faithfully.

    Custom credentials are restored only with the manifest's ``secret`` and
    only when the manifest names the same OAuth app (client id): never an
    old client id with a new secret. ``definition``: the ``custom_provider``
    to send (None: none, beside an existing sibling that holds it; by default
    the snapshot's), so that a restore never undoes a sibling's change.
    """
    old = action.remote
    if old is None:
        raise UnrestorableError("the plan holds no snapshot of the previous one")
    body: dict[str, Any] = {"provider": old.slug, "ownership": old.ownership}
    for f in INTEGRATION_FIELDS:
        body[f.key] = f.sendable(getattr(old, f.key))
    if definition is MISSING:
        definition = old.custom_provider
    if definition is not None and old.custom_provider is not None:
        body["custom_provider"] = dict(definition)
    credentials = old.credentials
    if credentials is None or "oauth" not in old.auth_methods:
        return body
    if credentials.type == "organization":
        body["credentials"] = {"type": "organization"}
        return body
    if secret is None or not _same_app(action, credentials.client_id):
        raise UnrestorableError(
            "its custom credentials can't be restored faithfully (the API never returns a "
            "client secret, and the manifest's client_id is not the old one)"
        )
    body["credentials"] = {
        "type": "custom",
        "client_id": credentials.client_id,
        "client_secret": secret.reveal(),
    }
    return body


def _same_app(action: Action, client_id: str | None) -> bool:
    """Whether the manifest's credentials are custom ones for the OAuth app ``client_id``."""
    wanted = action.spec.credentials if action.spec is not None else None
    return (
        client_id is not None
        and wanted is not None
        and wanted.type == "custom"
        and wanted.client_id == client_id
    )


def created_as_asked(found: RemoteIntegration, body: Mapping[str, Any]) -> bool:
    """Whether ``found`` has every field a create ``body`` sets (the secret by its last 4).

    Fields compare as the field table says (a set in another order is the same set).
    """
    for f in INTEGRATION_FIELDS:
        if f.key in body and not f.equal(body[f.key], getattr(found, f.key)):
            return False
    credentials = body.get("credentials")
    if credentials is not None:
        remote = found.credentials
        if remote is None or remote.type != credentials.get("type"):
            return False
        if remote.client_id != credentials.get("client_id"):
            return False
        secret = credentials.get("client_secret")
        if secret is not None and remote.redacted_client_secret != str(secret)[-4:]:
            return False
    definition = body.get("custom_provider")
    if definition is not None:
        remote_definition = found.custom_provider or {}
        if any(remote_definition.get(key) != value for key, value in definition.items()):
            return False
    return True
