"""Errors from answers: an API error or a transport failure, explained and scrubbed.

No message carries a secret the request sent (the API key, a client secret):
an API message that echoes the request is scrubbed against its values.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping, Sequence
from typing import Any

import httpx

from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
)
from reconciler.secrets import scrub


def sent_secrets(api_key: str, body: Mapping[str, Any] | None) -> list[str]:
    """The secrets a request carries: the API key, and every ``*secret*`` string of its body."""
    found = [api_key]

    def walk(value: object) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                if isinstance(item, str) and "secret" in str(key).lower():
                    found.append(item)
                else:
                    walk(item)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)

    walk(body)
    return [secret for secret in found if secret]


def api_error(response: httpx.Response, secrets: Sequence[str]) -> ApiError:
    """The typed error of an error answer; nothing of ``secrets`` (what was sent) in it."""
    request_id = response.headers.get("x-request-id")
    message = f"HTTP {response.status_code}"
    code: str | None = None
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        message = str(body.get("message") or message)
        code = str(body["code"]) if body.get("code") else None
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            details = "; ".join(
                f"{e.get('field', '?')}: {e.get('message', '')}"
                for e in errors
                if isinstance(e, dict)
            )
            message = f"{message} ({details})"
    kind: type[ApiError] = ApiError
    if response.status_code in (401, 403):
        kind = AuthenticationError
    elif response.status_code == 404:
        kind = NotFoundError
    elif response.status_code == 409:
        kind = ConflictError
    elif response.status_code == 422:
        kind = UnprocessableError
    return kind(
        scrub(message, secrets),
        status=response.status_code,
        code=scrub(code, secrets) if code else None,
        request_id=scrub(request_id, secrets) if request_id else None,
    )


def _os_reason(exc: BaseException) -> str | None:
    """The operating system's reason in the chain of ``exc`` (e.g. "connection refused").

    httpx wraps the OSError (through anyio's "All connection attempts failed");
    a TLS failure keeps its full text (``[SSL: CERTIFICATE_VERIFY_FAILED] ...``).
    """
    seen: set[int] = set()
    cause: BaseException | None = exc
    while cause is not None and id(cause) not in seen:
        seen.add(id(cause))
        if isinstance(cause, ssl.SSLError):
            return str(cause)
        if isinstance(cause, OSError) and (cause.strerror or cause.errno):
            errno = cause.errno
            reason = os.strerror(errno) if errno and errno > 0 else str(cause.strerror)
            return reason[:1].lower() + reason[1:] if reason[1:2].islower() else reason
        cause = cause.__cause__ or cause.__context__
    return None


def transport_failure(exc: httpx.TransportError, origin: str, *, connecting: bool) -> str:
    """What went wrong and where: "cannot connect to http://127.0.0.1:9/ (connection refused)".

    Built from the base URL (which carries no credentials) and the failure's
    kind and OS reason, never from the request.
    """
    if isinstance(exc, httpx.TimeoutException):
        return f"{'cannot connect to' if connecting else 'no answer from'} {origin} (timed out)"
    reason = _os_reason(exc) or str(exc) or type(exc).__name__
    if connecting:
        return f"cannot connect to {origin} ({reason})"
    return f"connection to {origin} failed ({type(exc).__name__}: {reason})"
