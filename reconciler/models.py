"""Typed models: the manifest (desired state) and the API's integration object.

Manifest models use ``extra="forbid"``; a field the manifest leaves out stays
out of ``model_fields_set`` and is therefore *unmanaged* (neither compared nor
sent). ``schemas/manifest.schema.json`` is generated from ``Manifest``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic.config import JsonDict

from reconciler.identity import Identity
from reconciler.identity import Ownership as Ownership  # re-exported for older imports
from reconciler.secrets import Secret

AuthMethod = Literal["oauth", "api_key", "client_credentials"]
CredentialsType = Literal["custom", "organization"]

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"
SECRET_REFERENCE_PATTERN = r"^\$\{(env|file):([^}]+)\}$"
SECRET_REFERENCE = re.compile(SECRET_REFERENCE_PATTERN)
HTTPS_PATTERN = r"^https://"
MAX_ITEMS = 1000
"""Bound of every list and map of an entry: far above any real use, and checked before
the items, so a hostile 250,000-item list costs one error, not 250,000."""
DEFAULT_MAX_DELETE_FRACTION = 0.3
"""The delete threshold without a setting: the manifest's default and the policy's ceiling."""
NOT_NULL_MESSAGE = "null is not allowed here; omit the key to leave it unmanaged"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


def _not_null(value: object) -> object:
    """Reject an explicit null where omitting the key is the only way to say "unmanaged"."""
    if value is None:
        raise ValueError(NOT_NULL_MESSAGE)
    return value


def not_a_bool(value: object) -> object:
    """``version: true`` equals 1 in Python; only the integer 1 is a version."""
    if isinstance(value, bool):
        raise ValueError("expected the integer 1")
    return value


def _omit_null_schema(schema: JsonDict) -> None:
    """JSON Schema of a field that may be omitted but not null: drop the null branch."""
    options = schema.pop("anyOf", None)
    schema.pop("default", None)
    if isinstance(options, list):
        kept = [option for option in options if option != {"type": "null"}]
        if len(kept) == 1 and isinstance(kept[0], dict):
            schema.update(kept[0])
        else:
            schema["anyOf"] = kept


def _https(value: str | None) -> str | None:
    if value is not None and not value.startswith("https://"):
        raise ValueError("must be an https:// URL")
    return value


class CustomProvider(_Strict):
    """A custom OAuth provider's definition. Omitted fields are unmanaged."""

    name: str | None = Field(
        None,
        min_length=1,
        description="Display name of the provider; required to create a new custom provider.",
        json_schema_extra=_omit_null_schema,
    )
    authorization_url: str | None = Field(
        None,
        description="OAuth authorization endpoint (https).",
        json_schema_extra={"pattern": HTTPS_PATTERN},
    )
    token_url: str | None = Field(
        None,
        description="OAuth token endpoint (https).",
        json_schema_extra={"pattern": HTTPS_PATTERN},
    )
    refresh_token_url: str | None = Field(
        None,
        description="Refresh endpoint (https), or null.",
        json_schema_extra={"pattern": HTTPS_PATTERN},
    )
    pkce_enabled: StrictBool = True
    request_scope_separator: str = " "
    scopes_required: StrictBool = False
    client_secret_required: StrictBool = True
    additional_authorization_parameters: dict[str, str] = Field(
        default_factory=dict, max_length=MAX_ITEMS
    )
    token_body_content_type: str = "application/x-www-form-urlencoded"
    authenticate_via: Literal["request_body", "basic_auth_header"] = "request_body"

    @field_validator("authorization_url", "token_url", "refresh_token_url")
    @classmethod
    def _check_urls(cls, value: str | None) -> str | None:
        return _https(value)

    _no_null = field_validator("name", mode="before")(_not_null)


class Credentials(_Strict):
    """OAuth credentials: your own app (``custom``) or each organization's own."""

    type: CredentialsType
    client_id: str | None = Field(None, min_length=1, json_schema_extra=_omit_null_schema)
    client_secret: str | None = Field(
        None,
        pattern=SECRET_REFERENCE_PATTERN,
        description="A reference, never a literal: ${env:NAME} or ${file:path}.",
        json_schema_extra=_omit_null_schema,
    )

    _no_null = field_validator("client_id", "client_secret", mode="before")(_not_null)

    @model_validator(mode="after")
    def _match_type(self) -> Credentials:
        if self.type == "custom":
            missing = [n for n in ("client_id", "client_secret") if getattr(self, n) is None]
            if missing:
                raise ValueError(f"credentials of type custom need {' and '.join(missing)}")
        else:
            given = [n for n in ("client_id", "client_secret") if getattr(self, n) is not None]
            if given:
                raise ValueError(
                    f"credentials of type organization must not have {' or '.join(given)}: "
                    "each organization supplies its own"
                )
        return self


def _default_auth_methods() -> list[AuthMethod]:
    return ["oauth"]


class Integration(_Strict):
    """One data integration; identity is (slug, ownership)."""

    slug: str = Field(pattern=SLUG_PATTERN, description="Provider slug (built-in or custom).")
    ownership: Ownership = "user"
    description: str | None = None
    enabled: StrictBool = False
    scopes: list[str] | None = Field(
        None,
        max_length=MAX_ITEMS,
        json_schema_extra={"uniqueItems": True},
        description="A set: order means nothing.",
    )
    auth_methods: list[AuthMethod] = Field(
        default_factory=_default_auth_methods,
        min_length=1,
        json_schema_extra={"uniqueItems": True},
        description="Creation-only.",
    )
    config: dict[str, str] = Field(
        default_factory=dict, max_length=MAX_ITEMS, description="Creation-only."
    )
    credentials: Credentials | None = Field(None, json_schema_extra=_omit_null_schema)
    custom_provider: CustomProvider | None = Field(None, json_schema_extra=_omit_null_schema)
    protect: StrictBool = Field(False, description="Never delete or replace this integration.")

    _no_null = field_validator("credentials", "custom_provider", mode="before")(_not_null)

    @field_validator("auth_methods")
    @classmethod
    def _unique_auth_methods(cls, value: list[AuthMethod]) -> list[AuthMethod]:
        if len(set(value)) != len(value):
            raise ValueError("lists a method twice")
        return value

    @field_validator("scopes")
    @classmethod
    def _unique_scopes(cls, value: list[str] | None) -> list[str] | None:
        """Scopes are a set (order means nothing, RFC 6749 §3.3): a repeat is a mistake."""
        if value is not None:
            repeated = sorted({scope for scope in value if value.count(scope) > 1})
            if repeated:
                raise ValueError(f"lists {', '.join(map(repr, repeated))} more than once")
        return value

    @model_validator(mode="after")
    def _credentials_need_oauth(self) -> Integration:
        if self.credentials is not None and "oauth" not in self.auth_methods:
            raise ValueError(
                "credentials are for oauth integrations: add oauth to auth_methods "
                "or remove credentials"
            )
        return self

    @property
    def identity(self) -> Identity:
        return Identity(self.slug, self.ownership)


class Settings(_Strict):
    """Settings of a whole run; may appear in one manifest file only."""

    prune: StrictBool = Field(False, description="Delete remote integrations not listed.")
    ignore: list[str] = Field(
        default_factory=list, max_length=MAX_ITEMS, description="Slug globs never touched."
    )
    max_delete_fraction: float = Field(DEFAULT_MAX_DELETE_FRACTION, ge=0.0, le=1.0)
    environment: str | None = Field(
        None,
        min_length=1,
        description=(
            "The WorkOS environment these manifests are for (e.g. production); plan and "
            "apply refuse to run unless --environment / RECONCILER_ENVIRONMENT names it."
        ),
    )
    api_key_kind: Literal["live", "test"] | None = Field(
        None,
        description=(
            "The kind of API key these manifests are for: live (sk_live_...) or test "
            "(sk_test_...); plan and apply refuse another kind before any request. The "
            "policy's api_key_kind wins over this one."
        ),
    )


class Manifest(_Strict):
    """One manifest file. Top-level keys starting with ``x-`` are extension fields,
    ignored (a place for YAML anchors, as in docker compose files)."""

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        frozen=True,
        title="reconciler manifest",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "description": "One manifest file. Top-level keys starting with x- are "
            "extension fields, ignored (e.g. to hold YAML anchors).",
            "patternProperties": {
                "^x-": {"description": "Extension field: ignored (e.g. to hold YAML anchors)."}
            },
        },
    )

    version: Literal[1]
    settings: Settings | None = Field(None, json_schema_extra=_omit_null_schema)
    integrations: list[Integration] = Field(default_factory=list)

    _no_null = field_validator("settings", mode="before")(_not_null)
    _integer_version = field_validator("version", mode="before")(not_a_bool)

    @model_validator(mode="before")
    @classmethod
    def _ignore_extensions(cls, data: Any) -> Any:
        if isinstance(data, dict) and any(is_extension(key) for key in data):
            return {key: value for key, value in data.items() if not is_extension(key)}
        return data


EXTENSION_PREFIX = "x-"


def is_extension(key: object) -> bool:
    """A top-level manifest key that is an extension field (``x-...``), ignored."""
    return isinstance(key, str) and key.startswith(EXTENSION_PREFIX)


@dataclass(frozen=True)
class Source:
    """Where something was written: file, 1-based line and column."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class DesiredIntegration:
    """A validated manifest entry with its secret resolved.

    ``spec.model_fields_set`` says which fields are managed.
    """

    spec: Integration
    source: Source
    client_secret: Secret | None = None

    @property
    def identity(self) -> Identity:
        return self.spec.identity

    def managed(self, name: str) -> bool:
        return name in self.spec.model_fields_set

    @property
    def secret_deferred(self) -> bool:
        """A client_secret reference that was checked but not read (``--no-secrets``)."""
        credentials = self.spec.credentials
        return (
            self.client_secret is None
            and credentials is not None
            and credentials.client_secret is not None
        )


@dataclass(frozen=True)
class Desired:
    """The whole desired state of a run: every file merged."""

    integrations: tuple[DesiredIntegration, ...] = ()
    settings: Settings = field(default_factory=Settings)
    files: tuple[str, ...] = ()
    secrets_resolved: bool = True
    """False when loaded with ``--no-secrets``: client secrets were checked against the
    policy but not read, so a plan can't compare them and an apply must refuse it."""

    def secrets(self) -> dict[Identity, Secret]:
        """Each integration's resolved client secret, by identity (what an apply sends)."""
        return {
            item.identity: item.client_secret
            for item in self.integrations
            if item.client_secret is not None
        }


class RemoteCredentials(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    type: CredentialsType
    client_id: str | None = None
    redacted_client_secret: str | None = None


class RemoteIntegration(BaseModel):
    """A ``data_integration`` object as the API returns it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    object: Literal["data_integration"] = "data_integration"
    id: str
    slug: str
    integration_type: str
    ownership: Ownership
    description: str | None
    enabled: bool
    state: str
    scopes: list[str] | None
    redirect_uri: str
    auth_methods: list[AuthMethod]
    credentials: RemoteCredentials | None
    installation: dict[str, Any] | None = None
    config: dict[str, str]
    custom_provider: dict[str, Any] | None
    created_at: str
    updated_at: str

    @property
    def identity(self) -> Identity:
        return Identity(self.slug, self.ownership)
