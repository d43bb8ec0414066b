"""Renderers: a plan or an apply's results as text, JSON, Markdown or GitHub commands.

They never print and import no HTTP code: the CLI prints what they return.
"""

from __future__ import annotations

from reconciler.plan import Target
from reconciler.render.json import render_apply_json, render_json
from reconciler.render.markdown import render_apply_markdown, render_markdown
from reconciler.render.text import (
    DESTROYS,
    render_apply_summary,
    render_header,
    render_result_line,
    render_text,
    summary_line,
)

__all__ = [
    "DESTROYS",
    "Target",
    "render_apply_json",
    "render_apply_markdown",
    "render_apply_summary",
    "render_header",
    "render_json",
    "render_markdown",
    "render_result_line",
    "render_text",
    "summary_line",
]
