"""The API's rules on a request body that span several fields but need no stored state.

Credentials against auth methods, the config keys a provider declares, the
custom-provider definition a body ends with and the endpoints it needs.
``service`` applies them inside its transactions; each raises an ``ApiProblem``
whose message never quotes a value (a secret could be one).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from reconciler.emulator.problems import ApiProblem, FieldProblem, invalid
from reconciler.emulator.providers import BuiltinProvider
from reconciler.emulator.schemas import (
    CUSTOM_PROVIDER_DEFAULTS,
    CreateIntegrationBody,
    CredentialsInput,
    CustomProviderInput,
)
from reconciler.emulator.store import IntegrationData, secret_digest


def builtin_provider_only(body: CreateIntegrationBody, builtin: BuiltinProvider) -> None:
    """A create of a built-in provider: no ``custom_provider``, only the config keys it
    declares (none at all for most providers)."""
    if body.custom_provider is not None:
        raise not_for_builtin(body.provider)
    unknown = sorted(set(body.config) - set(builtin.config_fields))
    if unknown:
        allowed = ", ".join(builtin.config_fields) or "none"
        raise _unknown_config(f"for {body.provider}", unknown, f"allowed: {allowed}")


def custom_provider_config(config: Mapping[str, str]) -> None:
    """A custom provider declares no config fields, so it accepts no config key."""
    if config:
        raise _unknown_config(
            "for a custom provider", sorted(config), "custom providers declare no config fields"
        )


def _unknown_config(what: str, unknown: list[str], detail: str) -> ApiProblem:
    return ApiProblem(
        422,
        "validation_error",
        f"config: unknown key(s) {what}: {', '.join(unknown)} ({detail})",
        tuple(FieldProblem(f"config.{key}", "unknown_key", detail) for key in unknown),
    )


def check_definition_urls(definition: Mapping[str, Any], auth_methods: Iterable[str]) -> None:
    """The endpoints a custom provider needs for the integrations that use it.

    "Required for OAuth providers" (``authorization_url``, ``token_url``) and
    "Required for OAuth and ``client_credentials`` providers" (``token_url``).
    """
    methods = set(auth_methods)
    needed = []
    if "oauth" in methods:
        needed += ["authorization_url", "token_url"]
    elif "client_credentials" in methods:
        needed.append("token_url")
    missing = [name for name in needed if definition.get(name) is None]
    if missing:
        kinds = "OAuth" if "oauth" in methods else "client_credentials"
        raise ApiProblem(
            422,
            "validation_error",
            f"custom_provider needs {' and '.join(missing)} for {kinds} integrations",
            tuple(
                FieldProblem(f"custom_provider.{name}", "required", f"required for {kinds}")
                for name in missing
            ),
        )


def not_for_builtin(slug: str) -> ApiProblem:
    """A ``custom_provider`` given for a built-in slug."""
    return invalid(
        "custom_provider",
        "builtin_provider",
        f"{slug} is a built-in provider; custom_provider is only for custom providers",
    )


def merge_definition(
    existing: dict[str, Any] | None, patch: CustomProviderInput | None
) -> dict[str, Any]:
    """A full definition: the existing one (or the defaults) with the given fields applied."""
    given = patch.given() if patch is not None else {}
    if existing is None:
        if "name" not in given:
            raise invalid("custom_provider.name", "required", "a new custom provider needs a name")
        return {"name": given["name"], **copy.deepcopy(CUSTOM_PROVIDER_DEFAULTS), **given}
    return {**existing, **given}


def check_auth_methods(methods: Sequence[str]) -> None:
    if len(set(methods)) != len(methods):
        raise invalid("auth_methods", "duplicate", "each auth method may appear once")


def check_credentials(credentials: CredentialsInput | None, *, oauth: bool) -> None:
    """The credential rules of POST and PUT: OAuth needs credentials, nothing else has any."""
    if credentials is None:
        if oauth:
            raise invalid(
                "credentials",
                "required",
                "an OAuth integration needs credentials: type custom with client_id and "
                "client_secret, or type organization",
            )
        return
    if not oauth:
        raise invalid(
            "credentials",
            "not_applicable",
            "credentials apply only to integrations whose auth_methods include oauth",
        )
    if credentials.type == "custom":
        _check_custom(credentials)
    else:
        _check_organization(credentials)


def _check_custom(credentials: CredentialsInput) -> None:
    """Type custom: both a client id and a client secret, neither empty."""
    secret = credentials.client_secret
    present = {
        "client_id": bool(credentials.client_id),
        "client_secret": secret is not None and bool(secret.get_secret_value()),
    }
    missing = [name for name, ok in present.items() if not ok]
    if missing:
        raise ApiProblem(
            422,
            "validation_error",
            f"credentials of type custom need {' and '.join(missing)}",
            tuple(
                FieldProblem(f"credentials.{n}", "required", "required for type custom")
                for n in missing
            ),
        )


def _check_organization(credentials: CredentialsInput) -> None:
    """Type organization: neither a client id nor a secret (each organization brings its own)."""
    supplied = [
        name
        for name, value in (
            ("client_id", credentials.client_id),
            ("client_secret", credentials.client_secret),
        )
        if value is not None
    ]
    if supplied:
        raise ApiProblem(
            422,
            "validation_error",
            f"credentials of type organization must not have {' or '.join(supplied)}: "
            "each organization supplies its own",
            tuple(
                FieldProblem(
                    f"credentials.{n}", "not_allowed", "must be absent for type organization"
                )
                for n in supplied
            ),
        )


def with_credentials(data: IntegrationData, credentials: CredentialsInput) -> IntegrationData:
    """Set (or rotate) credentials: keep the secret's last 4 and a salted digest only."""
    secret = credentials.client_secret.get_secret_value() if credentials.client_secret else None
    return replace(
        data,
        credentials_type=credentials.type,
        client_id=credentials.client_id,
        secret_last4=secret[-4:] if secret else None,
        secret_digest=secret_digest(secret) if secret else None,
    )
