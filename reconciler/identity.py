"""An integration's identity: its slug and its ownership, the pair the API keys it by.

The bottom of the layer order: it imports nothing of the tool, so the models, the
plan and every renderer can use it. A ``NamedTuple`` equals the plain tuple
``(slug, ownership)``, so mappings keyed by either find each other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, NamedTuple

Ownership = Literal["user", "organization"]

OWNERSHIPS: Final[tuple[Ownership, ...]] = ("user", "organization")
"""Every ownership, in display order: user before organization."""


class Identity(NamedTuple):
    """``slug (ownership)``: one integration, as every message names it."""

    slug: str
    ownership: Ownership

    def __str__(self) -> str:
        return f"{self.slug} ({self.ownership})"

    def other(self) -> Identity:
        """The same slug under the other ownership."""
        return Identity(self.slug, "organization" if self.ownership == "user" else "user")

    def sort_key(self) -> tuple[str, int]:
        """Display order: slug, then user before organization."""
        return (self.slug, OWNERSHIPS.index(self.ownership))

    @classmethod
    def from_body(cls, body: Mapping[str, object]) -> Identity:
        """The identity a request body names: its ``provider``, and ``user`` unless its
        ``ownership`` is ``organization`` (the API's default when the key is absent)."""
        ownership: Ownership = "organization" if body.get("ownership") == "organization" else "user"
        return cls(str(body.get("provider")), ownership)
