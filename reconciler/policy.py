"""The policy: the trusted side of a run, deciding what untrusted manifests may do.

A manifest comes from any pull request; the policy file comes from the people
who run the tool (named only by ``--policy FILE`` or ``RECONCILER_POLICY``,
never discovered beside the manifests). It decides which ``${env:NAME}``
variables and ``${file:PATH}`` files manifests may use as client secrets,
which ``${var:NAME}`` variables they may print in plain fields, where custom
providers may point, and the bounds of the safety rails, which a manifest can
only tighten. Without a policy file the defaults apply::

    references.env:        ["RECONCILER_*"]        (secrets; like Terraform's TF_VAR_)
    references.vars:       ["RECONCILER_VAR_*"]    (plain values, printed)
    references.files:      []                      (a file a pull request adds is no secret)
    custom_provider_urls:  any https URL
    safety.protect:        []
    safety.allow_prune:    true
    safety.max_delete_fraction: 0.3               (a ceiling for the manifest's value)

A policy file that leaves a key out keeps that key's default; a
``references`` list that is given replaces the default list. A variable
``references.vars`` allows is printed wherever a manifest puts it: never let
it match a secret's name.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError, field_validator

from reconciler.errors import PolicyError, Problem
from reconciler.identity import OWNERSHIPS
from reconciler.models import DEFAULT_MAX_DELETE_FRACTION, not_a_bool
from reconciler.yamlsource import parse

POLICY_VARIABLE: Final = "RECONCILER_POLICY"
API_KEY_VARIABLE: Final = "WORKOS_API_KEY"
DEFAULT_ENV_GLOBS: Final = ("RECONCILER_*",)
DEFAULT_VAR_GLOBS: Final = ("RECONCILER_VAR_*",)
MAX_POLICY_BYTES: Final = 1 * 2**20
_ENV_GLOB = re.compile(r"[A-Za-z0-9_*?]+")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class _References(_Strict):
    env: list[str] | None = Field(
        None, description="Variable-name globs ${env:} client secrets may read."
    )
    vars: list[str] | None = Field(
        None, description="Variable-name globs ${var:} plain values may read (printed)."
    )
    files: list[str] | None = Field(
        None, description="Path globs, relative to the policy file, ${file:} may read."
    )

    @field_validator("env", "vars")
    @classmethod
    def _env_globs(cls, value: list[str] | None) -> list[str] | None:
        for glob in value or ():
            if not _ENV_GLOB.fullmatch(glob):
                raise ValueError(
                    f"{glob!r} is not a variable-name glob (letters, digits, _, * and ?)"
                )
        return value


class _Safety(_Strict):
    protect: list[str] = Field(default_factory=list)
    allow_prune: StrictBool = True
    max_delete_fraction: float = Field(DEFAULT_MAX_DELETE_FRACTION, ge=0.0, le=1.0)

    @field_validator("protect")
    @classmethod
    def _protect_patterns(cls, value: list[str]) -> list[str]:
        for pattern in value:
            slug, _, ownership = pattern.partition("/")
            if not slug or (ownership and ownership not in OWNERSHIPS):
                raise ValueError(
                    f"{pattern!r}: expected a slug glob, or slug/user or slug/organization"
                )
        return value


class PolicyFile(_Strict):
    """The policy file's format (version 1)."""

    version: Literal[1]
    environment: str | None = Field(None, min_length=1)
    api_key_kind: Literal["live", "test"] | None = None
    references: _References = Field(default_factory=_References)
    custom_provider_urls: list[str] | None = None
    safety: _Safety = Field(default_factory=_Safety)

    _integer_version = field_validator("version", mode="before")(not_a_bool)

    @field_validator("custom_provider_urls")
    @classmethod
    def _url_patterns(cls, value: list[str] | None) -> list[str] | None:
        for pattern in value or ():
            if _UrlPattern.parse(pattern) is None:
                raise ValueError(f"{pattern!r}: expected https://host/path (globs * and ?)")
        return value


@dataclass(frozen=True)
class Policy:
    """The policy in force for a run (the defaults when ``path`` is None)."""

    path: str | None = None
    environment: str | None = None
    api_key_kind: Literal["live", "test"] | None = None
    env_globs: tuple[str, ...] = DEFAULT_ENV_GLOBS
    var_globs: tuple[str, ...] = DEFAULT_VAR_GLOBS
    file_globs: tuple[str, ...] = ()
    url_patterns: tuple[str, ...] | None = None
    protect: tuple[str, ...] = ()
    allow_prune: bool = True
    max_delete_fraction: float = DEFAULT_MAX_DELETE_FRACTION
    root: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        """How messages and plan headers name it: ``policy ci/policy.yaml``."""
        return "the default policy" if self.path is None else f"policy {self.path}"

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of what the policy decides (its file's directory included, since
        file globs are relative to it), to bind saved plans to the policy in force."""
        data = {
            "environment": self.environment,
            "env": list(self.env_globs),
            "vars": list(self.var_globs),
            "files": list(self.file_globs),
            "root": self.root if self.file_globs else None,
            "urls": None if self.url_patterns is None else list(self.url_patterns),
            "protect": list(self.protect),
            "allow_prune": self.allow_prune,
            "max_delete_fraction": self.max_delete_fraction,
        }
        if self.api_key_kind is not None:
            data["api_key_kind"] = self.api_key_kind
        text = json.dumps(data, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    # --- references -----------------------------------------------------------------

    def env_refusal(self, name: str) -> str | None:
        """Why ``${env:name}`` may not be a client secret, from the name alone (whatever
        its shape); None if it may."""
        return self._name_refusal(name, self.env_globs, "references.env")

    def var_refusal(self, name: str) -> str | None:
        """Why ``${var:name}`` may not be read, from the name alone; None if it may."""
        return self._name_refusal(name, self.var_globs, "references.vars")

    def _name_refusal(self, name: str, globs: tuple[str, ...], key: str) -> str | None:
        if name == API_KEY_VARIABLE:
            return f"is never resolvable: {API_KEY_VARIABLE} is the API key"
        if any(_glob(pattern).fullmatch(name) for pattern in globs):
            return None
        allowed = ", ".join(globs) or "no variable"
        return f"is not allowed by {self.name} ({key}: {allowed})"

    def file_refusal(self, real_path: str) -> str | None:
        """Why a ``${file:}`` whose real path (symlinks resolved) is ``real_path`` may
        not be read; None if it may. Only the policy's roots count: a file a pull
        request adds beside its manifest is not a secret.

        The answer depends on the path only, never on whether the file exists.
        """
        if not self.file_globs:
            return (
                f"is not allowed by {self.name} (references.files: no file; a policy file "
                "names the directories ${file:} may read)"
            )
        for pattern in self.file_globs:
            absolute = os.path.normpath(os.path.join(self.root, pattern))
            if _glob(absolute, separator="/").fullmatch(real_path):
                return None
        allowed = ", ".join(self.file_globs)
        return (
            f"is not allowed by {self.name} (references.files: {allowed}, relative to the "
            "policy file)"
        )

    def url_refusal(self, url: str) -> str | None:
        """Why a custom provider may not point at ``url``; None if it may."""
        if self.url_patterns is None:
            return None
        if any(pattern.matches(url) for pattern in self._urls):
            return None
        return f"is not allowed by {self.name} (allowed: {', '.join(self.url_patterns)})"

    @cached_property
    def _urls(self) -> list[_UrlPattern]:
        return [p for p in map(_UrlPattern.parse, self.url_patterns or ()) if p is not None]

    # --- rails ----------------------------------------------------------------------

    def protects(self, slug: str, ownership: str) -> bool:
        """Whether the policy protects this integration from delete and replace."""
        for pattern in self.protect:
            slug_glob, _, owner = pattern.partition("/")
            if _glob(slug_glob).fullmatch(slug) and owner in ("", ownership):
                return True
        return False

    def delete_fraction(self, manifest_value: float) -> float:
        """The threshold in force: the lower of the manifest's value and the ceiling."""
        return min(manifest_value, self.max_delete_fraction)


DEFAULT_POLICY: Final = Policy()


def inside(path: str, directory: str) -> bool:
    """Whether ``path`` is strictly inside ``directory`` (both real, absolute paths)."""
    return path.startswith(directory.rstrip(os.sep) + os.sep)


def _glob(pattern: str, *, separator: str | None = None) -> re.Pattern[str]:
    """``*`` and ``?`` (and ``**``, any depth, with a ``separator`` ``*`` never crosses)."""
    return _compiled(pattern, separator)


_GLOB_CACHE: dict[tuple[str, str | None], re.Pattern[str]] = {}


def _compiled(pattern: str, separator: str | None) -> re.Pattern[str]:
    found = _GLOB_CACHE.get((pattern, separator))
    if found is not None:
        return found
    one = "." if separator is None else f"[^{re.escape(separator)}]"
    parts = []
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if pattern.startswith("**/", index) and separator is not None:
            parts.append(f"(?:.*{re.escape(separator)})?")
            index += 3
            continue
        if pattern.startswith("**", index):
            parts.append(".*")
            index += 2
            continue
        if char == "*":
            parts.append(f"{one}*")
        elif char == "?":
            parts.append(one)
        else:
            parts.append(re.escape(char))
        index += 1
    compiled = re.compile("".join(parts), re.DOTALL)
    _GLOB_CACHE[(pattern, separator)] = compiled
    return compiled


@dataclass(frozen=True)
class _UrlPattern:
    """``https://*.acme.example/oauth/*``: host matched label by label, path apart."""

    labels: tuple[str, ...]
    port: int | None
    path: str

    @classmethod
    def parse(cls, pattern: str) -> _UrlPattern | None:
        match = re.fullmatch(r"https://([^/:]+)(?::([0-9]+))?(/.*)?", pattern)
        if match is None:
            return None
        host, port, path = match.groups()
        return cls(tuple(host.lower().split(".")), int(port) if port else None, path or "/")

    def matches(self, url: str) -> bool:
        try:
            parts = urlsplit(url)
            port = parts.port
        except ValueError:
            return False
        if parts.scheme != "https" or parts.username or parts.password or not parts.hostname:
            return False
        labels = parts.hostname.lower().split(".")
        if len(labels) != len(self.labels):
            return False
        if not all(_glob(p).fullmatch(label) for p, label in zip(self.labels, labels, strict=True)):
            return False
        if (port or 443) != (self.port or 443):
            return False
        return bool(_glob(self.path).fullmatch(parts.path or "/"))


def load_policy(path: str | os.PathLike[str] | None) -> Policy:
    """The policy file at ``path`` (the defaults when None), or a ``PolicyError``
    with every problem as ``file:line:col: message``."""
    if path is None or os.fspath(path) == "":
        return DEFAULT_POLICY
    display = os.fspath(path)
    try:
        with open(display, "rb") as handle:
            data = handle.read(MAX_POLICY_BYTES + 1)
    except FileNotFoundError:
        raise PolicyError([Problem(display, 0, 0, "no such policy file")]) from None
    except OSError as error:
        message = f"cannot read the policy file: {error.strerror or error}"
        raise PolicyError([Problem(display, 0, 0, message)]) from None
    if len(data) > MAX_POLICY_BYTES:
        raise PolicyError([Problem(display, 0, 0, "policy file over 1 MiB; refused")])
    doc = parse(data, display)
    if doc.problems:
        raise PolicyError(doc.problems)
    if doc.root is None or not isinstance(doc.root.value, dict):
        message = "a policy file must be a mapping with version: 1"
        raise PolicyError([Problem(display, 0, 0, message)])
    try:
        spec = PolicyFile.model_validate(doc.root.value)
    except ValidationError as error:
        raise PolicyError([_problem(doc, detail) for detail in error.errors()]) from None
    references, urls = spec.references, spec.custom_provider_urls
    return Policy(
        path=display,
        environment=spec.environment,
        api_key_kind=spec.api_key_kind,
        env_globs=DEFAULT_ENV_GLOBS if references.env is None else tuple(references.env),
        var_globs=DEFAULT_VAR_GLOBS if references.vars is None else tuple(references.vars),
        file_globs=() if references.files is None else tuple(references.files),
        url_patterns=None if urls is None else tuple(urls),
        protect=tuple(spec.safety.protect),
        allow_prune=spec.safety.allow_prune,
        max_delete_fraction=spec.safety.max_delete_fraction,
        root=os.path.realpath(os.path.dirname(os.path.abspath(display))),
    )


def policy_path(given: str | None, environ: Mapping[str, str]) -> str | None:
    """``--policy`` if given, else ``RECONCILER_POLICY`` (empty counts as unset)."""
    return given or environ.get(POLICY_VARIABLE) or None


def _problem(doc: Any, detail: Any) -> Problem:
    loc: Sequence[str | int] = tuple(detail["loc"])
    if detail["type"] == "extra_forbidden":
        mark = doc.locate(loc, key=True)
        message = f"unknown key {loc[-1]!r} in the policy file"
    elif detail["type"] == "missing":
        mark = doc.locate(loc[:-1])
        message = f"missing required key {loc[-1]!r} in the policy file"
    else:
        mark = doc.locate(loc)
        label = ".".join(str(part) for part in loc)
        text = str(detail.get("ctx", {}).get("error", detail["msg"]))
        message = f"{label}: {text}"
    return Problem(doc.file, mark.line, mark.column, message)
