"""YAML 1.2 core-schema scalars: what a plain or core-tagged scalar's text reads as.

PyYAML resolves scalars by YAML 1.1, where ``yes``, ``on`` and ``0o17`` mean
other things than they do in 1.2; the composer of ``reconciler.yamlsource`` resolves them
here instead, so a manifest reads the way current YAML tools read it.
"""

from __future__ import annotations

import re
from typing import Any, Final

from yaml.events import ScalarEvent

TAG_PREFIX: Final = "tag:yaml.org,2002:"
_NULL = re.compile(r"~|null|Null|NULL|")
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOATS = {
    **{
        f"{sign}.{inf}": float(f"{sign}inf")
        for sign in ("", "+", "-")
        for inf in ("inf", "Inf", "INF")
    },
    **{f".{nan}": float("nan") for nan in ("nan", "NaN", "NAN")},
}
_NON_STRING_STARTS = frozenset("0123456789+-.~nNtTfF")


def reads_as_string(text: str) -> bool:
    """Whether ``text``, written as a plain scalar, reads back as that string here.

    For writers of manifests (the exporter): PyYAML's dumper quotes what YAML
    1.1 would not read as a string, but ``0o17`` or ``1e3`` are numbers only in
    the YAML 1.2 core schema this module reads.
    """
    return _plain_kind(text) == "str"


def resolve(event: ScalarEvent) -> Any:
    """The value of a scalar: YAML 1.2 core schema for plain and core-tagged ones."""
    text = event.value
    if event.tag is None:
        if not event.implicit[0] or (text and text[0] not in _NON_STRING_STARTS):
            return text
        kind = _plain_kind(text)
    elif (
        event.tag.startswith(TAG_PREFIX)
        and tag_kind(event.tag) == "core"
        and matches_tag(event.tag, text)
    ):
        kind = event.tag.removeprefix(TAG_PREFIX)
    else:
        return text
    return _construct(kind, text)


def tag_kind(tag: str) -> str:
    """``str``, ``core`` (null, bool, int, float) or ``other`` (refused)."""
    name = tag.removeprefix(TAG_PREFIX) if tag.startswith(TAG_PREFIX) else ""
    if name == "str":
        return "str"
    return "core" if name in ("null", "bool", "int", "float") else "other"


def short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix(TAG_PREFIX)


def matches_tag(tag: str, text: str) -> bool:
    """Whether ``text`` is a valid value for the core ``tag`` it was given."""
    name = tag.removeprefix(TAG_PREFIX)
    return (
        name == "str"
        or _plain_kind(text) == name
        or (name == "float" and _plain_kind(text) == "int")
    )


def _plain_kind(text: str) -> str:
    if _NULL.fullmatch(text):
        return "null"
    if text in _BOOL:
        return "bool"
    if _INT.fullmatch(text):
        return "int"
    if _FLOAT.fullmatch(text) or text in _SPECIAL_FLOATS:
        return "float"
    return "str"


def _construct(kind: str, text: str) -> Any:
    if kind == "null":
        return None
    if kind == "bool":
        return _BOOL[text]
    if kind == "int":
        try:
            if text.startswith(("0o", "0x")):
                return int(text[2:], 8 if text[1] == "o" else 16)
            return int(text)
        except ValueError:  # beyond Python's int-from-string digit limit: keep the text
            return text
    if kind == "float":
        return _SPECIAL_FLOATS[text] if text in _SPECIAL_FLOATS else float(text)
    return text
