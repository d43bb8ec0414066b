"""The remote state as a manifest: adopt what was made by hand in the dashboard.

``export_manifest`` is pure (integrations in, YAML text out). It writes every
integration of both ownerships in a stable order, only the fields that differ
from the API's defaults, and each client secret as an ``${env:NAME}``
reference: the API never returns a secret, only its last 4 characters, which
``secret_note`` tells the user so that they can set the right value. Loaded
back with those variables set, the export plans clean against the same remote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from reconciler.models import (
    OWNERSHIPS,
    CustomProvider,
    Integration,
    Ownership,
    RemoteIntegration,
)
from reconciler.yamlsource import reads_as_string

DEFAULT_SCHEMA_REF = "manifest.schema.json"
SECRET_VARIABLE_PREFIX = "RECONCILER_"
_REFERENCE_START = re.compile(r"\$\{(?:env|file):")
_NOT_NAME = re.compile(r"[^A-Z0-9]+")
_DEFAULT_AUTH_METHODS = ["oauth"]
# Manifest key order, as the manifest documentation writes it.
_KEY_ORDER = tuple(name for name in Integration.model_fields if name != "protect")


@dataclass(frozen=True)
class SecretVariable:
    """An environment variable the exported manifest needs: what it is for, how it ends."""

    name: str
    slug: str
    ownership: Ownership
    last4: str | None


@dataclass(frozen=True)
class Export:
    """An exported manifest and the secret variables it refers to, in order."""

    text: str
    secrets: tuple[SecretVariable, ...] = ()
    warnings: tuple[str, ...] = ()

    @property
    def secret_variables(self) -> tuple[str, ...]:
        return tuple(secret.name for secret in self.secrets)


def export_manifest(
    remote: Sequence[RemoteIntegration], *, schema: str = DEFAULT_SCHEMA_REF
) -> Export:
    """The manifest that describes ``remote`` exactly (secrets as references).

    ``schema`` is what the ``yaml-language-server`` header points editors at.
    """
    ordered = sorted(remote, key=lambda item: (item.slug, OWNERSHIPS.index(item.ownership)))
    used: set[str] = set()
    secrets: list[SecretVariable] = []
    warnings: list[str] = []
    entries = []
    for item in ordered:
        variable = None
        if item.credentials is not None and item.credentials.type == "custom":
            variable = _unique(secret_variable_name(item.slug, item.ownership), used)
            secrets.append(
                SecretVariable(
                    variable, item.slug, item.ownership, item.credentials.redacted_client_secret
                )
            )
        entry = _entry(item, variable)
        warnings.extend(
            f"{item.slug} ({item.ownership}): {path} holds {text!r}, which the loader will "
            "read as a reference; edit it before use"
            for path, text in _strings(entry)
            if path != "credentials.client_secret" and _REFERENCE_START.search(text)
        )
        entries.append(entry)
    header = [
        f"# yaml-language-server: $schema={schema}",
        "# Exported by `reconciler export` from the remote state. Client secrets are",
        "# ${env:...} references: the API never returns them; set each variable before",
        "# running plan or apply.",
    ]
    if not entries:
        header.append("# The environment had no integrations.")
    body = yaml.dump(
        {"version": 1, "integrations": entries},
        Dumper=_ManifestDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    # A blank line between integrations, as people write them.
    body = body.replace("\n  - slug: ", "\n\n  - slug: ")
    body = body.replace("integrations:\n\n", "integrations:\n", 1)
    return Export(
        text="\n".join(header) + "\n" + body, secrets=tuple(secrets), warnings=tuple(warnings)
    )


class _ManifestDumper(yaml.SafeDumper):
    """Block style with indented lists; strings quoted whenever the loader needs it."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = None if reads_as_string(value) else "'"
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_ManifestDumper.add_representer(str, _represent_str)


def secret_variable_name(slug: str, ownership: Ownership) -> str:
    """The variable for a secret: ``RECONCILER_GITHUB_CLIENT_SECRET``...

    ``RECONCILER_`` first, so that the default policy allows it; then the
    slug in upper case, every run of other characters as ``_``, and
    ``_ORGANIZATION`` for the organization-owned root
    (``RECONCILER_GITHUB_ORGANIZATION_CLIENT_SECRET``).
    """
    base = _NOT_NAME.sub("_", slug.upper()).strip("_") or "INTEGRATION"
    if ownership == "organization":
        base += "_ORGANIZATION"
    return f"{SECRET_VARIABLE_PREFIX}{base}_CLIENT_SECRET"


def secret_note(export: Export) -> str:
    """What to set before plan/apply: each variable, its integration, its last 4.

    Empty when the export refers to no secret. Never contains a secret.
    """
    if not export.secrets:
        return ""
    width = max(len(secret.name) for secret in export.secrets)
    lines = [
        "Before plan or apply, set these variables to the integrations' client secrets.",
        "The API keeps only their last 4 characters: check you have the right ones.",
    ]
    for secret in export.secrets:
        ending = f"must end with …{secret.last4}" if secret.last4 else "last 4 unknown"
        lines.append(f"  {secret.name:<{width}}  {secret.slug} ({secret.ownership}), {ending}")
    return "\n".join(lines) + "\n"


def _unique(name: str, used: set[str]) -> str:
    """``name``, or ``name`` with ``_2``, ``_3``... before ``_CLIENT_SECRET``, if taken."""
    candidate, number = name, 1
    stem = name.removesuffix("_CLIENT_SECRET")
    while candidate in used:
        number += 1
        candidate = f"{stem}_{number}_CLIENT_SECRET"
    used.add(candidate)
    return candidate


def _entry(item: RemoteIntegration, secret_variable: str | None) -> dict[str, Any]:
    """One manifest entry: the non-default fields of ``item``, in manifest order."""
    fields: dict[str, Any] = {"slug": item.slug}
    if item.ownership != "user":
        fields["ownership"] = item.ownership
    if item.description is not None:
        fields["description"] = item.description
    if item.enabled:
        fields["enabled"] = True
    if item.scopes is not None:
        fields["scopes"] = list(item.scopes)
    if list(item.auth_methods) != _DEFAULT_AUTH_METHODS:
        fields["auth_methods"] = list(item.auth_methods)
    if item.config:
        fields["config"] = dict(item.config)
    if item.credentials is not None:
        credentials: dict[str, Any] = {"type": item.credentials.type}
        if item.credentials.type == "custom":
            credentials["client_id"] = item.credentials.client_id
            credentials["client_secret"] = f"${{env:{secret_variable}}}"
        fields["credentials"] = credentials
    if item.custom_provider is not None:
        fields["custom_provider"] = _custom_provider(item.custom_provider)
    return {key: fields[key] for key in _KEY_ORDER if key in fields}


def _custom_provider(definition: dict[str, Any]) -> dict[str, Any]:
    """A definition without the fields that equal the API's defaults (``name`` always).

    Written whole on each entry of a slug (a fresh copy: no YAML anchors), so
    both entries carry the same shared definition.
    """
    written: dict[str, Any] = {"name": definition.get("name")}
    for name, field_info in CustomProvider.model_fields.items():
        if name == "name" or name not in definition:
            continue
        value = definition[name]
        if value != field_info.get_default(call_default_factory=True):
            written[name] = dict(value) if isinstance(value, dict) else value
    return written


def _strings(value: Any, path: str = "") -> list[tuple[str, str]]:
    """Every string inside ``value``, with its dotted path."""
    if isinstance(value, str):
        return [(path, value)]
    if isinstance(value, dict):
        return [
            found
            for key, item in value.items()
            for found in _strings(item, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [found for index, item in enumerate(value) for found in _strings(item, path)]
    return []
