"""The one error hierarchy of reconciler.

The CLI catches ``ReconcilerError`` once and turns it into a message and an
exit code; no library module prints or exits.

    ReconcilerError
    ├── ProblemsError        a file is invalid: every problem (file:line:col) and its subject
    │   ├── ManifestError         the manifest
    │   ├── PolicyError           the policy file
    │   └── PlanFileError         a saved plan file
    ├── ConfigError          the command line or environment is unusable (API key, URL...)
    │   └── UnsafeWriteError      a file would be written through a link, or onto a non-file
    ├── ApiError             the API answered an error, or could not be reached
    │   ├── AuthenticationError   401 / 403
    │   ├── NotFoundError         404
    │   ├── ConflictError         409
    │   ├── UnprocessableError    422
    │   └── ApiUnreachableError   no usable answer (connection, timeout, exhausted retries)
    ├── CancelledByUserError  Ctrl-C before anything was changed (exit 130)
    ├── RefusedError         the plan is refused (exit 3)
    │   ├── UnsafePlanError       too many deletes, or a protected integration
    │   └── StalePlanError        a saved plan no longer matches the world
    ├── ApplyFailedError     some actions of an apply failed (the result says which)
    │   └── ApplyInterruptedError   a signal stopped it (exit 130)
    ├── ActionError          one action failed, explained (and what a failed replace left)
    └── UnrestorableError    a replaced integration cannot be created again as it was

No message of any of these may contain a secret: messages are built from
names, slugs and API error texts, never from request bodies.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from reconciler.escaping import for_terminal, path_for_terminal

if TYPE_CHECKING:
    from reconciler.results import LeftState


class ReconcilerError(Exception):
    """Base of every error reconciler raises on purpose."""

    exit_code = 1


@dataclass(frozen=True, order=True)
class Problem:
    """One problem in a manifest, pointing at its source."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        """``file:line:col: message``, one line whatever the file name and message hold."""
        file, message = path_for_terminal(self.file), for_terminal(self.message)
        if self.line <= 0:
            return f"{file}: {message}"
        return f"{file}:{self.line}:{self.column}: {message}"


class ProblemsError(ReconcilerError):
    """A file is invalid: every problem found, sorted, and what the file is (``subject``).

    The CLI prints each problem, then ``Error: the <subject> has N problems.``
    """

    subject = "input"

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))

    def summary(self) -> str:
        """``the policy file has 1 problem``."""
        count = len(self.problems)
        return f"the {self.subject} has {count} problem{'s' * (count != 1)}"


class ManifestError(ProblemsError):
    """The manifest is invalid."""

    subject = "manifest"


class PolicyError(ProblemsError):
    """The policy file is missing, unreadable or invalid."""

    subject = "policy file"


class PlanFileError(ProblemsError):
    """A saved plan file is missing, unreadable, or not one ``plan --out`` wrote."""

    subject = "saved plan"


class ConfigError(ReconcilerError):
    """The command line or the environment cannot be used as given."""


class UnsafeWriteError(ConfigError):
    """A path the tool would write through a symbolic link, or onto something not a file."""


class ApiError(ReconcilerError):
    """The API answered with an error status (or could not be reached)."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        self.status = status
        self.code = code
        self.api_message = message
        self.request_id = request_id
        self.ambiguous = False
        """Whether a write that failed so may have taken effect all the same (an attempt's
        answer was lost after sending it: a 5xx, a timeout, a dropped connection)."""
        parts = [f"API error {status}" if status else "API error"]
        if code:
            parts.append(f"({code})")
        text = " ".join(parts) + f": {message}"
        if request_id:
            text += f" [request id {request_id}]"
        super().__init__(text)


class AuthenticationError(ApiError):
    """401 or 403: the API key is missing, wrong, or lacks permission. A 401 says how to
    check the key (``UNAUTHORIZED_HINT``); ``api_message`` stays the API's own words."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        request_id: str | None = None,
    ) -> None:
        super().__init__(message, status=status, code=code, request_id=request_id)
        if status == 401:
            self.args = (f"{self.args[0]}. {UNAUTHORIZED_HINT}",)


UNAUTHORIZED_HINT = (
    "The API key was refused: check WORKOS_API_KEY, which must be an active secret key "
    "(sk_live_... or sk_test_...) of the WorkOS environment you target (dashboard: "
    "API Keys), and that --api-url / WORKOS_BASE_URL is that environment's API"
)


class NotFoundError(ApiError):
    """404."""


class ConflictError(ApiError):
    """409: the object exists, or an idempotency key was reused with another body."""


class UnprocessableError(ApiError):
    """422: the API rejected the request body."""


class ApiUnreachableError(ApiError):
    """No usable answer: connection failure, timeout, or retries exhausted.

    Says where (``host:port``), what kind of failure (``reason``: connection
    refused, DNS name not found, TLS certificate verification failed, timed
    out...), which request and after how many ``attempts``, whether another
    attempt could succeed (``retryable``), and what to do (``hint``)::

        cannot reach api.workos.com:443: temporary DNS failure
        (GET /data-integrations: 4 attempts); the name server did not answer: ...
    """

    def __init__(
        self,
        where: str,
        reason: str,
        *,
        request: str = "",
        attempts: int = 1,
        retryable: bool = True,
        hint: str = "",
    ) -> None:
        self.where = where
        self.reason = reason
        self.request = request
        self.attempts = attempts
        self.retryable = retryable
        self.hint = hint
        super().__init__(f"cannot reach {where}: {reason}")
        self.args = (self._text(),)  # not ApiError's "API error: ..." (no status to show)

    def _text(self) -> str:
        count = f"{self.attempts} attempt{'s' * (self.attempts != 1)}"
        if not self.retryable and self.attempts == 1:
            count += ", not retried"
        done = f"{self.request}: {count}" if self.request else count
        return f"{self.api_message} ({done})" + (f"; {self.hint}" if self.hint else "")

    def after(self, attempts: int) -> ApiUnreachableError:
        """The same failure, as the last of ``attempts`` attempts."""
        return ApiUnreachableError(
            self.where,
            self.reason,
            request=self.request,
            attempts=attempts,
            retryable=self.retryable,
            hint=self.hint,
        )


class RefusedError(ReconcilerError):
    """The plan is refused; nothing was changed."""

    exit_code = 3


class RefusalKind(StrEnum):
    """Why the rails refuse a plan."""

    PROTECTED = "protected"
    """It deletes or replaces a protected integration."""
    PRUNE = "prune"
    """The manifest sets prune where the policy forbids it."""
    TOO_MANY_DELETES = "too-many-deletes"
    """It deletes or replaces more than the threshold allows."""
    NO_SECRETS = "no-secrets"
    """It was made with ``--no-secrets``: client secrets were not read or compared."""


@dataclass(frozen=True)
class Refusal:
    """One reason a plan is refused: its kind, the integrations it is about (``slug``,
    ``ownership`` pairs; none for a rule about the whole plan) and its message."""

    kind: RefusalKind
    identities: tuple[tuple[str, str], ...]
    message: str

    def __str__(self) -> str:
        return self.message


class UnsafePlanError(RefusedError):
    """The plan deletes too much, or touches a protected integration (``refusals``)."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        self.refusals = tuple(refusals)
        super().__init__(" ".join(refusal.message for refusal in self.refusals))


class StalePlanError(RefusedError):
    """A saved plan no longer matches the remote state or the manifest."""


class ApplyFailedError(ReconcilerError):
    """Some actions of an apply failed; the others ran."""


class ActionError(ReconcilerError):
    """An action failed, explained; ``state`` is what a failed replace left behind."""

    def __init__(self, message: str, state: LeftState | None = None) -> None:
        super().__init__(message)
        self.state = state


class CancelledByUserError(ReconcilerError):
    """A signal (Ctrl-C) stopped the command before it changed anything (exit 130)."""

    exit_code = 130


class ApplyInterruptedError(ApplyFailedError):
    """A signal stopped the apply (exit 130, as a shell reports SIGINT)."""

    exit_code = 130


class UnrestorableError(ReconcilerError):
    """A replaced integration cannot be created again faithfully (``wire.restore_body``):
    the message says why."""
