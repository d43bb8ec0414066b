"""GitHub Actions integration: workflow-command annotations and the job summary.

Pure text builders; the CLI decides when (``GITHUB_ACTIONS=true``) and where
to write them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from reconciler.errors import Problem
from reconciler.escaping import for_terminal
from reconciler.plan import Plan
from reconciler.results import ApplyResult


def is_github_actions(environ: Mapping[str, str]) -> bool:
    return environ.get("GITHUB_ACTIONS") == "true"


def _escape_data(text: str) -> str:
    """A command's message: ``%``, CR and LF percent-encoded as the runner decodes them.

    Every other control or bidi character, and the legacy ``##[`` marker, is
    shown escaped (``for_terminal``): the command stays one line, and reads as it is.
    """
    encoded = text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")
    return for_terminal(encoded)


def _escape_property(text: str) -> str:
    """A property value (``file``, ``title``): as data, plus ``:`` and ``,``."""
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    level: str,
    message: str,
    *,
    file: str | None = None,
    line: int = 0,
    col: int = 0,
    title: str | None = None,
) -> str:
    """One workflow command, e.g. ``::error file=a.yaml,line=3,col=5::message``.

    ``message``, ``file`` and ``title`` may be untrusted: they are escaped here.
    A file name with a bidi or control character other than CR and LF is
    shown escaped, so such an annotation is not attached to its file.
    """
    properties = []
    if file:
        properties.append(f"file={_escape_property(file)}")
        if line > 0:
            properties.append(f"line={line}")
            if col > 0:
                properties.append(f"col={col}")
    if title:
        properties.append(f"title={_escape_property(title)}")
    head = f"::{level} {','.join(properties)}" if properties else f"::{level}"
    return f"{head}::{_escape_data(message)}"


def problem_annotations(problems: Iterable[Problem]) -> list[str]:
    return [
        annotation(
            "error", p.message, file=p.file, line=p.line, col=p.column, title="reconciler validate"
        )
        for p in problems
    ]


def unmanaged_annotations(plan: Plan) -> list[str]:
    return [
        annotation(
            "warning",
            f"{identity} exists in WorkOS but not in the manifest; it is left alone. "
            "Add it to the manifest (see `reconciler export`) or to settings.ignore.",
            title="unmanaged integration",
        )
        for identity in plan.unmanaged
    ]


def unmanaged_notice(plan: Plan, *, shown: int = 20) -> list[str]:
    """One ``::notice`` naming the unmanaged integrations (the first ``shown`` of them)."""
    if not plan.unmanaged:
        return []
    names = ", ".join(map(str, plan.unmanaged[:shown]))
    more = f" and {len(plan.unmanaged) - shown} more" if len(plan.unmanaged) > shown else ""
    count = len(plan.unmanaged)
    return [
        annotation(
            "notice",
            f"{count} integration{'s' * (count != 1)} in WorkOS but not in the manifest "
            f"{'were' if count != 1 else 'was'} left alone: {names}{more}.",
            title="unmanaged integrations",
        )
    ]


def failure_annotations(result: ApplyResult) -> list[str]:
    """An ``::error`` per failed action (a failed replace's error says what it left)."""
    return [
        annotation(
            "error",
            f"{r.action.kind.value} {r.action.identity} failed: {r.error}",
            title="apply failed",
        )
        for r in result.failed
    ]
