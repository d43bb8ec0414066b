"""The Markdown plan, for a pull-request comment or a GitHub job summary.

A summary line, a table of actions, and each integration's field diff folded
in ``<details>``. Whatever the plan's size, the text stays under
``MAX_CHARS`` and says what it left out; deletes and replaces are listed first
so that a cut never hides them.

Every untrusted string (file names, slugs, paths, values, reasons, warnings)
goes through ``for_terminal`` (no raw newline, control or bidi character) and
then the escaping of where it lands: ``cell`` for text, ``code`` for a code
span; the diff bodies are fenced, with a fence longer than any run of
backticks inside.
"""

from __future__ import annotations

import html
import re

from reconciler.escaping import for_terminal
from reconciler.plan import DISPLAY_ORDER, Action, ActionKind, Plan, Target
from reconciler.render.diffs import Row, Sign, row
from reconciler.render.text import ADOPTED, DESTROYS, partial_note
from reconciler.results import ApplyResult

MAX_CHARS = 65_000
SYMBOLS = {
    ActionKind.CREATE: "➕ create",
    ActionKind.UPDATE: "✏️ update",
    ActionKind.REPLACE: "♻️ **replace**",
    ActionKind.DELETE: "🗑️ **delete**",
}
_CELL_ESCAPES = str.maketrans(
    {
        "\\": "\\\\",
        "|": "\\|",
        "<": "&lt;",
        ">": "&gt;",
        "&": "&amp;",
        "`": "\\`",
        "*": "\\*",
        "_": "\\_",
        "~": "\\~",
        "[": "\\[",
        "]": "\\]",
    }
)


def cell(text: str) -> str:
    """Untrusted text made safe for Markdown, one table cell or one line.

    Controls and bidi characters are shown escaped (``for_terminal``: no raw
    newline), then Markdown and HTML specials are escaped: no cell split, no
    tag, no link, no emphasis.
    """
    return " ".join(for_terminal(text).translate(_CELL_ESCAPES).split())


def code(text: str, *, in_table: bool = False) -> str:
    """Untrusted text as a code span (``for_terminal`` first).

    The delimiter is one backtick longer than any run inside, as CommonMark
    allows. ``in_table``: ``|`` is escaped, since a table splits a cell at a
    bare ``|`` even in a code span (and shows ``\\|`` there as ``|``).
    """
    shown = for_terminal(text)
    if in_table:
        shown = shown.replace("|", "\\|")
    longest = max((len(run) for run in re.findall(r"`+", shown)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if shown.startswith("`") or shown.endswith("`") else ""
    return f"{ticks}{pad}{shown}{pad}{ticks}"


def _html(text: str) -> str:
    """Untrusted text inside an HTML block (``<summary>``), where Markdown is not read."""
    return html.escape(for_terminal(text), quote=False)


def summary_text(plan: Plan) -> str:
    """``0 to replace, 1 to delete, 3 to create, 1 to update, 12 unchanged, 2 unmanaged``."""
    counts = plan.summary
    parts = [f"{counts[kind.value]} to {kind.value}" for kind in DISPLAY_ORDER]
    parts.append(f"{counts['unchanged']} unchanged")
    if counts["adopted"]:
        parts.append(f"{counts['adopted']} adopted")
    parts.append(f"{counts['unmanaged']} unmanaged")
    return ", ".join(parts)


def _review_order(plan: Plan) -> list[Action]:
    return sorted(plan.actions, key=lambda a: a.sort_key)


def _row(action: Action) -> str:
    changed = [f for f in action.fields if f.changed]  # not what a replace carries over
    changes = ", ".join(code(f.path, in_table=True) for f in changed[:8])
    if len(changed) > 8:
        changes += f" and {len(changed) - 8} more"
    if action.destructive:
        warning = f"⚠️ {DESTROYS}"
        if action.kind is ActionKind.REPLACE and action.reason:
            warning += f" ({cell(action.reason)})"
        changes = f"{warning}; {changes}" if changes else warning
    slug = code(action.slug, in_table=True)
    return f"| {SYMBOLS[action.kind]} | {slug} | {cell(action.ownership)} | {changes} |"


def _fence(body: str) -> str:
    longest = max((len(m) for m in re.findall(r"`+", body)), default=0)
    return "`" * max(3, longest + 1)


def _diff_lines(shown: Row) -> list[str]:
    """A field's rows as ``diff`` lines: ``-`` before, ``+`` after, a line per element."""
    note = f"  # {shown.note}" if shown.note else ""
    if shown.sign is Sign.ADD:
        return [f"+ {shown.path}: {shown.after}{note}"]
    if shown.sign is Sign.REMOVE:
        return [f"- {shown.path}: {shown.before}{note}"]
    if shown.sign is Sign.SAME:
        return [f"  {shown.path}: {shown.after}{note}"]
    if shown.elements:
        return [
            f"  {shown.path}:{note}",
            *(f"{sign.value}   {value}" for sign, value in shown.elements),
        ]
    return [f"- {shown.path}: {shown.before}", f"+ {shown.path}: {shown.after}{note}"]


def _details(action: Action) -> str:
    lines: list[str] = []
    for change in action.fields:
        lines.extend(_diff_lines(row(change, action.kind)))
    if action.kind is ActionKind.DELETE:
        slug, ownership = for_terminal(action.slug), for_terminal(action.ownership)
        lines.append(f"- {slug} ({ownership}): {for_terminal(action.reason or 'deleted')}")
    body = "\n".join(lines)
    fence = _fence(body)
    title = f"{action.kind.value} {action.slug} ({action.ownership})"
    return (
        f"<details><summary>{_html(title)}</summary>\n\n{fence}diff\n{body}\n{fence}\n\n</details>"
    )


def render_markdown(
    plan: Plan,
    *,
    target: Target | None = None,
    title: str = "reconciler plan",
    limit: int = MAX_CHARS,
) -> str:
    """The plan as Markdown, never longer than ``limit`` characters."""
    head = [f"### {title}", ""]
    if target:
        files = ", ".join(cell(name) for name in target.files[:20])
        if len(target.files) > 20:
            files += f" and {len(target.files) - 20} more"
        head += [
            f"Target: {cell(target.api_url)} (API key {code(target.api_key_hint)}) · "
            f"Manifests: {files} · Policy: {cell(target.policy)}",
            "",
        ]
    head += [f"**Plan:** {summary_text(plan)}", ""]
    if plan.targeting is not None:
        head += [f"> [!NOTE]\n> {cell(partial_note(plan.targeting))}", ""]
    destructive = sum(1 for a in plan.actions if a.destructive)
    if destructive:
        head += [
            f"> [!WARNING]\n> {destructive} action(s) delete or replace integrations: "
            f"this {DESTROYS.replace('its', 'their')}.",
            "",
        ]
    for warning in plan.warnings:
        head += [f"> {cell(warning)}", ""]
    if not plan.has_changes:
        head.append("No changes. The remote integrations match the manifest.")
    footer = _unmanaged_section(plan)
    reserve = 400  # room for the "left out" note
    budget = limit - reserve - len("\n".join(head)) - len(footer)
    parts = _actions_within(_review_order(plan), budget)
    text = "\n".join(head) + "\n" + "\n\n".join(parts) + ("\n\n" + footer if footer else "") + "\n"
    return text


def _actions_within(actions: list[Action], budget: int) -> list[str]:
    """The table, then each action's details, while they fit ``budget``; then what was left out."""
    parts: list[str] = []
    rows_shown = 0
    if actions:
        table = ["| Action | Slug | Ownership | Changes |", "| --- | --- | --- | --- |"]
        used = sum(len(line) + 1 for line in table)
        for action in actions:
            row = _row(action)
            if used + len(row) + 1 > budget:
                break
            table.append(row)
            used += len(row) + 1
            rows_shown += 1
        budget -= used
        parts.append("\n".join(table))
    details_shown = 0
    for action in actions[:rows_shown]:
        block = _details(action)
        if len(block) + 2 > budget:
            break
        parts.append(block)
        budget -= len(block) + 2
        details_shown += 1
    left_out = []
    if rows_shown < len(actions):
        left_out.append(
            f"{len(actions) - rows_shown} of {len(actions)} actions left out of the table"
        )
    if details_shown < rows_shown:
        left_out.append(f"details of {rows_shown - details_shown} actions left out")
    if left_out:
        parts.append(
            f"_Too large for one comment: {'; '.join(left_out)}. "
            "Run `reconciler plan` for the full plan._"
        )
    return parts


def _unmanaged_section(plan: Plan) -> str:
    sections = [
        _names(f"**Adopted** (not in the baseline; {ADOPTED})", plan.adopted),
        _names("**Unmanaged** (in WorkOS, not in the manifest; left alone)", plan.unmanaged),
    ]
    return "\n\n".join(section for section in sections if section)


def _names(title: str, identities: tuple[tuple[str, str], ...]) -> str:
    """``title: `a` (user), `b` (organization) and 3 more.`` (empty for none)."""
    if not identities:
        return ""
    shown = identities[:50]
    names = ", ".join(f"{code(slug)} ({cell(ownership)})" for slug, ownership in shown)
    more = f" and {len(identities) - len(shown)} more" if len(identities) > 50 else ""
    return f"{title}: {names}{more}."


OUTCOME_MARKS = {"succeeded": "✅ ok", "failed": "❌ **FAILED**", "skipped": "⏭️ skipped"}


def _recoveries(result: ApplyResult) -> list[str]:
    """Each integration a failed replace may have left deleted: what to do, and its
    manifest entry in a fenced block (never cut: it is what brings it back)."""
    lines: list[str] = []
    for r in result.failed:
        if r.recovery is None:
            continue
        entry = [for_terminal(line) for line in r.recovery.entry.splitlines()]
        longest = max((len(run) for line in entry for run in re.findall(r"`+", line)), default=0)
        fence = "`" * max(3, longest + 1)
        name = f"{code(r.action.slug)} ({cell(r.action.ownership)})"
        lines += [
            f"**{r.action.kind.value} {name} may be gone.** {cell(r.recovery.how)}",
            "",
            f"{fence}yaml",
            *entry,
            fence,
            "",
        ]
    return lines


def render_apply_markdown(
    plan: Plan,
    result: ApplyResult,
    *,
    target: Target | None = None,
    limit: int = MAX_CHARS,
) -> str:
    """An apply's results as Markdown (the GitHub step summary): what the plan was, then
    each action's outcome, failures first, never longer than ``limit`` characters."""
    failed, skipped = len(result.failed), len(result.skipped)
    head = "Apply stopped" if result.stopped else "Apply complete"
    lines = [
        "### reconciler apply",
        "",
        f"**{head}:** {len(result.succeeded)} succeeded, {failed} failed, {skipped} skipped "
        f"(plan: {summary_text(plan)}).",
        "",
    ]
    if target:
        lines[2:2] = [
            f"Target: {cell(target.api_url)} (API key {code(target.api_key_hint)}) · "
            f"Policy: {cell(target.policy)}",
            "",
        ]
    lines.extend(_recoveries(result))
    table = ["| Outcome | Action | Slug | Ownership | Detail |", "| --- | --- | --- | --- | --- |"]
    ordered = sorted(result.results, key=lambda r: (r.ok, r.action.sort_key))
    budget = limit - 400 - sum(len(line) + 1 for line in lines + table)
    shown = 0
    for r in ordered:
        detail = r.error or ""  # a failed replace's error says what it left behind
        line = (
            f"| {OUTCOME_MARKS[r.outcome.value]} | {r.action.kind.value} | "
            f"{code(r.action.slug, in_table=True)} | {cell(r.action.ownership)} | {cell(detail)} |"
        )
        budget -= len(line) + 1
        if budget < 0:
            break
        table.append(line)
        shown += 1
    text = "\n".join(lines + (table if result.results else []))
    if shown < len(ordered):
        text += f"\n\n_{len(ordered) - shown} results left out: see the job's log._"
    return text + "\n"
