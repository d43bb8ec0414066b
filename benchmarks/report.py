"""The results as Markdown: the shared cell formats, and the whole report.

Each benchmark's table is its own (``Section.table``); this module formats the
cells they share and puts the machine line, the tables and the targets together
(printed, and pasted into the README as they are).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from fractions import Fraction

from benchmarks.harness import Section, Target


def seconds(value: float) -> str:
    return f"{value:.2f} s" if value >= 0.1 else f"{value * 1000:.0f} ms"


def requests(counts: Mapping[str, int]) -> str:
    """``100 list`` or ``2 list + 200 PUT``: by kind, each route's counts summed."""
    kinds: dict[str, int] = {}
    for route, count in counts.items():
        method, _, path = route.partition(" ")
        kind = "list" if (method, path) == ("GET", "/data-integrations") else method
        kinds[kind] = kinds.get(kind, 0) + count
    return " + ".join(f"{count} {kind}" for kind, count in kinds.items()) or "none"


def split(organization_share: float) -> str:
    """``all user-owned``, ``1/5 organization-owned``, ``1/2 organization-owned``."""
    if organization_share == 0:
        return "all user-owned"
    if organization_share == 1:
        return "all organization-owned"
    share = Fraction(organization_share).limit_denominator(1000)
    return f"{share.numerator}/{share.denominator} organization-owned"


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def render(heading: str, sections: Sequence[Section], targets: Sequence[Target]) -> str:
    """The machine and method line, each section's table, then the targets."""
    lines = [heading]
    for section in sections:
        lines += section.table()
    if targets:
        lines += ["", "**targets**", ""]
        rows = [[t.target, t.measured, "✅ met" if t.met else "❌ missed"] for t in targets]
        lines += table(["Target", "Measured", ""], rows)
    return "\n".join(lines)
