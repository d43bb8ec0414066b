"""Manifest files to the desired state: parse, validate, merge, resolve secrets.

Every problem of a run, across all files, is collected and raised at once as a
``ManifestError``; each points at file:line:column. No message carries a secret.

Environment references: a string field whose whole value is ``${env:NAME}``
or ``${env:NAME:-default}`` takes the variable's value (the default when
NAME is unset or empty, as in the shell; an empty default is allowed). They
are resolved before validation, so the resolved value is what gets checked.
References work in string fields only (``enabled: ${env:X}`` is a problem),
must be the whole value, and ``${file:...}`` is for ``client_secret`` only.
``client_secret`` keeps its own rules: a reference resolved into a ``Secret``
after validation, never a default (that would be a literal secret).
"""

from __future__ import annotations

import difflib
import functools
import gc
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import NoneType, UnionType
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from reconciler.errors import ManifestError, Problem
from reconciler.manifest.builtins import BUILTIN_SLUGS
from reconciler.models import (
    NOT_NULL_MESSAGE,
    SECRET_REFERENCE,
    SLUG_PATTERN,
    Credentials,
    CustomProvider,
    Desired,
    DesiredIntegration,
    Integration,
    Manifest,
    Settings,
    Source,
)
from reconciler.policy import DEFAULT_POLICY, Policy, inside
from reconciler.references import RefusedValue, Resolver, Unreadable, read_bounded
from reconciler.secrets import Redactor, Secret
from reconciler.yamlsource import Document, Node, describe_value, parse

MANIFEST_SUFFIXES = (".yaml", ".yml")
MAX_MANIFEST_BYTES = 16 * 2**20
MAX_PROBLEMS_PER_FILE = 200
API_KEY_VARIABLE = "WORKOS_API_KEY"
MIN_SECRET_CHECKED = 6
SECRET_LITERAL_MESSAGE = (
    "client_secret must be a reference, not a literal: use ${env:NAME} or ${file:path}"
)
SLUG_RULE = (
    "1 to 64 lowercase letters, digits, '-' or '_', starting and ending with a letter or digit"
)
_WHERE: dict[type[BaseModel], str] = {
    Manifest: "at top level",
    Settings: "in settings",
    Integration: "in integration",
    Credentials: "in credentials",
    CustomProvider: "in custom_provider",
}
_EXPECTED = {
    "bool_type": "true or false",
    "string_type": "a string",
    "int_type": "an integer",
    "float_type": "a number",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_BOUNDS = {
    "less_than_equal": ("at most", "le"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("less than", "lt"),
    "greater_than": ("greater than", "gt"),
}
Loc = tuple[str | int, ...]
ENV_REFERENCE = re.compile(r"\$\{env:([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_REFERENCE = re.compile(r"\$\{(env|file):([^}]*)\}")
_REFERENCE_START = re.compile(r"\$\{(?:env|file):")
_SECRET_FIELD = ("credentials", "client_secret")


@dataclass(frozen=True)
class _Entry:
    """A valid integration of one file, with where it was written."""

    spec: Integration
    doc: Document
    index: int

    @property
    def source(self) -> Source:
        mark = self.doc.locate(("integrations", self.index))
        return Source(self.doc.file, mark.line, mark.column)

    def problem(self, message: str, *path: str, key: bool = False) -> Problem:
        mark = self.doc.locate(("integrations", self.index, *path), key=key)
        return Problem(self.doc.file, mark.line, mark.column, message)

    def place(self, *path: str) -> str:
        mark = self.doc.locate(("integrations", self.index, *path), key=True)
        return f"{self.doc.file}:{mark.line}:{mark.column}"


@dataclass
class _File:
    """One manifest file: what validated, and whether it gave settings."""

    doc: Document
    settings_given: bool = False
    settings: Settings | None = None
    entries: list[_Entry] = field(default_factory=list)


def load(
    paths: Sequence[str | os.PathLike[str]],
    *,
    policy: Policy = DEFAULT_POLICY,
    environ: Mapping[str, str] | None = None,
    resolve_secrets: bool = True,
    redactor: Redactor | None = None,
) -> Desired:
    """Load, validate and merge manifest files and directories into a ``Desired``.

    ``policy`` (trusted) decides which ``${env:...}`` and ``${file:...}``
    references the (untrusted) manifests may use and where custom providers
    may point; every reference is checked from what is written before
    anything is looked up. ``environ`` (default ``os.environ``) resolves
    ``${env:...}`` references; ``redactor`` (if given) learns every value read
    through a reference as soon as it is read, so that no later message or
    output can show it.
    With ``resolve_secrets=False`` (``validate --no-secrets``) client secrets
    are only checked for syntax, while other references still resolve (they
    are not secrets): one whose variable is unset and has no default keeps its
    reference text as a stand-in, which passes fields that accept any text
    (``client_id``, ``description``...); a field with a format of its own
    (``slug``, ``ownership``, URLs) reports the unset variable, since it
    cannot be checked without it. With ``resolve_secrets=True`` every unset
    variable without a default is a problem at the value that names it.
    """
    # The documents built here hold no reference cycles, yet a large manifest
    # makes the cyclic collector rescan them again and again (half the time
    # of a 10,000-integration load): pause it for the load.
    collecting = gc.isenabled()
    gc.disable()
    try:
        resolver = Resolver(
            policy, os.environ if environ is None else environ, redactor or Redactor()
        )
        return _load(paths, resolver, resolve_secrets)
    finally:
        if collecting:
            gc.enable()


def _load(
    paths: Sequence[str | os.PathLike[str]], resolver: Resolver, resolve_secrets: bool
) -> Desired:
    if isinstance(paths, str | os.PathLike):
        paths = [paths]
    problems: list[Problem] = []
    if not paths:
        raise ManifestError([Problem(".", 0, 0, "no manifest file given")])
    environ = resolver.environ
    files = [
        _load_file(display, path, problems, resolver, strict=resolve_secrets)
        for display, path in _files(paths, problems)
    ]
    entries = [entry for file in files for entry in file.entries]
    settings = _one_settings(files, problems)
    problems.extend(_identity_problems(entries))
    problems.extend(_custom_provider_problems(entries))
    problems.extend(_url_problems(entries, resolver.policy))
    integrations = []
    for entry in entries:
        secret = _resolve_secret(entry, resolver, problems) if resolve_secrets else None
        integrations.append(DesiredIntegration(entry.spec, entry.source, secret))
    problems.extend(_exposed_secrets(entries, integrations, environ))
    if problems:
        raise ManifestError(problems)
    return Desired(
        integrations=tuple(integrations),
        settings=settings,
        files=tuple(file.doc.file for file in files),
    )


def _exposed_secrets(
    entries: list[_Entry], integrations: list[DesiredIntegration], environ: Mapping[str, str]
) -> list[Problem]:
    """A secret (a client secret of the run, or the API key) written into a plain field.

    Plain fields are shown in plans and sent as they are: a pull request could
    otherwise print the CI's secrets with ``description: ${env:WORKOS_API_KEY}``.
    """
    secrets = {i.client_secret.reveal() for i in integrations if i.client_secret is not None}
    api_key = environ.get(API_KEY_VARIABLE)
    if api_key:
        secrets.add(api_key)
    secrets = {value for value in secrets if len(value) >= MIN_SECRET_CHECKED}
    if not secrets:
        return []
    found = []
    for entry in entries:
        plain = entry.spec.model_dump(exclude={"credentials"}, exclude_unset=True)
        if entry.spec.credentials is not None and entry.spec.credentials.client_id:
            plain["credentials.client_id"] = entry.spec.credentials.client_id
        for name, value in plain.items():
            if any(secret in text for text in _strings(value) for secret in secrets):
                message = (
                    f"{name}: this value holds a secret (a client secret or {API_KEY_VARIABLE}); "
                    "secrets go in credentials.client_secret only, never in a plain field"
                )
                found.append(entry.problem(message, *name.split(".")))
    return found


def _strings(value: object) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield str(key)
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _files(
    paths: Iterable[str | os.PathLike[str]], problems: list[Problem]
) -> list[tuple[str, Path]]:
    """The manifest files to read, as (name to show, path), each once.

    A file that is a symlink out of its directory (the one given, or the one
    holding the file given) is refused without saying where it points: a pull
    request must not make the tool read, and quote, a file from elsewhere.
    """
    found: list[tuple[str, Path]] = []
    for given in paths:
        display, path = os.fspath(given), Path(given)
        if path.is_dir():
            children = sorted(
                (c for c in path.iterdir() if c.suffix in MANIFEST_SUFFIXES and c.is_file()),
                key=lambda child: child.name,
            )
            if not children:
                problems.append(Problem(display, 0, 0, "no *.yaml or *.yml manifest in directory"))
            found.extend((os.path.join(display, child.name), child) for child in children)
        elif path.exists() or path.is_symlink():
            found.append((display, path))
        else:
            problems.append(Problem(display, 0, 0, "no such file or directory"))
    seen: set[str] = set()
    unique = []
    for display, path in found:
        real = os.path.realpath(path)
        if not inside(real, os.path.realpath(path.parent)):
            message = "a symlink to a file outside its directory; refused"
            problems.append(Problem(display, 0, 0, message))
        elif real not in seen:
            seen.add(real)
            unique.append((display, path))
    return unique


def _load_file(
    display: str,
    path: Path,
    problems: list[Problem],
    resolver: Resolver,
    *,
    strict: bool,
) -> _File:
    """Parse, interpolate and validate one file; its valid integrations survive its problems."""
    try:
        data = read_bounded(path, MAX_MANIFEST_BYTES)
    except Unreadable as error:
        problems.append(Problem(display, 0, 0, str(error)))
        return _File(Document(display, None))
    doc = parse(data, display)
    problems.extend(doc.problems)
    file = _File(doc)
    root = doc.root
    if doc.fatal:
        return file
    if root is None or root.value is None:
        problems.append(
            Problem(display, 0, 0, "empty manifest; expected a mapping with version: 1")
        )
        return file
    if root.entries is None:
        shown = _kind_of(root.value)  # never quoted: the file may not be a manifest at all
        message = f"a manifest must be a mapping with version: 1, not {shown}"
        problems.append(Problem(display, root.mark.line, root.mark.column, message))
        return file
    references = _References(doc, resolver, strict=strict)
    content = references.interpolate(root)
    problems.extend(references.problems)
    try:
        manifest = Manifest.model_validate(content)
    except ValidationError as error:
        details = _relevant(error.errors(include_url=False))
        problems.extend(references.problems_for(details[:MAX_PROBLEMS_PER_FILE]))
        if len(details) > MAX_PROBLEMS_PER_FILE:
            hidden = len(details) - MAX_PROBLEMS_PER_FILE
            message = f"{hidden} more problems not shown (the first {MAX_PROBLEMS_PER_FILE} are)"
            problems.append(Problem(display, 0, 0, message))
        if any(detail["loc"] == ("version",) for detail in details):
            return file
        file.settings, valid = _valid_parts(content, details)
    else:
        file.settings, valid = manifest.settings, list(enumerate(manifest.integrations))
    file.settings_given = "settings" in root.entries
    file.entries = [_Entry(spec, doc, index) for index, spec in valid]
    return file


def _relevant(details: list[ErrorDetails]) -> list[ErrorDetails]:
    """A wrong version makes every other error of the file moot."""
    wrong_version = [d for d in details if d["loc"] == ("version",) and d["type"] != "missing"]
    return wrong_version or details


def _valid_parts(
    data: dict[str, Any], details: list[ErrorDetails]
) -> tuple[Settings | None, list[tuple[int, Integration]]]:
    """The settings and integrations of a file that have no error of their own."""
    locs = [detail["loc"] for detail in details]
    settings = None
    if not any(loc[:1] == ("settings",) for loc in locs) and isinstance(data.get("settings"), dict):
        settings = Settings.model_validate(data["settings"])
    items = data.get("integrations")
    if not isinstance(items, list) or ("integrations",) in locs:
        return settings, []
    failed = {loc[1] for loc in locs if loc[:1] == ("integrations",) and len(loc) > 1}
    valid = [(i, item) for i, item in enumerate(items) if i not in failed]
    return settings, [(i, Integration.model_validate(item)) for i, item in valid]


def _problem_for(doc: Document, detail: ErrorDetails, origin: str | None = None) -> Problem:
    """A pydantic error as a problem at the YAML node it is about.

    ``origin`` is the reference the checked value came from, if it came from one.
    """
    loc: Loc = tuple(detail["loc"])
    if detail["type"] == "extra_forbidden":
        mark = doc.locate(loc, key=True)
    elif detail["type"] == "missing":
        mark = doc.locate(loc[:-1])
    else:
        mark = doc.locate(loc)
    message = _message(detail, loc, hide_value=origin is not None)
    if origin is not None:
        message += f" (from {origin})"
    return Problem(doc.file, mark.line, mark.column, message)


class _References:
    """Resolves the ``${env:...}`` references of one file before validation.

    Remembers, by location, which values came from a reference (for messages),
    which kept an unset reference as a stand-in, and where a problem was
    already reported (so that validation errors about those values, which
    are about the stand-in rather than what the user wrote, are not repeated).
    """

    def __init__(self, doc: Document, resolver: Resolver, *, strict: bool) -> None:
        self.doc = doc
        self.resolver = resolver
        self.strict = strict
        self.problems: list[Problem] = []
        self.resolved: dict[Loc, str] = {}
        self.unresolved: dict[Loc, tuple[str, str]] = {}
        self.reported: set[Loc] = set()

    def interpolate(self, root: Node) -> Any:
        """The plain value of ``root`` with references resolved (shared where unchanged)."""
        return self._walk(root, (), Manifest)

    def problems_for(self, details: list[ErrorDetails]) -> list[Problem]:
        """Problems for validation errors, minus those a reference already explains."""
        found = []
        for detail in details:
            loc: Loc = tuple(detail["loc"])
            if loc in self.reported:
                continue
            if loc in self.unresolved:
                reference, name = self.unresolved[loc]
                label = _label(_split(loc)[1])
                message = (
                    f"{label}: {reference}: environment variable {name} is not set, "
                    f"and {label} cannot be checked without it"
                )
                found.append(self._at(loc, message))
                continue
            found.append(_problem_for(self.doc, detail, self.resolved.get(loc)))
        return found

    def _walk(self, node: Node, loc: Loc, annotation: Any) -> Any:
        """``node``'s value with references resolved; the same object if none changed."""
        if node.entries is not None:
            children: Iterable[tuple[str | int, Node]] = (
                (name, entry.node) for name, entry in node.entries.items()
            )
        elif node.items is not None:
            children = enumerate(node.items)
        elif isinstance(node.value, str) and "${" in node.value:
            return self._scalar(node.value, loc, annotation)
        else:
            return node.value
        changed: dict[str | int, Any] = {}
        for part, child in children:
            if child.entries is None and child.items is None:
                text = child.value
                if not (isinstance(text, str) and "${" in text):
                    continue  # the common case, kept out of the recursion
            new = self._walk(child, (*loc, part), _child_annotation(annotation, part))
            if new is not child.value:
                changed[part] = new
        if not changed:
            return node.value
        if isinstance(node.value, dict):
            return {**node.value, **changed}
        return [changed.get(index, item) for index, item in enumerate(node.value)]

    def _scalar(self, value: str, loc: Loc, annotation: Any) -> Any:
        """One string value that may be a reference: its resolved value, or itself."""
        if len(loc) == 4 and loc[0] == "integrations" and loc[2:] == _SECRET_FIELD:
            secret = ENV_REFERENCE.fullmatch(value)
            if secret is not None and secret.group(2) is not None:
                self._report(
                    loc,
                    "client_secret: a default (:-) is not allowed here: it would be a literal "
                    f"secret in the manifest; write ${{env:{secret.group(1)}}} and set the "
                    "variable, or use ${file:path}",
                )
                return value
            refusal = _secret_refusal(value, self.doc.file, self.resolver)
            if refusal is not None:
                self._report(loc, f"client_secret: {value} {refusal}")
            return value  # resolved into a Secret after validation
        if annotation is None:
            return value  # an unknown key, or a wrong structure: validation says which
        label = _label(_split(loc)[1])
        reference = _REFERENCE.fullmatch(value)
        if reference is None:
            if _REFERENCE_START.search(value):
                self._report(
                    loc,
                    f"{label}: a reference must be the whole value ({label}: ${{env:NAME}}); "
                    "text around it is not interpolated",
                )
            return value
        if not _is_text(annotation):
            self._report(
                loc,
                f"{label}: ${{env:...}} references work in string fields only; "
                f"{label} takes {_expected_kind(annotation)}",
            )
            return value
        if reference.group(1) == "file":
            self._report(
                loc,
                f"{label}: ${{file:...}} references are for credentials.client_secret only; "
                "use ${env:NAME} here",
            )
            return value
        match = ENV_REFERENCE.fullmatch(value)
        if match is None:
            self._report(
                loc,
                f"{label}: {value}: not a valid environment variable name; "
                "use letters, digits and _, not starting with a digit",
            )
            return value
        name, default = match.groups()
        refusal = self.resolver.env_refusal(name)
        if refusal is not None:
            self._report(loc, f"{label}: {value} {refusal}")
            return value
        try:
            current = self.resolver.plain_env(name)
        except RefusedValue as error:
            self._report(loc, f"{label}: {value}: {error}")
            return value
        if current or (current is not None and default is None):
            self.resolved[loc] = value
            return current
        if default is not None:
            self.resolved[loc] = value
            return default
        if self.strict:
            self._report(loc, f"{label}: {value}: environment variable {name} is not set")
        else:
            self.unresolved[loc] = (value, name)
        return value

    def _report(self, loc: Loc, message: str) -> None:
        self.reported.add(loc)
        problem = self._at(loc, message)
        if problem not in self.problems:  # an aliased node is reached by several paths
            self.problems.append(problem)

    def _at(self, loc: Loc, message: str) -> Problem:
        mark = self.doc.locate(loc)
        return Problem(self.doc.file, mark.line, mark.column, message)


@functools.lru_cache(maxsize=256)
def _child_annotation(annotation: Any, part: str | int) -> Any:
    """The type expected at ``part`` inside a value of type ``annotation`` (None if unknown)."""
    annotation = _without_none(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field_info = annotation.model_fields.get(part) if isinstance(part, str) else None
        return field_info.annotation if field_info is not None else None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin is list and isinstance(part, int) and args:
        return args[0]
    if origin is dict and isinstance(part, str) and len(args) == 2:
        return args[1]
    return None


def _is_text(annotation: Any) -> bool:
    """True for a string field (plain, or a choice of strings)."""
    annotation = _without_none(annotation)
    if annotation is str:
        return True
    return get_origin(annotation) is Literal and all(
        isinstance(choice, str) for choice in get_args(annotation)
    )


def _expected_kind(annotation: Any) -> str:
    annotation = _without_none(annotation)
    origin = get_origin(annotation)
    if annotation is bool:
        return "true or false"
    if annotation in (int, float):
        return "a number"
    if origin is list:
        return "a list"
    if origin is dict or (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
        return "a mapping"
    if origin is Literal:
        return " or ".join(describe_value(choice) for choice in get_args(annotation))
    return "a value that is not a string"


def _message(detail: ErrorDetails, loc: Loc, *, hide_value: bool = False) -> str:
    """A human message for one pydantic error; never shows a credential's value, nor
    (``hide_value``) a value read through a reference."""
    kind, value, ctx = detail["type"], detail["input"], detail.get("ctx", {})
    model, relative = _split(loc)
    label = _label(relative)
    hidden = hide_value or loc[-1:] == ("credentials",)
    shown = _kind_of(value) if hidden else describe_value(value)
    if loc == ("version",):
        if kind == "missing":
            return "missing required key 'version' at top level; this reconciler reads version 1"
        return f"unsupported manifest version {shown}; this reconciler reads version 1"
    if kind == "extra_forbidden":
        return _unknown_key(str(relative[0]), model)
    if kind == "missing":
        return f"missing required key {relative[0]!r} {_where(model)}"
    field_info = model.model_fields.get(str(relative[0])) if len(relative) == 1 else None
    if value is None and field_info is not None and not field_info.is_required():
        return f"{label}: {NOT_NULL_MESSAGE}"
    if "client_secret" in loc:
        return SECRET_LITERAL_MESSAGE
    if kind == "bool_type" and isinstance(value, str) and value.lower() in ("true", "false"):
        return f"{label}: expected true or false, got the string {shown}; remove the quotes"
    if kind in _EXPECTED:
        return f"{label}: expected {_EXPECTED[kind]}, got {shown}"
    if kind == "literal_error":
        return f"{label}: expected {ctx['expected']}, got {shown}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == SLUG_PATTERN:
        return f"{label}: {shown} is not a valid slug; use {SLUG_RULE}"
    if kind == "value_error":
        text = str(ctx["error"])
        if isinstance(value, dict):
            return text
        return f"{label}: {text}" if isinstance(value, list) else f"{label}: {text}, got {shown}"
    if kind == "string_too_short":
        return f"{label}: must not be empty"
    if kind == "too_long":
        return f"{label}: at most {ctx['max_length']:,} items, got more"
    if kind == "too_short":
        least = ctx["min_length"]
        return f"{label}: must not be empty" if least == 1 else f"{label}: needs {least}+ items"
    if kind in _BOUNDS:
        words, bound = _BOUNDS[kind]
        return f"{label}: must be {words} {ctx[bound]:g}, got {shown}"
    return f"{label}: {detail['msg']}"


def _unknown_key(key: str, model: type[BaseModel]) -> str:
    """``unknown key 'scoeps' in integration; did you mean 'scopes'?``"""
    known = sorted(model.model_fields)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
    return f"unknown key {describe_value(key)} {_where(model)}; {hint}"


def _where(model: type[BaseModel]) -> str:
    return _WHERE.get(model, f"in {model.__name__}")


def _split(loc: Loc) -> tuple[type[BaseModel], Loc]:
    """The innermost model ``loc`` goes through, and the rest of ``loc`` from it."""
    model: type[BaseModel] = Manifest
    start = 0
    annotation: Any = Manifest
    for index, part in enumerate(loc):
        annotation = _without_none(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model, start = annotation, index
            field_info = annotation.model_fields.get(part) if isinstance(part, str) else None
            if field_info is None:
                break
            annotation = field_info.annotation
        else:
            args = get_args(annotation)
            annotation = args[-1] if args else None
    return model, loc[start:]


def _without_none(annotation: Any) -> Any:
    if get_origin(annotation) in (Union, UnionType):
        args = [arg for arg in get_args(annotation) if arg is not NoneType]
        return args[0] if len(args) == 1 else annotation
    return annotation


def _label(relative: Loc) -> str:
    """``scopes[2]``, ``config.account``: a path inside one model."""
    text = ""
    for part in relative:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _kind_of(value: object) -> str:
    """A value's kind only, for places where the value itself may be a secret."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return describe_value(value)


def _one_settings(files: list[_File], problems: list[Problem]) -> Settings:
    """The one settings block of the run (defaults if none)."""
    first: _File | None = None
    for file in files:
        if not file.settings_given:
            continue
        if first is None:
            first = file
            continue
        mark, at = (
            file.doc.locate(("settings",), key=True),
            first.doc.locate(("settings",), key=True),
        )
        message = (
            f"settings may appear in one file only; already given at {first.doc.file}:{at.line}"
        )
        problems.append(Problem(file.doc.file, mark.line, mark.column, message))
    return first.settings if first is not None and first.settings is not None else Settings()


def _identity_problems(entries: list[_Entry]) -> list[Problem]:
    """Each (slug, ownership) may be declared once in the whole run."""
    problems = []
    first: dict[tuple[str, str], _Entry] = {}
    for entry in entries:
        earlier = first.setdefault(entry.spec.identity, entry)
        if earlier is not entry:
            slug, ownership = entry.spec.identity
            message = (
                f"duplicate integration {slug!r} (ownership {ownership}); "
                f"first defined at {earlier.source}"
            )
            problems.append(entry.problem(message))
    return problems


def _custom_provider_problems(entries: list[_Entry]) -> list[Problem]:
    """No built-in slug redefined; one shared definition per custom provider."""
    problems = []
    definitions: dict[str, _Entry] = {}
    for entry in entries:
        provider, slug = entry.spec.custom_provider, entry.spec.slug
        if provider is None:
            continue
        if slug in BUILTIN_SLUGS:
            message = (
                f"custom_provider given for {slug!r}, a built-in provider; "
                "a custom provider needs a slug of its own"
            )
            problems.append(entry.problem(message, "custom_provider", key=True))
            continue
        earlier = definitions.setdefault(slug, entry)
        if earlier is entry or earlier.spec.ownership == entry.spec.ownership:
            continue
        assert earlier.spec.custom_provider is not None
        differing = _differing(earlier.spec.custom_provider, provider)
        if differing:
            message = (
                f"custom_provider of {slug!r} differs in {', '.join(differing)} from the one at "
                f"{earlier.place('custom_provider')}; the user and organization integrations "
                "of a custom provider share one definition"
            )
            problems.append(entry.problem(message, "custom_provider", key=True))
    return problems


def _differing(first: CustomProvider, second: CustomProvider) -> list[str]:
    """The fields both definitions give, with different values."""
    both = first.model_fields_set & second.model_fields_set
    return sorted(name for name in both if getattr(first, name) != getattr(second, name))


def _resolve_secret(entry: _Entry, resolver: Resolver, problems: list[Problem]) -> Secret | None:
    """The client secret an entry's reference points to; a problem if unusable.

    A reference the policy refuses was reported while interpolating: it is
    never looked up.
    """
    credentials = entry.spec.credentials
    if credentials is None or credentials.client_secret is None:
        return None
    reference = credentials.client_secret
    match = SECRET_REFERENCE.fullmatch(reference)
    assert match is not None, "validated by the Credentials model"
    scheme, target = match.groups()
    if scheme == "env" and ":-" in target:
        return None  # a default: already reported while interpolating
    if _secret_refusal(reference, entry.doc.file, resolver) is not None:
        return None
    if scheme == "env":
        secret, failure = resolver.secret_env(target)
    else:
        secret, failure = resolver.secret_file(entry.doc.file, target)
    if failure is not None:
        message = f"client_secret: {reference}: {failure}"
        problems.append(entry.problem(message, "credentials", "client_secret"))
    return secret


def _secret_refusal(reference: str, manifest_file: str, resolver: Resolver) -> str | None:
    """Why the policy refuses a client_secret reference (None if it allows it, or if
    it is not a reference at all: validation says so)."""
    match = SECRET_REFERENCE.fullmatch(reference)
    if match is None:
        return None
    scheme, target = match.groups()
    if scheme == "file":
        return resolver.file_refusal(manifest_file, target)
    env = ENV_REFERENCE.fullmatch(reference)
    return None if env is None else resolver.env_refusal(env.group(1))


_PROVIDER_URLS = ("authorization_url", "token_url", "refresh_token_url")


def _url_problems(entries: list[_Entry], policy: Policy) -> list[Problem]:
    """Custom providers may point only where the policy allows (a token URL
    receives the client secret)."""
    problems = []
    for entry in entries:
        provider = entry.spec.custom_provider
        if provider is None:
            continue
        for name in _PROVIDER_URLS:
            url = getattr(provider, name)
            refusal = None if url is None else policy.url_refusal(url)
            if refusal is not None:
                message = f"custom_provider.{name}: this URL {refusal}"
                problems.append(entry.problem(message, "custom_provider", name))
    return problems
