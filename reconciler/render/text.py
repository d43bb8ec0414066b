"""The text renderer: a Plan (or an apply result) for terminals and logs. It never prints.

Slugs, paths, values, reasons, warnings, file names and API messages are
untrusted: each passes through ``for_terminal`` where it is formatted (JSON
through ``for_json``), so that none can forge a line or reach the terminal raw.
"""

from __future__ import annotations

from typing import Any

import click

from reconciler.escaping import for_terminal
from reconciler.identity import Identity
from reconciler.plan import DISPLAY_ORDER, Action, ActionKind, FieldChange, Plan, Target, Targeting
from reconciler.render.diffs import Sign, row
from reconciler.results import ActionResult, ApplyResult, Outcome, Recovery

SYMBOLS = {
    ActionKind.CREATE: ("+", "green"),
    ActionKind.UPDATE: ("~", "yellow"),
    ActionKind.REPLACE: ("-/+", "red"),
    ActionKind.DELETE: ("-", "red"),
}
HEADLINES = {
    ActionKind.CREATE: "will be created",
    ActionKind.UPDATE: "will be updated in place",
    ActionKind.REPLACE: "must be replaced",
    ActionKind.DELETE: "will be deleted",
}
DESTROYS = "destroys all its connected accounts"
ADOPTED = "will be managed; no change"


def render_header(target: Target) -> str:
    files = ", ".join(for_terminal(name) for name in target.files)
    return (
        f"Target:    {for_terminal(target.api_url)} (API key {for_terminal(target.api_key_hint)})\n"
        f"Manifests: {files}\n"
        f"Policy:    {for_terminal(target.policy)}"
    )


def _style(text: str, color: bool, **styles: Any) -> str:
    return click.style(text, **styles) if color else text


def _identity(identity: Identity) -> str:
    """``slug (ownership)``, escaped: a remote slug is whatever the API answered."""
    return for_terminal(str(identity))


def _field_lines(change: FieldChange, kind: ActionKind, color: bool) -> list[str]:
    """``~ path: before → after``, ``+ path: value``, a line per set element..."""
    shown = row(change, kind)
    colours = {Sign.ADD: "green", Sign.REMOVE: "red", Sign.CHANGE: "yellow", Sign.SAME: None}
    sign = _style(shown.sign.value, color, fg=colours[shown.sign])
    note = _style(f"  # {shown.note}", color, fg="red" if shown.note != "carried over" else None)
    note = note if shown.note else ""
    if shown.sign is Sign.ADD:
        return [f"      {sign} {shown.path}: {shown.after}{note}"]
    if shown.sign is Sign.REMOVE:
        return [f"      {sign} {shown.path}: {shown.before}{note}"]
    if shown.sign is Sign.SAME:
        return [f"      {sign} {shown.path}: {shown.after}{note}"]
    if shown.elements:
        lines = [f"      {sign} {shown.path}:{note}"]
        for element_sign, value in shown.elements:
            mark = _style(element_sign.value, color, fg=colours[element_sign])
            lines.append(f"          {mark} {value}")
        return lines
    return [f"      {sign} {shown.path}: {shown.before} → {shown.after}{note}"]


def _action_lines(action: Action, color: bool) -> list[str]:
    symbol, colour = SYMBOLS[action.kind]
    name = _identity(action.identity)
    head = f"  {_style(symbol, color, fg=colour, bold=True)} {_style(name, color, bold=True)}"
    head += f" {HEADLINES[action.kind]}"
    reason = for_terminal(action.reason) if action.reason else None
    if action.kind is ActionKind.REPLACE:
        head += f" ({reason}; {DESTROYS})"
    elif action.kind is ActionKind.DELETE:
        head += f" ({reason}; {DESTROYS})" if reason else f" ({DESTROYS})"
    return [head, *(line for c in action.fields for line in _field_lines(c, action.kind, color))]


def summary_line(plan: Plan) -> str:
    counts = plan.summary
    changes = ", ".join(f"{counts[kind.value]} to {kind.value}" for kind in DISPLAY_ORDER)
    adopted = f"{counts['adopted']} adopted, " if counts["adopted"] else ""
    return (
        f"Plan: {changes}. {counts['unchanged']} unchanged, {adopted}"
        f"{counts['unmanaged']} unmanaged."
    )


def render_text(plan: Plan, *, color: bool = False, target: Target | None = None) -> str:
    """The plan for a terminal or a CI log, in the spirit of Terraform."""
    lines: list[str] = [render_header(target), ""] if target else []
    if plan.targeting is not None:
        lines += [_style(partial_note(plan.targeting), color, fg="yellow"), ""]
    for warning in plan.warnings:
        lines.append(_style(f"Warning: {for_terminal(warning)}", color, fg="yellow"))
    if plan.warnings:
        lines.append("")
    if plan.has_changes:
        lines.append("reconciler will perform the following actions:")
        lines.append("")
        for action in plan.actions:
            lines.extend(_action_lines(action, color))
            lines.append("")
    else:
        lines.append(
            _style("No changes.", color, fg="green", bold=True)
            + " The remote integrations match the manifest."
        )
        lines.append("")
    if plan.adopted:
        lines.append(f"Adopted (not in the baseline; {ADOPTED}):")
        for identity in plan.adopted:
            lines.append(f"  {_style('=', color, fg='cyan')} {_identity(identity)}")
        lines.append("")
    if plan.unmanaged:
        lines.append("Unmanaged (in WorkOS but not in the manifest; left alone):")
        for identity in plan.unmanaged:
            lines.append(f"  {_style('?', color, fg='cyan')} {_identity(identity)}")
        lines.append("")
    lines.append(_style(summary_line(plan), color, bold=True))
    return "\n".join(lines) + "\n"


def partial_note(targeting: Targeting, *, shown: int = 20) -> str:
    """``Partial plan (--target a, b/user): 2 integrations with changes skipped: ...``."""
    patterns = ", ".join(for_terminal(p) for p in targeting.patterns)
    head = f"Partial plan (--target {patterns}): only the integrations it selects are changed."
    skipped = targeting.skipped
    if not skipped:
        return f"{head} No other integration has changes."
    names = ", ".join(map(_identity, skipped[:shown]))
    more = f" and {len(skipped) - shown} more" if len(skipped) > shown else ""
    count = len(skipped)
    return (
        f"{head} Skipped, with changes not applied: {count} integration{'s' * (count != 1)} "
        f"({names}{more})."
    )


def render_result_line(result: ActionResult, color: bool = False) -> str:
    """One line per finished action: outcome, action, identity, duration, the API's message."""
    action = result.action
    name = f"{action.kind.value} {_identity(action.identity)}"
    if result.outcome is Outcome.SKIPPED:
        return f"{_style('skipped', color, fg='yellow')} {name}: not started"
    mark = _style("ok", color, fg="green") if result.ok else _style("FAILED", color, fg="red")
    line = f"{mark} {name} in {result.duration:.2f}s"
    if result.error:
        line += f": {for_terminal(result.error)}"
    return line


def render_apply_summary(result: ApplyResult, color: bool = False) -> str:
    """The counts, then one line per failed replace saying what it left behind."""
    failed, skipped = len(result.failed), len(result.skipped)
    head = "Apply stopped" if result.stopped else "Apply complete"
    text = f"{head}: {len(result.succeeded)} succeeded, {failed} failed, {skipped} skipped."
    lines = [_style(text, color, fg="red" if failed or skipped else "green", bold=True)]
    for r in result.failed:
        if r.state is not None:
            name = _identity(r.action.identity)
            lines.append(f"  {r.action.kind.value} {name}: {r.state.summary}")
        if r.recovery is not None:
            lines.extend(recovery_lines(r.recovery))
    return "\n".join(lines)


def recovery_lines(recovery: Recovery, indent: str = "    ") -> list[str]:
    """How to bring a deleted integration back, then its manifest entry, indented."""
    lines = [f"{indent}{for_terminal(recovery.how)}"]
    lines.extend(f"{indent}  {for_terminal(line)}" for line in recovery.entry.splitlines())
    return lines
