"""Errors from answers: an API error or a transport failure, explained and scrubbed.

No message carries a secret the request sent (the API key, a client secret):
an API message that echoes the request is scrubbed against its values. A
transport failure is classified (``unreachable``): refused, DNS, TLS, timeout,
and whether another attempt could succeed.
"""

from __future__ import annotations

import os
import re
import socket
import ssl
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import httpx

from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConflictError,
    NotFoundError,
    UnprocessableError,
)
from reconciler.scrubbing import scrub


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


@dataclass(frozen=True)
class Unreachable:
    """Why a request got no usable answer, read from the transport's exception.

    ``reason`` names the kind of failure ("connection refused", "DNS name not
    found"...); ``retry`` says whether another attempt may succeed (a name that
    does not exist, or a certificate that does not verify, fails the same way
    every time); ``sent`` whether the request may have reached the server;
    ``hint`` what to do about it.
    """

    reason: str
    retry: bool = True
    sent: bool = False
    hint: str = ""


CHECK_URL = "check the API URL (--api-url or WORKOS_BASE_URL)"
_NAME_NOT_FOUND = frozenset(
    getattr(socket, name)
    for name in ("EAI_NONAME", "EAI_NODATA", "EAI_ADDRFAMILY")
    if hasattr(socket, name)
)


def endpoint(url: httpx.URL) -> str:
    """``host:port`` of a URL, the port made explicit (``[::1]:8787`` for IPv6)."""
    host = url.host
    port = url.port or (443 if url.scheme == "https" else 80)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def unreachable(exc: httpx.TransportError) -> Unreachable:
    """The kind of a transport failure: what it was, whether to retry, what to do.

    Built from the exception's type and the operating system's error in its
    chain (httpx wraps it, through anyio's "All connection attempts failed"),
    never from the request.
    """
    connecting = isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)
    if isinstance(exc, httpx.TimeoutException):
        if connecting:
            return Unreachable("timed out connecting", hint="check the network, then run again")
        return Unreachable(
            "timed out waiting for the answer",
            sent=True,
            hint="run again; plan shows what took effect",
        )
    causes = list(_causes(exc))
    for cause in causes:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return Unreachable(
                f"TLS certificate verification failed ({_tls_detail(cause)})",
                retry=False,
                hint=f"the server's certificate is not trusted for this host: {CHECK_URL}; "
                "a private certificate authority goes in SSL_CERT_FILE",
            )
        if isinstance(cause, socket.gaierror):
            return _dns_failure(cause)
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return Unreachable(
                "connection refused", hint=f"nothing is listening there: {CHECK_URL}"
            )
    reason = _os_reason(causes) or str(exc) or type(exc).__name__
    if connecting:
        return Unreachable(reason)
    return Unreachable(f"connection lost ({type(exc).__name__}: {reason})", sent=True)


def _dns_failure(error: socket.gaierror) -> Unreachable:
    if error.errno in _NAME_NOT_FOUND:
        return Unreachable(
            "DNS name not found",
            retry=False,
            hint="check the host name in the API URL (--api-url or WORKOS_BASE_URL)",
        )
    if error.errno == socket.EAI_AGAIN:
        return Unreachable(
            "temporary DNS failure", hint="the name server did not answer: check the network"
        )
    detail = error.strerror or str(error)
    return Unreachable(f"DNS lookup failed ({detail[:1].lower() + detail[1:]})")


def _tls_detail(error: ssl.SSLCertVerificationError) -> str:
    """``[SSL: CERTIFICATE_VERIFY_FAILED] self-signed certificate``: why, on one line."""
    message = getattr(error, "verify_message", None)
    if message:
        return f"[SSL: CERTIFICATE_VERIFY_FAILED] {message}"
    return re.sub(r"\s*\(_ssl\.c:\d+\)$", "", str(error)) or "[SSL: CERTIFICATE_VERIFY_FAILED]"


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and everything in its chain, exception groups opened, each once."""
    seen: set[int] = set()
    pending: list[BaseException] = [exc]
    while pending:
        cause = pending.pop(0)
        if id(cause) in seen:
            continue
        seen.add(id(cause))
        yield cause
        if isinstance(cause, BaseExceptionGroup):
            pending.extend(cause.exceptions)
        following = cause.__cause__ or cause.__context__
        if following is not None:
            pending.append(following)


def _os_reason(causes: list[BaseException]) -> str | None:
    """The operating system's reason in a chain (e.g. "network is unreachable")."""
    for cause in causes:
        if isinstance(cause, ssl.SSLError):
            return str(cause)
        if isinstance(cause, OSError) and (cause.strerror or cause.errno):
            errno = cause.errno
            reason = os.strerror(errno) if errno and errno > 0 else str(cause.strerror)
            return reason[:1].lower() + reason[1:] if reason[1:2].islower() else reason
    return None
