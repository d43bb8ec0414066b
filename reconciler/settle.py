"""After a write whose answer was lost: did it take effect? A GET of the identity says.

A 5xx after retries, a timeout or a connection lost after sending leaves a
write ambiguous (``ApiError.ambiguous``): the API may have committed it. The
applier does not guess: it reads the integration back and compares it with
what the write asked for (``reconciler.wire.created_as_asked``: every field
the body sets, a secret by its last 4, the definition's fields).
"""

from __future__ import annotations

from typing import Any

from reconciler.api import IntegrationsApi
from reconciler.errors import ApiError, ReconcilerError
from reconciler.plan import Action
from reconciler.wire import created_as_asked


class Unknown(ReconcilerError):
    """The GET that should settle an ambiguous write failed too."""


async def took_effect(
    client: IntegrationsApi, action: Action, method: str, body: dict[str, Any]
) -> bool:
    """Whether ``method`` (DELETE, POST or PUT with ``body``) on ``action``'s identity took
    effect, as a GET shows it now; ``Unknown`` when the GET fails as well."""
    try:
        found = await client.get(action.slug, action.ownership)
    except ApiError as error:
        raise Unknown(str(error)) from None
    if method == "DELETE":
        return found is None
    return found is not None and created_as_asked(found, body)
