"""The remote state as a manifest: adopt what was made by hand in the dashboard.

``export_manifest`` is pure (integrations in, YAML text out). It writes every
integration of both ownerships in a stable order, except those ``ignore``
matches (``settings.ignore`` of the user's manifests), as a **faithful
snapshot**: every field a manifest can manage (each row of
``reconciler.fields``), API defaults included (``enabled: false``,
``scopes: null``, ``pkce_enabled: true``...). A field left out of a manifest
is unmanaged, so a default left out would hide a later change of it made by
hand; written, the nightly ``plan --detailed-exitcode`` shows it.

Each client secret is written as an ``${env:NAME}`` reference: the API never
returns a secret, only its last 4 characters, which ``secret_note`` tells the
user so that they can set the right value. Loaded back with those variables
set, the export plans clean against the same remote.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from reconciler.fields import (
    CREDENTIAL_FIELDS,
    CUSTOM_PROVIDER_FIELDS,
    INTEGRATION_FIELDS,
    MISSING,
    Field,
)
from reconciler.identity import Identity, Ownership
from reconciler.models import (
    Credentials,
    CustomProvider,
    Integration,
    RemoteIntegration,
)
from reconciler.policy import Policy
from reconciler.yamlsource import MERGE_KEY
from reconciler.yamlsource.scalars import reads_as_string

SECRET_VARIABLE_PREFIX = "RECONCILER_"
SCHEMA_FILE = Path(__file__).absolute().parent.parent / "schemas" / "manifest.schema.json"
"""The manifest schema in a source checkout (the repository root is the package's
parent); absent from an installed wheel."""
_NOT_NAME = re.compile(r"[^A-Z0-9]+")
# Manifest key order, as the manifest documentation writes it.
_KEY_ORDER = tuple(name for name in Integration.model_fields if name != "protect")
# The manifest model holding each field's key, and the least a probe needs beside it.
_MODELS: dict[str, tuple[type[BaseModel], dict[str, Any]]] = {
    "credentials": (Credentials, {"type": "organization"}),
    "custom_provider": (CustomProvider, {}),
}


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
    count: int = 0
    """How many integrations the manifest holds."""
    ignored: tuple[tuple[str, Ownership], ...] = ()
    """The identities left out because ``ignore`` matches their slug."""

    @property
    def secret_variables(self) -> tuple[str, ...]:
        return tuple(secret.name for secret in self.secrets)


def export_manifest(
    remote: Sequence[RemoteIntegration],
    *,
    schema: str | None = None,
    ignore: Sequence[str] = (),
    policy: Policy | None = None,
) -> Export:
    """The manifest that describes ``remote`` exactly (secrets as references).

    ``schema`` is what the ``yaml-language-server`` header points editors at
    (no such comment when None; see ``schema_reference``). Integrations whose
    slug matches a glob of ``ignore`` (``settings.ignore``: case-sensitive
    ``fnmatch``, as the planner matches it) are left out. With ``policy``, a
    warning names each variable the export refers to that the policy refuses.
    """
    ordered = sorted(remote, key=lambda item: item.identity.sort_key())
    ignored = tuple(
        item.identity for item in ordered if any(fnmatchcase(item.slug, p) for p in ignore)
    )
    used: set[str] = set()
    secrets: list[SecretVariable] = []
    warnings: list[str] = []
    entries = []
    for item in ordered:
        if item.identity in ignored:
            continue
        variable = None
        if item.credentials is not None and item.credentials.type == "custom":
            variable = _unique(secret_variable_name(item.slug, item.ownership), used)
            secrets.append(
                SecretVariable(
                    variable, item.slug, item.ownership, item.credentials.redacted_client_secret
                )
            )
            warnings.extend(_policy_warnings(item, variable, policy))
        entry, left_out = _entry(item, variable)
        warnings.extend(_entry_warnings(item, entry, left_out))
        entries.append(entry)
    return Export(
        text=_header(schema, len(ignored), bool(entries)) + _body(entries),
        secrets=tuple(secrets),
        warnings=tuple(warnings),
        count=len(entries),
        ignored=ignored,
    )


def manifest_entry(item: RemoteIntegration) -> tuple[str, SecretVariable | None]:
    """One integration as a manifest entry (YAML, an item of ``integrations:``), every
    field written as ``export_manifest`` writes it, the definition included; and the
    variable its client secret reference names, if it has custom credentials."""
    variable = None
    if item.credentials is not None and item.credentials.type == "custom":
        name = secret_variable_name(item.slug, item.ownership)
        variable = SecretVariable(
            name, item.slug, item.ownership, item.credentials.redacted_client_secret
        )
    entry, _ = _entry(item, variable.name if variable is not None else None)
    text = yaml.dump(
        [entry],
        Dumper=_ManifestDumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return text, variable


def _policy_warnings(item: RemoteIntegration, variable: str, policy: Policy | None) -> list[str]:
    refusal = policy.env_refusal(variable) if policy is not None else None
    if refusal is None:
        return []
    return [
        f"{item.identity}: ${{env:{variable}}} {refusal}; plan and "
        "apply will refuse the exported manifest until you rename the variable to "
        "one the policy allows"
    ]


def _entry_warnings(
    item: RemoteIntegration, entry: dict[str, Any], left_out: Sequence[str]
) -> list[str]:
    """Values a manifest can't say (a remote null)."""
    warnings = [
        f"{item.identity}: {path} is null remotely, which a manifest can't "
        "say; it is left out (unmanaged)"
        for path in left_out
    ]
    return warnings


def _header(schema: str | None, ignored: int, any_entry: bool) -> str:
    header = [f"# yaml-language-server: $schema={schema}"] if schema is not None else []
    header += [
        "# Exported by `reconciler export` from the remote state: every field, defaults",
        "# included, so that a change made by hand shows in `plan`. Client secrets are",
        "# ${env:...} references: the API never returns them; set each variable before",
        "# running plan or apply.",
    ]
    if ignored:
        header.append(
            f"# {ignored} integration{'s' * (ignored != 1)} left out: settings.ignore matches "
            f"{'their slugs' if ignored != 1 else 'its slug'}."
        )
    if not any_entry:
        header.append("# The environment had no integrations.")
    return "\n".join(header) + "\n"


def _body(entries: list[dict[str, Any]]) -> str:
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
    return body.replace("integrations:\n\n", "integrations:\n", 1)


def schema_reference(
    out: str | os.PathLike[str] | None, *, schema_file: str | os.PathLike[str] = SCHEMA_FILE
) -> str | None:
    """Where the ``$schema`` header of a manifest written to ``out`` should point.

    ``schema_file`` relative to the directory of ``out`` (of the current
    directory when ``out`` is None: standard output), with ``/`` separators;
    None when there is no such file (an installed wheel has no
    ``schemas/``), no relative path (another drive) or the path would not fit
    on a comment line.
    """
    if not os.path.isfile(schema_file):
        return None
    start = os.path.dirname(os.path.realpath(out)) if out is not None else os.getcwd()
    try:
        relative = os.path.relpath(os.path.realpath(schema_file), os.path.realpath(start))
    except ValueError:
        return None
    reference = Path(relative).as_posix()
    return reference if reference.isprintable() else None


class _ManifestDumper(yaml.SafeDumper):
    """Block style with indented lists; strings quoted whenever the loader needs it;
    no anchors (the shared custom_provider block is written out on each entry)."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    """Plain where it reads back as the same string; double-quoted (escapes for controls,
    U+0085, line and paragraph separators, bidi and other format characters) where a
    character is not printable; else single-quoted (``<<``, ``0o17``, ``yes``...)."""
    if not value.replace(" ", "").isprintable():
        style: str | None = '"'
    elif value == MERGE_KEY or not reads_as_string(value):
        style = "'"
    else:
        style = None
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
        identity = Identity(secret.slug, secret.ownership)
        lines.append(f"  {secret.name:<{width}}  {identity}, {ending}")
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


def _entry(
    item: RemoteIntegration, secret_variable: str | None
) -> tuple[dict[str, Any], list[str]]:
    """One manifest entry: every manageable field of ``item``, in manifest order; and
    the paths of the fields left out because the manifest can't say their value."""
    data = item.model_dump(mode="json")
    left_out: list[str] = []
    fields: dict[str, Any] = {"slug": item.slug}
    if item.ownership != "user":
        fields["ownership"] = item.ownership
    fields.update(_literal(_written(INTEGRATION_FIELDS, data, left_out)))
    if item.credentials is not None:
        missing: list[str] = []  # organization credentials have no client_id: not a loss
        credentials = _literal(_written(CREDENTIAL_FIELDS, data, missing))
        if secret_variable is not None:
            left_out.extend(missing)
            credentials.update(
                {f.key: f"${{env:{secret_variable}}}" for f in CREDENTIAL_FIELDS if f.sensitive}
            )
        fields["credentials"] = credentials
    if item.custom_provider is not None:
        # Written whole on each entry of a slug, so both carry the same shared definition.
        fields["custom_provider"] = _literal(_written(CUSTOM_PROVIDER_FIELDS, data, left_out))
    return {key: fields[key] for key in _KEY_ORDER if key in fields}, left_out


def _literal(value: Any) -> Any:
    """``value`` as a manifest writes it literally: each ``${`` of a string as ``$${``
    (which the loader reads back as ``${``, never as a reference); map keys are never
    interpolated and stay as they are."""
    if isinstance(value, str):
        return value.replace("${", "$${")
    if isinstance(value, dict):
        return {key: _literal(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_literal(item) for item in value]
    return value


def _written(
    table: Sequence[Field], data: Mapping[str, Any], left_out: list[str]
) -> dict[str, Any]:
    """The fields of ``table`` as ``data`` (an API object) holds them, keyed by their last
    part: a null the manifest can't hold is left out (its path added to ``left_out``),
    and so is what the API object lacks (a sensitive field: the API never returns it)."""
    written: dict[str, Any] = {}
    for f in table:
        value = f.get(data)
        if value is MISSING or f.sensitive:
            continue
        if value is None and not _nullable(f.name):
            left_out.append(f.name)
            continue
        written[f.key] = value
    return written


@cache
def _nullable(name: str) -> bool:
    """Whether a manifest may say ``null`` for the field ``name`` (``description: null``
    resets; ``custom_provider.name: null`` is refused): asked of the manifest models."""
    *parents, key = name.split(".")
    model, minimum = _MODELS[parents[0]] if parents else (Integration, {"slug": "probe"})
    try:
        model.model_validate({**minimum, key: None})
    except ValidationError:
        return False
    return True
