"""Request and response models of the API (pydantic v2), as documented in /openapi.json.

Request models only check shapes and types; the rules that need state or span
several fields (credentials, providers, conflicts) live in ``rules`` and
``service``. A field that is absent stays out of ``model_fields_set``: that is
how a PUT is partial.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictStr,
    field_validator,
)

from reconciler.emulator.ids import INTEGRATION_ID_PATTERN

Ownership = Literal["user", "organization"]
AuthMethod = Literal["oauth", "api_key", "client_credentials"]
CredentialsType = Literal["custom", "organization"]
ListOrder = Literal["desc", "asc", "normal"]

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9_-]{0,62}[a-z0-9])?$"
ID_PATTERN = INTEGRATION_ID_PATTERN
CUSTOM_PROVIDER_DEFAULTS: dict[str, Any] = {
    "authorization_url": None,
    "token_url": None,
    "refresh_token_url": None,
    "pkce_enabled": True,
    "request_scope_separator": " ",
    "scopes_required": False,
    "client_secret_required": True,
    "additional_authorization_parameters": {},
    "token_body_content_type": "application/x-www-form-urlencoded",
    "authenticate_via": "request_body",
}
IMMUTABLE_FIELDS = ("provider", "ownership", "auth_methods", "config")
_HTTPS: dict[str, Any] = {"pattern": "^https://", "description": "An https:// URL."}


def _utf8_text(value: str) -> str:
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text (no lone surrogates)") from None
    return value


def _utf8_secret(value: SecretStr) -> SecretStr:
    _utf8_text(value.get_secret_value())
    return value


Text = Annotated[StrictStr, AfterValidator(_utf8_text)]
"""A JSON string that SQLite and UTF-8 responses can hold."""
Secret = Annotated[SecretStr, AfterValidator(_utf8_secret)]


def _oauth_only() -> list[AuthMethod]:
    return ["oauth"]


def _drop_default(schema: dict[str, Any]) -> None:
    schema.pop("default", None)


class _Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomProviderInput(_Input):
    """A custom OAuth provider definition; only the fields given are applied."""

    name: Text = Field(
        "",
        min_length=1,
        description="Required for a new provider.",
        json_schema_extra=_drop_default,
    )
    authorization_url: Text | None = Field(None, json_schema_extra=_HTTPS)
    token_url: Text | None = Field(None, json_schema_extra=_HTTPS)
    refresh_token_url: Text | None = Field(None, json_schema_extra=_HTTPS)
    pkce_enabled: StrictBool = True
    request_scope_separator: Text = " "
    scopes_required: StrictBool = False
    client_secret_required: StrictBool = True
    additional_authorization_parameters: dict[Text, Text] = Field(default_factory=dict)
    token_body_content_type: Text = "application/x-www-form-urlencoded"
    authenticate_via: Literal["request_body", "basic_auth_header"] = "request_body"

    @field_validator("authorization_url", "token_url", "refresh_token_url")
    @classmethod
    def _https_only(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("https://"):
            raise ValueError("must be an https:// URL")
        if value is not None and "${" in value:
            raise ValueError(
                "must be a static URL: custom providers declare no config fields "
                "for ${config...} placeholders"
            )
        return value

    def given(self) -> dict[str, Any]:
        """The fields present in the request, as plain JSON values."""
        return self.model_dump(include=set(self.model_fields_set))


class CredentialsInput(_Input):
    """OAuth credentials: your own app (``custom``) or each organization's own."""

    type: CredentialsType
    client_id: Text | None = None
    client_secret: Secret | None = Field(
        None, description="Write-only: never returned, stored only as a salted hash."
    )


class CreateIntegrationBody(_Input):
    """Body of ``POST /data-integrations``."""

    provider: Text = Field(
        pattern=SLUG_PATTERN, description="A built-in provider slug, or a custom provider's slug."
    )
    ownership: Ownership = "user"
    description: Text | None = None
    enabled: StrictBool = False
    scopes: list[Text] | None = Field(None, description="null = the provider's scopes.")
    auth_methods: list[AuthMethod] = Field(default_factory=_oauth_only, min_length=1)
    config: dict[Text, Text] = Field(default_factory=dict)
    credentials: CredentialsInput | None = None
    custom_provider: CustomProviderInput | None = None


class UpdateIntegrationBody(_Input):
    """Body of ``PUT /data-integrations/{slug}``: only the fields given change."""

    description: Text | None = None
    enabled: StrictBool = Field(False, json_schema_extra=_drop_default)
    scopes: list[Text] | None = Field(None, description="null resets to the provider's.")
    credentials: CredentialsInput | None = Field(None, description="Rotates the stored secret.")
    custom_provider: CustomProviderInput | None = Field(
        None, description="Partial; custom-provider integrations only."
    )


class CredentialsOutput(BaseModel):
    type: CredentialsType
    client_id: str | None
    redacted_client_secret: str | None = Field(description="The secret's last 4 characters.")


class CustomProviderOutput(BaseModel):
    name: str
    authorization_url: str | None
    token_url: str | None
    refresh_token_url: str | None
    pkce_enabled: bool
    request_scope_separator: str
    scopes_required: bool
    client_secret_required: bool
    additional_authorization_parameters: dict[str, str]
    token_body_content_type: str
    authenticate_via: Literal["request_body", "basic_auth_header"]


class IntegrationOutput(BaseModel):
    """A ``data_integration`` object: every field is present on every response."""

    object: Literal["data_integration"]
    id: str = Field(pattern=ID_PATTERN)
    slug: str
    integration_type: str
    ownership: Ownership
    description: str | None
    enabled: bool
    state: Literal["valid", "invalid", "requested"]
    scopes: list[str] | None
    redirect_uri: str
    auth_methods: list[AuthMethod]
    credentials: CredentialsOutput | None
    installation: dict[str, Any] | None
    config: dict[str, str]
    custom_provider: CustomProviderOutput | None
    created_at: str
    updated_at: str


class ListMetadata(BaseModel):
    before: str | None = Field(description="Cursor of the previous page; null on the first.")
    after: str | None = Field(description="Cursor of the next page; null on the last.")


class IntegrationList(BaseModel):
    object: Literal["list"]
    data: list[IntegrationOutput]
    list_metadata: ListMetadata


class FieldError(BaseModel):
    field: str
    code: str
    message: str


class ErrorOutput(BaseModel):
    """Every error answer: ``message`` and ``code``; 422s add ``errors``."""

    message: str
    code: str
    errors: list[FieldError] | None = None
