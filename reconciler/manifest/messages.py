"""Pydantic's validation errors reworded as problems at file:line:column.

Pydantic reports a path into the data and its own wording; a manifest's author
needs the line and column, the field as written (``scopes[2]``), what was
expected in YAML's words, and a hint for the usual mistakes (a quoted
boolean, a misspelt key). A value is never shown where it may be a secret: a
credential's, or one read through a reference.
"""

from __future__ import annotations

import difflib
from types import NoneType, UnionType
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from reconciler.errors import Problem
from reconciler.models import (
    EXTENSION_PREFIX,
    NOT_NULL_MESSAGE,
    SLUG_PATTERN,
    Credentials,
    CustomProvider,
    Integration,
    Manifest,
    Settings,
)
from reconciler.yamlsource import Document, describe_value

Loc = tuple[str | int, ...]
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


def problem_for(doc: Document, detail: ErrorDetails, origin: str | None = None) -> Problem:
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


def _message(detail: ErrorDetails, loc: Loc, *, hide_value: bool = False) -> str:
    """A human message for one pydantic error; never shows a credential's value, nor
    (``hide_value``) a value read through a reference."""
    kind, value = detail["type"], detail["input"]
    model, relative = split(loc)
    if loc == ("version",):
        if kind == "missing":
            return "missing required key 'version' at top level; this reconciler reads version 1"
        shown = kind_of(value) if hide_value else describe_value(value)
        return f"unsupported manifest version {shown}; this reconciler reads version 1"
    if kind == "extra_forbidden":
        return _unknown_key(str(relative[0]), model)
    if kind == "missing":
        return f"missing required key {relative[0]!r} {_where(model)}"
    field_info = model.model_fields.get(str(relative[0])) if len(relative) == 1 else None
    if value is None and field_info is not None and not field_info.is_required():
        return f"{label(relative)}: {NOT_NULL_MESSAGE}"
    if "client_secret" in loc:
        return SECRET_LITERAL_MESSAGE
    hidden = hide_value or loc[-1:] == ("credentials",)
    return _value_message(detail, label(relative), kind_of(value) if hidden else None)


def _value_message(detail: ErrorDetails, name: str, hidden: str | None) -> str:
    """The message for a value of the wrong kind or out of bounds; ``hidden`` (the
    value's kind) stands for the value where it must not be shown."""
    kind, value, ctx = detail["type"], detail["input"], detail.get("ctx", {})
    shown = describe_value(value) if hidden is None else hidden
    if kind == "bool_type" and isinstance(value, str) and value.lower() in ("true", "false"):
        return f"{name}: expected true or false, got the string {shown}; remove the quotes"
    if kind in _EXPECTED:
        return f"{name}: expected {_EXPECTED[kind]}, got {shown}"
    if kind == "literal_error":
        return f"{name}: expected {ctx['expected']}, got {shown}"
    if kind == "string_pattern_mismatch" and ctx.get("pattern") == SLUG_PATTERN:
        return f"{name}: {shown} is not a valid slug; use {SLUG_RULE}"
    if kind == "value_error":
        text = str(ctx["error"])
        if isinstance(value, dict):
            return text
        return f"{name}: {text}" if isinstance(value, list) else f"{name}: {text}, got {shown}"
    if kind == "string_too_short":
        return f"{name}: must not be empty"
    if kind == "too_long":
        return f"{name}: at most {ctx['max_length']:,} items, got more"
    if kind == "too_short":
        least = ctx["min_length"]
        return f"{name}: must not be empty" if least == 1 else f"{name}: needs {least}+ items"
    if kind in _BOUNDS:
        words, bound = _BOUNDS[kind]
        return f"{name}: must be {words} {ctx[bound]:g}, got {shown}"
    return f"{name}: {detail['msg']}"


def _unknown_key(key: str, model: type[BaseModel]) -> str:
    """``unknown key 'scoeps' in integration; did you mean 'scopes'?``"""
    known = sorted(model.model_fields)
    close = difflib.get_close_matches(key, known, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"expected one of: {', '.join(known)}"
    if model is Manifest and not close:
        hint += f" (or an extension field, {EXTENSION_PREFIX}..., which is ignored)"
    return f"unknown key {describe_value(key)} {_where(model)}; {hint}"


def _where(model: type[BaseModel]) -> str:
    return _WHERE.get(model, f"in {model.__name__}")


def split(loc: Loc) -> tuple[type[BaseModel], Loc]:
    """The innermost model ``loc`` goes through, and the rest of ``loc`` from it."""
    model: type[BaseModel] = Manifest
    start = 0
    annotation: Any = Manifest
    for index, part in enumerate(loc):
        annotation = without_none(annotation)
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


def without_none(annotation: Any) -> Any:
    """``X`` for ``X | None``; any other annotation as it is."""
    if get_origin(annotation) in (Union, UnionType):
        args = [arg for arg in get_args(annotation) if arg is not NoneType]
        return args[0] if len(args) == 1 else annotation
    return annotation


def label(relative: Loc) -> str:
    """``scopes[2]``, ``config.account``: a path inside one model."""
    text = ""
    for part in relative:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def kind_of(value: object) -> str:
    """A value's kind only, for places where the value itself may be a secret."""
    if isinstance(value, str):
        return "a string"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "a number"
    return describe_value(value)
