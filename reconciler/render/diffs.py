"""How one field's change reads in a plan, whatever the format.

A plan shows each change element by element, as Terraform does: a set or
list gives a line per element added or removed, a map a line per key (the
planner already splits maps into ``config.account`` changes), a create or a
delete the value alone, a replace's kept values marked ``carried over``. The
text and Markdown renderers turn these rows into their own lines.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from reconciler.escaping import for_terminal
from reconciler.plan import ActionKind, FieldChange, KeyAction


class Sign(StrEnum):
    ADD = "+"
    REMOVE = "-"
    CHANGE = "~"
    SAME = " "


@dataclass(frozen=True)
class Row:
    """One line of a field's change: ``~ scopes:`` with its elements, ``+ config.a: "b"``..."""

    sign: Sign
    path: str
    before: str | None = None
    after: str | None = None
    elements: tuple[tuple[Sign, str], ...] = ()
    note: str = ""


def format_value(value: Any, sensitive: bool = False) -> str:
    """A field value as shown in a plan: JSON, or the masked form for secrets; one safe line."""
    if sensitive and isinstance(value, str):
        return for_terminal(value)
    return for_terminal(json.dumps(value, ensure_ascii=False, sort_keys=True))


def row(change: FieldChange, kind: ActionKind) -> Row:
    """How ``change`` reads in an action of ``kind``."""
    path = for_terminal(change.path)
    before = format_value(change.before, change.sensitive)
    after = format_value(change.after, change.sensitive)
    note = "forces replacement" if change.forces_replacement else ""
    if kind is ActionKind.CREATE and change.before is None:
        return Row(Sign.ADD, path, after=after)
    if kind is ActionKind.DELETE:
        return Row(Sign.REMOVE, path, before=before)
    if not change.changed:
        return Row(
            Sign.SAME, path, before, after, note="carried over" if change.carried_over else ""
        )
    if change.added or change.removed:
        elements = (
            *((Sign.ADD, format_value(item)) for item in change.added or ()),
            *((Sign.REMOVE, format_value(item)) for item in change.removed or ()),
        )
        return Row(Sign.CHANGE, path, before, after, elements=elements, note=note)
    if change.key_action is KeyAction.ADDED:
        return Row(Sign.ADD, path, after=after, note=note)
    if change.key_action is KeyAction.REMOVED:
        return Row(Sign.REMOVE, path, before=before, note=note)
    return Row(Sign.CHANGE, path, before, after, note=note)
