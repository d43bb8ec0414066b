"""Untrusted text made safe for a terminal or a CI log.

Manifest file names, slugs, descriptions, config values and API error
messages are untrusted: a raw newline in one of them can forge a line of
output (under GitHub Actions, a line starting with ``::`` is a workflow
command), an escape sequence can rewrite the terminal, and a bidi override
can make text read other than it is. Each untrusted string is escaped where
it is formatted, never the whole output: the output's own newlines and
colours are legitimate.

The Markdown plan (``reconciler.render.markdown``) and the workflow commands
(``reconciler.render.github``) build on ``for_terminal`` with escaping of their own.
"""

from __future__ import annotations

import re

# C0 controls (tab, newline and carriage return included), DEL, C1 controls; the bidi
# embeddings, overrides, isolates and marks; the Unicode line and paragraph separators;
# lone surrogates (from undecodable file names), which no output stream can encode.
_BEYOND_C0 = "\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029\ud800-\udfff"
_UNSAFE = re.compile(f"[\x00-\x1f{_BEYOND_C0}]")
# What ``json.dumps(..., ensure_ascii=False)`` leaves raw: it escapes C0 itself, and the
# newlines of an indented document are its own.
_UNSAFE_IN_JSON = re.compile(f"[{_BEYOND_C0}]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# The runner's legacy command syntax (``##[error]...``) is honoured anywhere in a line.
_LEGACY_COMMAND = "##["
_LEGACY_COMMAND_ESCAPED = "##\\x5b"


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def for_terminal(text: str) -> str:
    """``text`` as one safe piece of a line of plain output (plan, error, progress line).

    Control characters (tab and newline included: one untrusted string never
    spans lines), DEL, C1 controls, bidi formatting characters, line and
    paragraph separators and lone surrogates are shown as escapes: ``\\n``,
    ``\\r``, ``\\t``, ``\\x1b``, ``\\u202e``. The legacy workflow-command marker
    ``##[`` becomes ``##\\x5b``. Backslashes are left as they are, so that paths
    and patterns stay readable: the result is for reading, not for decoding.
    Escaping twice changes nothing.
    """
    return _UNSAFE.sub(_visible, text).replace(_LEGACY_COMMAND, _LEGACY_COMMAND_ESCAPED)


def path_for_terminal(path: str) -> str:
    """A file name as it may start a line of output.

    ``for_terminal``, and a relative path that would read as a workflow command
    (``::`` after leading spaces) gets ``./`` in front: the same file, not a command.
    """
    shown = for_terminal(path)
    return f"./{shown}" if shown.lstrip().startswith("::") else shown


def for_json(text: str) -> str:
    """A JSON document made safe for a terminal, with the same meaning once parsed.

    For the output of ``json.dumps(..., ensure_ascii=False)``, which escapes C0
    controls itself: inside strings (the only place they can be), the other
    characters ``for_terminal`` escapes become JSON ``\\uXXXX`` escapes, and
    ``##[`` becomes ``##\\u005b``.
    """
    escaped = _UNSAFE_IN_JSON.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    return escaped.replace(_LEGACY_COMMAND, "##\\u005b")
