"""Every manifest/API field once: what it is, and so how it is compared, sent, shown
and exported.

The planner, the request bodies, the lost-create check, the renderers and the
exporter all read this table, so they cannot disagree about a field. Adding an
API field is one row here plus a model field.

- ``kind``: ``scalar`` (compared whole), ``set`` (order means nothing: OAuth
  scopes are a set, RFC 6749 §3.3; duplicates are a validation error; ``null``
  is not ``[]``), ``list`` (order matters) or ``map`` (diffed key by key).
- ``creation_only``: the API cannot change it in place; a change replaces the
  integration (delete + create, which destroys its connected accounts).
- ``sensitive``: never shown (a client secret: only its last 4).
- ``default``: what the API stores when a create leaves the field out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final


class Kind(StrEnum):
    SCALAR = "scalar"
    SET = "set"
    LIST = "list"
    MAP = "map"


MISSING: Final = object()
"""A value a mapping does not hold (unlike ``None``, which it may hold)."""


@dataclass(frozen=True)
class Field:
    """One field of an integration, by its path from the integration object."""

    path: tuple[str, ...]
    kind: Kind = Kind.SCALAR
    default: Any = None
    creation_only: bool = False
    sensitive: bool = False

    @property
    def name(self) -> str:
        """``scopes``, ``custom_provider.token_url``: how plans and messages name it."""
        return ".".join(self.path)

    @property
    def key(self) -> str:
        """The last part of the path: the key inside its parent object."""
        return self.path[-1]

    def get(self, data: Mapping[str, Any]) -> Any:
        """The field's value in ``data`` (an API object or a request body), or ``MISSING``."""
        value: Any = data
        for part in self.path:
            if not isinstance(value, Mapping) or part not in value:
                return MISSING
            value = value[part]
        return value

    def equal(self, first: Any, second: Any) -> bool:
        """Whether two values of this field mean the same (sets ignore order)."""
        if self.kind is Kind.SET and isinstance(first, list) and isinstance(second, list):
            return set(first) == set(second) and len(first) == len(second)
        return bool(first == second)

    def sendable(self, value: Any) -> Any:
        """``value`` as a request body holds it: a fresh list for a set or a list, a
        fresh dict for a map, a scalar as it is (``None`` stays ``None``)."""
        if value is None:
            return None
        if self.kind in (Kind.SET, Kind.LIST):
            return list(value)
        if self.kind is Kind.MAP:
            return dict(value)
        return value

    def elements(self, before: Any, after: Any) -> tuple[list[Any], list[Any]]:
        """For a set or list whose both sides are lists: (added, removed), in order."""
        if not (isinstance(before, list) and isinstance(after, list)):
            return [], []
        added = [item for item in after if item not in before]
        removed = [item for item in before if item not in after]
        return added, removed


def _provider(key: str, kind: Kind = Kind.SCALAR, default: Any = None) -> Field:
    return Field(("custom_provider", key), kind, default)


INTEGRATION_FIELDS: Final = (
    Field(("description",)),
    Field(("enabled",), default=False),
    Field(("scopes",), Kind.SET),
    Field(("auth_methods",), Kind.SET, default=("oauth",), creation_only=True),
    Field(("config",), Kind.MAP, default={}, creation_only=True),
)
CREDENTIAL_FIELDS: Final = (
    Field(("credentials", "type")),
    Field(("credentials", "client_id")),
    Field(("credentials", "client_secret"), sensitive=True),
)
CUSTOM_PROVIDER_FIELDS: Final = (
    _provider("name"),
    _provider("authorization_url"),
    _provider("token_url"),
    _provider("refresh_token_url"),
    _provider("pkce_enabled", default=True),
    _provider("request_scope_separator", default=" "),
    _provider("scopes_required", default=False),
    _provider("client_secret_required", default=True),
    _provider("additional_authorization_parameters", Kind.MAP, default={}),
    _provider("token_body_content_type", default="application/x-www-form-urlencoded"),
    _provider("authenticate_via", default="request_body"),
)
FIELDS: Final = (*INTEGRATION_FIELDS, *CREDENTIAL_FIELDS, *CUSTOM_PROVIDER_FIELDS)
BY_NAME: Final = {f.name: f for f in FIELDS}


def field(name: str) -> Field:
    """The field called ``name`` (``scopes``, ``custom_provider.token_url``...)."""
    return BY_NAME[name]


def in_place() -> Iterator[Field]:
    """The top-level fields an update changes in place."""
    return (f for f in INTEGRATION_FIELDS if not f.creation_only)


def creation_only() -> Iterator[Field]:
    """The top-level fields only a create sets (a change replaces the integration)."""
    return (f for f in INTEGRATION_FIELDS if f.creation_only)


def api_default(f: Field) -> Any:
    """The API's default for ``f`` as a fresh JSON value (lists for sets)."""
    return f.sendable(f.default)
