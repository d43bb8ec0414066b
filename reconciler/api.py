"""The API as the applier and the workflow see it: a small ``Protocol``.

``ApiClient`` is the real one (HTTP through httpx); a test or a caller may
pass anything with these members, e.g. an in-memory fake, with no HTTP at
all. ``base_url`` names the destination in a plan's header; ``api_key`` binds
a saved plan to its environment (it is never shown: only an HMAC of it is
stored, and the header shows ``redact_key``'s hint).
"""

from __future__ import annotations

from typing import Any, Protocol

from reconciler.identity import Ownership
from reconciler.models import RemoteIntegration


class IntegrationsApi(Protocol):
    """List, get, create, update and delete data integrations."""

    @property
    def base_url(self) -> str: ...

    @property
    def api_key(self) -> str: ...

    async def list_integrations(
        self, ownership: Ownership | None = None
    ) -> list[RemoteIntegration]: ...

    async def get(self, slug: str, ownership: Ownership) -> RemoteIntegration | None: ...

    async def create(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> RemoteIntegration: ...

    async def update(
        self, slug: str, ownership: Ownership, body: dict[str, Any]
    ) -> RemoteIntegration: ...

    async def delete(self, slug: str, ownership: Ownership) -> None: ...
