"""A saved plan shown (``reconciler show``): where, when and under what it was made, then
the plan, in text, Markdown or JSON. Every string from the file is untrusted and
escaped for its destination, as in the plan's own renderers.
"""

from __future__ import annotations

from reconciler.escaping import for_terminal
from reconciler.render.markdown import cell, code, render_markdown
from reconciler.render.text import render_text
from reconciler.show import Shown, describe_age

SHORT = 16
"""How many hex characters of a fingerprint text and Markdown show (JSON: all)."""


def _lines(shown: Shown) -> list[tuple[str, str]]:
    """(label, value) pairs, values escaped for a terminal."""
    made = shown.made or "unknown"
    files = ", ".join(for_terminal(name) for name in shown.manifest_files) or "(none)"
    return [
        ("Saved plan", f"{for_terminal(shown.file)} (saved-plan version {shown.version})"),
        ("Made", f"{made} ({describe_age(shown.age_seconds)})"),
        (
            "Target",
            f"{for_terminal(shown.api_url)} "
            f"(API key fingerprint {for_terminal(shown.api_key_fingerprint[:SHORT])}…)",
        ),
        ("Manifests", f"{files} (sha256 {for_terminal(shown.manifest_sha256[:SHORT])}…)"),
        (
            "Policy",
            f"{for_terminal(shown.policy_name)} "
            f"(sha256 {for_terminal(shown.policy_sha256[:SHORT])}…)",
        ),
        ("Options", ", ".join(for_terminal(o) for o in shown.options) or "none"),
    ]


def render_saved_text(shown: Shown, *, color: bool = False) -> str:
    width = max(len(label) for label, _ in _lines(shown)) + 2
    head = "".join(f"{label + ':':<{width}}{value}\n" for label, value in _lines(shown))
    hint = "Apply it with `reconciler apply --plan FILE` (refused if anything changed since).\n"
    return head + hint + "\n" + render_text(shown.plan, color=color)


def render_saved_markdown(shown: Shown) -> str:
    made = shown.made or "unknown"
    files = ", ".join(code(name) for name in shown.manifest_files) or "(none)"
    rows = [
        f"- Made: {cell(made)} ({cell(describe_age(shown.age_seconds))})",
        f"- Target: {cell(shown.api_url)} "
        f"(API key fingerprint {code(shown.api_key_fingerprint[:SHORT])}…)",
        f"- Manifests: {files} (sha256 {code(shown.manifest_sha256[:SHORT])}…)",
        f"- Policy: {cell(shown.policy_name)} (sha256 {code(shown.policy_sha256[:SHORT])}…)",
        f"- Options: {', '.join(code(o) for o in shown.options) or 'none'}",
    ]
    plan = render_markdown(shown.plan, title=f"saved plan {cell(shown.file)}")
    title, _, rest = plan.partition("\n")
    return f"{title}\n\n" + "\n".join(rows) + "\n" + rest


def render_saved_json(shown: Shown) -> str:
    """The saved JSON plan, plus ``saved``: file, times and fingerprints, in full."""
    return shown.with_saved().text()
