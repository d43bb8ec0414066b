"""``${env:...}`` references in a manifest's plain fields, resolved before validation.

A string field whose whole value is ``${env:NAME}`` or ``${env:NAME:-default}``
takes the variable's value (the default when NAME is unset or empty, as in the
shell; an empty default is allowed), so the resolved value is what validation
checks. References work in string fields only (``enabled: ${env:X}`` is a
problem), must be the whole value, and ``${file:...}`` is for
``client_secret`` only. ``client_secret`` keeps its own rules: it stays a
reference here (resolved into a ``Secret`` after validation), and never takes
a default (that would be a literal secret).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any, Literal, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from reconciler.errors import Problem
from reconciler.manifest.messages import Loc, label, problem_for, split, without_none
from reconciler.manifest.references import (
    ENV_REFERENCE,
    REFERENCE,
    REFERENCE_START,
    RefusedValue,
    Resolver,
    unknown_kind,
)
from reconciler.models import Manifest
from reconciler.yamlsource import Document, Node, describe_value

_SECRET_FIELD = ("credentials", "client_secret")


class Interpolator:
    """Resolves the ``${env:...}`` references of one file before validation.

    Remembers, by location, which values came from a reference (for messages),
    which kept an unset reference as a stand-in, and where a problem was
    already reported (so that validation errors about those values, which
    are about the stand-in rather than what the user wrote, are not repeated).
    With ``strict=False`` (client secrets not resolved) an unset variable
    without a default keeps its reference text as a stand-in instead of being
    a problem at once.
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
                field = label(split(loc)[1])
                message = (
                    f"{field}: {reference}: environment variable {name} is not set, "
                    f"and {field} cannot be checked without it"
                )
                found.append(self._at(loc, message))
                continue
            found.append(problem_for(self.doc, detail, self.resolved.get(loc)))
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
            return self._secret(value, loc)
        if annotation is None:
            return value  # an unknown key, or a wrong structure: validation says which
        return self._plain(value, loc, annotation)

    def _secret(self, value: str, loc: Loc) -> str:
        """A client_secret, left as written: resolved into a ``Secret`` after
        validation; only a default, an unknown kind, or a reference the policy refuses, is
        reported here."""
        kind = unknown_kind(value)
        if kind is not None:
            self._report(
                loc,
                f"client_secret: unknown reference kind {describe_value(kind)}: "
                "use ${env:NAME} or ${file:path}",
            )
            return value
        secret = ENV_REFERENCE.fullmatch(value)
        if secret is not None and secret.group(2) is not None:
            self._report(
                loc,
                "client_secret: a default (:-) is not allowed here: it would be a literal "
                f"secret in the manifest; write ${{env:{secret.group(1)}}} and set the "
                "variable, or use ${file:path}",
            )
            return value
        refusal = self.resolver.secret_refusal(value, self.doc.file)
        if refusal is not None:
            self._report(loc, f"client_secret: {value} {refusal}")
        return value

    def _plain(self, value: str, loc: Loc, annotation: Any) -> Any:
        """A plain field's value: a reference's value if it is a usable one, else itself."""
        field = label(split(loc)[1])
        reference = REFERENCE.fullmatch(value)
        kind = unknown_kind(value) if reference is None else None
        if kind is not None:
            self._report(
                loc, f"{field}: unknown reference kind {describe_value(kind)}: use ${{env:NAME}}"
            )
            return value
        if reference is None:
            if REFERENCE_START.search(value):
                self._report(
                    loc,
                    f"{field}: a reference must be the whole value ({field}: ${{env:NAME}}); "
                    "text around it is not interpolated",
                )
            return value
        if not _is_text(annotation):
            self._report(
                loc,
                f"{field}: ${{env:...}} references work in string fields only; "
                f"{field} takes {_expected_kind(annotation)}",
            )
            return value
        if reference.group(1) == "file":
            self._report(
                loc,
                f"{field}: ${{file:...}} references are for credentials.client_secret only; "
                "use ${env:NAME} here",
            )
            return value
        match = ENV_REFERENCE.fullmatch(value)
        if match is None:
            self._report(
                loc,
                f"{field}: {value}: not a valid environment variable name; "
                "use letters, digits and _, not starting with a digit",
            )
            return value
        name, default = match.groups()
        return self._env(value, loc, field, name, default)

    def _env(self, value: str, loc: Loc, field: str, name: str, default: str | None) -> str:
        """``${env:name}`` or ``${env:name:-default}`` in the plain field ``field``."""
        refusal = self.resolver.env_refusal(name)
        if refusal is not None:
            self._report(loc, f"{field}: {value} {refusal}")
            return value
        try:
            current = self.resolver.plain_env(name)
        except RefusedValue as error:
            self._report(loc, f"{field}: {value}: {error}")
            return value
        if current or (current is not None and default is None):
            self.resolved[loc] = value
            return current
        if default is not None:
            self.resolved[loc] = value
            return default
        if self.strict:
            self._report(loc, f"{field}: {value}: environment variable {name} is not set")
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
    annotation = without_none(annotation)
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
    annotation = without_none(annotation)
    if annotation is str:
        return True
    return get_origin(annotation) is Literal and all(
        isinstance(choice, str) for choice in get_args(annotation)
    )


def _expected_kind(annotation: Any) -> str:
    annotation = without_none(annotation)
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
