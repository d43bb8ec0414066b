"""References in a manifest, resolved (plain variables) or checked (secrets) before validation.

``credentials.client_secret`` takes ``${env:NAME}`` or ``${file:PATH}``
only: it stays a reference here (checked against the policy from what is
written) and is resolved into a ``Secret`` after validation. Every other
string field may be ``${var:NAME}`` or ``${var:NAME:-default}``: the
variable's value (the default when unset or empty, as in the shell), printed
like a literal, so validation checks it. A secret reference anywhere else, a
variable in the secret field, a reference inside other text or in a field
that is not a string: each is a problem at the value. ``$${`` writes a
literal ``${`` in a plain field.
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
    REFERENCE_START,
    SECRET_KINDS,
    VAR_KIND,
    Reference,
    RefusedValue,
    Resolver,
)
from reconciler.models import Manifest
from reconciler.yamlsource import Document, Node, describe_value

_SECRET_FIELD = ("credentials", "client_secret")
ESCAPE = "$${"
"""Written in a plain field for a literal ``${`` (``$${vault:k}`` is the text ``${vault:k}``)."""


class Interpolator:
    """Resolves the ``${var:...}`` references of one file before validation, and checks
    the secret references (``${env:}``, ``${file:}``) from what is written.

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
        validation; a reference of another kind, or one the policy refuses, is reported
        here, from what is written alone."""
        reference = Reference.parse(value)
        if reference is None:
            return value  # a literal: validation explains how to write a reference
        if reference.kind not in SECRET_KINDS:
            hint = (
                "a ${var:} value is printed, never a secret"
                if reference.kind == VAR_KIND
                else f"unknown reference kind {describe_value(reference.kind)}"
            )
            self._report(loc, f"client_secret: {hint}: use ${{env:NAME}} or ${{file:path}}")
            return value
        refusal = self.resolver.secret_refusal(reference, self.doc.file)
        if refusal is not None:
            self._report(loc, f"client_secret: {reference.shown} {refusal}")
        return value

    def _plain(self, value: str, loc: Loc, annotation: Any) -> Any:
        """A plain field's value: a variable's value if it is a usable one, else itself."""
        field = label(split(loc)[1])
        if ESCAPE in value:
            return self._escaped(value, loc, field)
        reference = Reference.parse(value)
        if reference is None:
            if REFERENCE_START.search(value):
                self._report(
                    loc,
                    f"{field}: a reference must be the whole value ({field}: ${{var:NAME}}); "
                    "text around it is not interpolated",
                )
            return value
        if reference.kind != VAR_KIND:
            why = (
                f"${{{reference.kind}:...}} references are secrets: they resolve in "
                "credentials.client_secret only"
                if reference.kind in SECRET_KINDS
                else f"unknown reference kind {describe_value(reference.kind)}"
            )
            self._report(loc, f"{field}: {why}; a plain value may be ${{var:NAME}}")
            return value
        if not _is_text(annotation):
            self._report(
                loc,
                f"{field}: ${{var:...}} references work in string fields only; "
                f"{field} takes {_expected_kind(annotation)}",
            )
            return value
        refusal = self.resolver.var_refusal(reference)
        if refusal is not None:
            self._report(loc, f"{field}: {value} {refusal}")
            return value
        return self._var(value, loc, field, reference)

    def _escaped(self, value: str, loc: Loc, field: str) -> str:
        """A value with ``$${``: each stands for a literal ``${`` (as in Terraform); a
        reference beside one is a problem, as any reference inside other text."""
        parts = value.split(ESCAPE)
        if any(REFERENCE_START.search(part) for part in parts):
            self._report(
                loc,
                f"{field}: a reference must be the whole value ({field}: ${{var:NAME}}); "
                "text around it is not interpolated",
            )
            return value
        return "${".join(parts)

    def _var(self, value: str, loc: Loc, field: str, reference: Reference) -> str:
        """``${var:name}`` or ``${var:name:-default}`` in the plain field ``field``."""
        name, default = reference.name, reference.default
        try:
            current = self.resolver.var(name)
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
