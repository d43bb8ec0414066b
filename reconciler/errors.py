"""The one error hierarchy of reconciler.

The CLI catches ``ReconcilerError`` once and turns it into a message and an
exit code; no library module prints or exits.

    ReconcilerError
    ├── ManifestError        the manifest is invalid (every problem, with file:line:col)
    ├── ConfigError          the command line or environment is unusable (API key, URL...)
    ├── ApiError             the API answered an error, or could not be reached
    │   ├── AuthenticationError   401 / 403
    │   ├── NotFoundError         404
    │   ├── ConflictError         409
    │   ├── UnprocessableError    422
    │   └── ApiUnreachableError   no usable answer (connection, timeout, exhausted retries)
    ├── RefusedError         the plan is refused (exit 3)
    │   ├── UnsafePlanError       too many deletes, or a protected integration
    │   └── StalePlanError        a saved plan no longer matches the world
    └── ApplyFailedError     some actions of an apply failed (the result says which)

No message of any of these may contain a secret: messages are built from
names, slugs and API error texts, never from request bodies.
"""

from __future__ import annotations

from dataclasses import dataclass

from reconciler.escaping import for_terminal, path_for_terminal


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


class ManifestError(ReconcilerError):
    """The manifest is invalid; carries every problem found, sorted."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class ConfigError(ReconcilerError):
    """The command line or the environment cannot be used as given."""


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
        parts = [f"API error {status}" if status else "API error"]
        if code:
            parts.append(f"({code})")
        text = " ".join(parts) + f": {message}"
        if request_id:
            text += f" [request id {request_id}]"
        super().__init__(text)


class AuthenticationError(ApiError):
    """401 or 403: the API key is missing, wrong, or lacks permission."""


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
        self.status = None
        self.code = None
        self.request_id = None
        self.api_message = f"cannot reach {where}: {reason}"
        ReconcilerError.__init__(self, self._text())

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


class UnsafePlanError(RefusedError):
    """The plan deletes too much, or touches a protected integration."""


class StalePlanError(RefusedError):
    """A saved plan no longer matches the remote state or the manifest."""


class ApplyFailedError(ReconcilerError):
    """Some actions of an apply failed; the others ran."""
