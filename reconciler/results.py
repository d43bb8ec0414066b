"""What an apply did: a result per action, and the state a failed replace left.

Plain data beside the plan, so that renderers show results without importing
the applier or any HTTP code.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from reconciler.errors import ApplyFailedError, ApplyInterruptedError
from reconciler.plan import Action

RESTORED = (
    "restored as a new integration (new id and redirect URI; its connected accounts are gone)"
)
DELETED = "DELETED and not recreated"
FIX_AND_RERUN = "fix and re-run"


class LeftState(StrEnum):
    """What a failed replace left behind."""

    RESTORED = "restored"
    DELETED = "deleted"
    UNKNOWN = "unknown"

    @property
    def summary(self) -> str:
        """The state in one phrase, for summaries."""
        return SUMMARIES[self]


SUMMARIES = {
    LeftState.RESTORED: RESTORED,
    LeftState.DELETED: f"{DELETED}; {FIX_AND_RERUN}",
    LeftState.UNKNOWN: "deleted; whether the re-create took effect is unknown: run plan to see",
}
"""One phrase per state, for summaries."""


@dataclass(frozen=True)
class Recovery:
    """How to bring back an integration a failed replace left deleted: its manifest
    entry as it was (``entry``, YAML; a client secret as a reference) and what to do."""

    entry: str
    how: str


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class ActionResult:
    """What happened to one action; ``state``: what a failed replace left behind, and
    ``recovery`` how to bring it back when it may be gone."""

    action: Action
    outcome: Outcome
    duration: float
    error: str | None = None
    state: LeftState | None = None
    recovery: Recovery | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.SUCCEEDED


@dataclass(frozen=True)
class ApplyResult:
    """Every action's result, in plan order; ``stopped`` if told to stop early."""

    results: tuple[ActionResult, ...]
    stopped: bool = False

    def _with(self, outcome: Outcome) -> tuple[ActionResult, ...]:
        return tuple(r for r in self.results if r.outcome is outcome)

    @property
    def failed(self) -> tuple[ActionResult, ...]:
        return self._with(Outcome.FAILED)

    @property
    def succeeded(self) -> tuple[ActionResult, ...]:
        return self._with(Outcome.SUCCEEDED)

    @property
    def skipped(self) -> tuple[ActionResult, ...]:
        return self._with(Outcome.SKIPPED)

    @property
    def ok(self) -> bool:
        """Every action succeeded: none failed, none was skipped."""
        return all(r.ok for r in self.results)

    def raise_for_failures(self) -> None:
        """Raise ``ApplyFailedError`` (exit 1) unless every action succeeded;
        ``ApplyInterruptedError`` (exit 130) when a signal stopped the apply."""
        if self.ok:
            return
        error = ApplyInterruptedError if self.stopped else ApplyFailedError
        parts = [f"{len(self.failed)} failed"]
        if self.skipped:
            parts.append(f"{len(self.skipped)} not started (apply was stopped)")
        raise error(
            f"{' and '.join(parts)} of {len(self.results)} actions; "
            "fix the cause and run apply again to finish"
        )
