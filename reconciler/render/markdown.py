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
from collections.abc import Sequence

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
        name = for_terminal(str(action.identity))
        lines.append(f"- {name}: {for_terminal(action.reason or 'deleted')}")
    body = "\n".join(lines)
    fence = _fence(body)
    title = f"{action.kind.value} {action.identity}"
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
    """The plan as Markdown, never longer than ``limit`` characters: every part counts
    (header, warnings, unmanaged list), each within a share of ``limit``, so that
    whatever is left always holds the table of deletes and replaces first."""
    head = [f"### {_clip(title, limit // 64)}", ""]
    if target:
        head += [_target_line(target, limit // 16), ""]
    head += [f"**Plan:** {summary_text(plan)}", ""]
    if plan.targeting is not None:
        note = _clip(partial_note(plan.targeting), limit // 16)
        head += [f"> [!NOTE]\n> {cell(note)}", ""]
    destructive = sum(1 for a in plan.actions if a.destructive)
    if destructive:
        head += [
            f"> [!WARNING]\n> {destructive} action(s) delete or replace integrations: "
            f"this {DESTROYS.replace('its', 'their')}.",
            "",
        ]
    head += _warnings_within(plan.warnings, limit // 8)
    if not plan.has_changes:
        head.append("No changes. The remote integrations match the manifest.")
    footer = _unmanaged_section(plan, limit // 8)
    budget = limit - RESERVE - len("\n".join(head)) - len(footer)
    parts = _actions_within(_review_order(plan), budget)
    text = "\n".join(head) + "\n" + "\n\n".join(parts) + ("\n\n" + footer if footer else "") + "\n"
    return text


RESERVE = 400
"""Room for the note that says what was left out, and the joins around it."""


def _clip(text: str, most: int) -> str:
    """``text`` cut to ``most`` characters (with ``…``); for the parts of the header
    whose length the plan's author or the remote API chooses."""
    return text if len(text) <= most else text[: max(most - 1, 0)] + "…"


def _target_line(target: Target, most: int) -> str:
    files = ", ".join(cell(_clip(name, 200)) for name in target.files[:20])
    if len(target.files) > 20:
        files += f" and {len(target.files) - 20} more"
    line = (
        f"Target: {cell(_clip(target.api_url, 400))} (API key {code(target.api_key_hint)}) · "
        f"Manifests: {files} · Policy: {cell(_clip(target.policy, 400))}"
    )
    return line if len(line) <= most else _clip(line.rsplit(" · Manifests: ", 1)[0], most)


def _warnings_within(warnings: Sequence[str], budget: int) -> list[str]:
    """Each warning as a quoted line while they fit ``budget``; then how many were not."""
    lines: list[str] = []
    for index, warning in enumerate(warnings):
        line = f"> {cell(_clip(warning, 1_000))}"
        if sum(len(shown) + 1 for shown in lines) + len(line) + 2 > budget:
            left = len(warnings) - index
            lines += [f"> _{left} more warning(s) left out: run `reconciler plan` for all._", ""]
            break
        lines += [line, ""]
    return lines


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


def _unmanaged_section(plan: Plan, budget: int) -> str:
    """The adopted and the unmanaged integrations, each within half of ``budget``."""
    sections = [
        _names(f"**Adopted** (not in the baseline; {ADOPTED})", plan.adopted, budget // 2),
        _names(
            "**Unmanaged** (in WorkOS, not in the manifest; left alone)",
            plan.unmanaged,
            budget // 2,
        ),
    ]
    return "\n\n".join(section for section in sections if section)


def _names(title: str, identities: tuple[tuple[str, str], ...], budget: int) -> str:
    """``title: `a` (user), `b` (organization) and 3 more.`` (empty for none): at most
    50 named, within ``budget`` characters."""
    if not identities:
        return ""
    names: list[str] = []
    used = len(title) + 40  # ": ", and the "and N more." that may follow
    for slug, ownership in identities[:50]:
        name = f"{code(_clip(slug, 200))} ({cell(ownership)})"
        if used + len(name) + 2 > budget:
            break
        names.append(name)
        used += len(name) + 2
    hidden = len(identities) - len(names)
    more = f" and {hidden} more" if hidden else ""
    return f"{title}: {', '.join(names)}{more}."


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
            f"Target: {cell(_clip(target.api_url, 400))} (API key {code(target.api_key_hint)}) · "
            f"Policy: {cell(_clip(target.policy, 400))}",
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
