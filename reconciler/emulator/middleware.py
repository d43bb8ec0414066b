"""ASGI middleware: request ids and a ``Host`` check on every answer; counts, latency and the
API key on API paths; the API key and a same-origin check on the control paths
(``/_emulator/*``); a cap on the size of request bodies.

(Injected faults and the rate limit live in ``faults``, one layer further in.)

It runs before FastAPI parses anything, so a request without a valid key gets
401 whatever its body, and an unexpected failure still answers JSON with an id.
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
import re
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from reconciler.emulator.ids import request_id
from reconciler.emulator.problems import ConnectionDropped, error_body

API_PREFIX = "/data-integrations"
CONTROL_PREFIX = "/_emulator"
MAX_BODY_BYTES = 2**20
COUNTED_METHODS = ("GET", "POST", "PUT", "DELETE")
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,200}$")
_DEFAULT_PORTS = {"http": 80, "https": 443}
logger = logging.getLogger(__name__)


def is_api_path(path: str) -> bool:
    return path == API_PREFIX or path.startswith(API_PREFIX + "/")


def is_control_path(path: str) -> bool:
    """``/_emulator`` and below: stats and reset, never counted, delayed or faulted."""
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


@dataclass
class RequestStats:
    """Counts of API requests by ``"<METHOD> <route template>"`` and by method."""

    requests: Counter[str] = field(default_factory=Counter)
    by_method: Counter[str] = field(default_factory=Counter)
    faults: Counter[str] = field(default_factory=Counter)

    def record(self, method: str, template: str) -> None:
        self.requests[f"{method} {template}"] += 1
        self.by_method[method] += 1

    def record_fault(self, label: str) -> None:
        """An injected fault or a rate-limited request, by kind (``"503 after commit"``)."""
        self.faults[label] += 1

    def reset(self) -> None:
        self.requests.clear()
        self.by_method.clear()
        self.faults.clear()

    def snapshot(self, integrations: int) -> dict[str, Any]:
        by_method = dict.fromkeys(COUNTED_METHODS, 0) | dict(self.by_method)
        return {
            "requests": dict(sorted(self.requests.items())),
            "by_method": by_method,
            "faults": dict(sorted(self.faults.items())),
            "integrations": integrations,
        }


class ApiMiddleware:
    """Request ids everywhere; on API paths: count, sleep ``latency_ms``, check the key;
    on control paths: refuse a foreign ``Origin`` (403), then check the key.

    The control paths change state (``POST /_emulator/reset`` wipes it), so a web
    page on another site must not reach them: a browser names that page's site in
    ``Origin``. Clients that are not browsers send no ``Origin`` and need the key only.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        api_key: str,
        latency_ms: int,
        stats: RequestStats,
        routes: Sequence[tuple[str, Collection[str]]],
        hosts: Collection[str] = (),
    ) -> None:
        self.app = app
        self.hosts = {host.lower().strip("[]") for host in hosts}
        self.api_key = api_key.encode()
        self.latency_ms = latency_ms
        self.stats = stats
        self.routes = [(compile_path(path)[0], path, set(methods)) for path, methods in routes]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        given_id = headers.get("x-request-id", "")
        rid = given_id if _REQUEST_ID.match(given_id) else request_id()
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                MutableHeaders(scope=message)["X-Request-ID"] = rid
            await send(message)

        if not host_allowed(headers.get("host"), self.hosts):
            await _misdirected()(scope, receive, send_with_id)
            return
        if is_api_path(scope["path"]):
            template = self._template(scope["method"], scope["path"])
            if template is not None:
                self.stats.record(scope["method"], template)
            if self.latency_ms > 0:
                await asyncio.sleep(self.latency_ms / 1000)
            if not self._authorized(headers):
                await _unauthorized()(scope, receive, send_with_id)
                return
        elif is_control_path(scope["path"]):
            if not _same_origin(scope, headers):
                await _forbidden()(scope, receive, send_with_id)
                return
            if not self._authorized(headers):
                await _unauthorized()(scope, receive, send_with_id)
                return
        try:
            await self.app(scope, receive, send_with_id)
        except ConnectionDropped:
            raise
        except Exception:
            logger.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            body = error_body("internal_error", "The emulator failed to handle this request.")
            await JSONResponse(body, status_code=500)(scope, receive, send_with_id)

    def _template(self, method: str, path: str) -> str | None:
        """The route template a request will reach (None: a 404 or 405)."""
        for regex, template, methods in self.routes:
            if method in methods and regex.match(path):
                return template
        return None

    def _authorized(self, headers: Headers) -> bool:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            token.strip().encode(), self.api_key
        )


def host_allowed(host_header: str | None, hosts: Collection[str]) -> bool:
    """A ``Host`` naming this machine: a loopback name or address, or one of ``hosts`` (the
    names the emulator was started on), any port.

    A web page can make a browser send requests to 127.0.0.1 under a name of its own
    (DNS rebinding); the browser then sends that name in ``Host``, which is refused.
    """
    if not host_header:
        return False
    name = _origin_of(f"http://{host_header}")
    if name is None:
        return False
    hostname = name[1].lower()
    return is_loopback_name(hostname) or hostname in hosts


def is_loopback_name(hostname: str) -> bool:
    """``localhost`` (and names under it), ``127.0.0.0/8`` and ``::1``."""
    if hostname == "localhost" or hostname.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(hostname).is_loopback
    except ValueError:
        return False


def _misdirected() -> JSONResponse:
    body = error_body(
        "invalid_host",
        "The Host header must name this server: a loopback name or address, or the "
        "host it was started with (--host).",
    )
    return JSONResponse(body, status_code=400)


def _unauthorized() -> JSONResponse:
    body = error_body(
        "unauthorized", "Missing or invalid API key: send 'Authorization: Bearer <api key>'."
    )
    return JSONResponse(body, status_code=401, headers={"WWW-Authenticate": "Bearer"})


def _forbidden() -> JSONResponse:
    body = error_body("forbidden", "Requests to /_emulator/* from another origin are refused.")
    return JSONResponse(body, status_code=403)


def _same_origin(scope: Scope, headers: Headers) -> bool:
    """True if the request has no ``Origin``, or every ``Origin`` is the server's own.

    The server's own origin is the request's scheme with its ``Host``; an
    ``Origin`` of ``null`` (a sandboxed page, a file), a malformed one, or one
    on a request without ``Host`` is foreign.
    """
    origins = headers.getlist("origin")
    if not origins:
        return True
    own = _origin_of(f"{scope.get('scheme', 'http')}://{headers.get('host', '')}")
    return own is not None and all(_origin_of(origin) == own for origin in origins)


def _origin_of(url: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a bare ``scheme://host[:port]`` (default ports filled in);
    None for anything else."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError:  # a port out of range or not a number, a bad IPv6 literal
        return None
    scheme = parts.scheme.lower()
    bare = not (parts.path or parts.query or parts.fragment or "@" in parts.netloc)
    if scheme not in _DEFAULT_PORTS or not parts.hostname or not bare:
        return None
    return scheme, parts.hostname, port if port is not None else _DEFAULT_PORTS[scheme]


class BodyLimitMiddleware:
    """Refuse a request body over ``max_bytes`` with 413, before anything parses it.

    A ``Content-Length`` over the cap is refused unread; a body without one
    (chunked) is read up to the cap and refused as soon as it passes it. A body
    within the cap is handed on whole.
    """

    def __init__(self, app: ASGIApp, *, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = Headers(scope=scope).get("content-length", "").strip()
        if declared.isascii() and declared.isdigit() and int(declared) > self.max_bytes:
            await self._too_large()(scope, receive, send)
            return
        messages: list[Message] = []
        size = 0
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            size += len(message.get("body", b""))
            if size > self.max_bytes:
                await self._too_large()(scope, receive, send)
                return
            if not message.get("more_body", False):
                break

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)

    def _too_large(self) -> JSONResponse:
        body = error_body(
            "request_too_large",
            f"The request body is over the limit of {self.max_bytes:,} bytes.",
        )
        return JSONResponse(body, status_code=413)
