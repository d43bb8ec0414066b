"""The one module that speaks HTTP: the Data Integrations API through httpx.

Lists every page, creates, updates and deletes integrations of both
ownerships, retries what is safe to retry (429, 5xx, connection errors and
timeouts) with exponential backoff and jitter that honours ``Retry-After``,
and sends an ``Idempotency-Key`` on every POST, reused on its retries.
"""

from __future__ import annotations

import asyncio
import ipaddress
import random
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt

from reconciler import __version__
from reconciler.errors import (
    ApiError,
    AuthenticationError,
    ConfigError,
    ConflictError,
    NotFoundError,
    TransportError,
    UnprocessableError,
)
from reconciler.models import Ownership, RemoteIntegration

DEFAULT_BASE_URL = "https://api.workos.com"
PAGE_LIMIT = 100
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0

Sleep = Callable[[float], Awaitable[None]]


class _Retryable(Exception):
    """An answer worth retrying; carries the error to raise if retries run out."""

    def __init__(self, error: ApiError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


def redact_key(api_key: str) -> str:
    """The API key as it may be shown: ``sk_…`` plus its last 4."""
    return f"sk_…{api_key[-4:]}" if len(api_key) >= 8 else "sk_…"


def check_base_url(base_url: str) -> str:
    """Accept https URLs, and plain http only to a loopback host."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"invalid API URL {base_url!r}: expected https://host[:port]")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ConfigError(
            f"refusing plain http:// API URL to {parts.hostname}: use https://"
            " (plain http is allowed only to a loopback address)"
        )
    return base_url.rstrip("/")


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` in seconds (delta-seconds or an HTTP date), capped."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        seconds = (when - datetime.now(UTC)).total_seconds()
    return min(max(seconds, 0.0), RETRY_AFTER_CAP)


def _integration_path(slug: str, ownership: Ownership) -> str:
    path = f"/data-integrations/{quote(slug, safe='')}"
    return path + "/organization" if ownership == "organization" else path


def _api_error(response: httpx.Response) -> ApiError:
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
    return kind(message, status=response.status_code, code=code, request_id=request_id)


class ApiClient:
    """An async client of the Data Integrations API.

    ``transport`` is the seam for tests (``httpx.ASGITransport`` over the
    emulator); ``sleep`` and ``jitter`` make backoff testable without waiting.
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 3,
        timeout: float = 30.0,
        sleep: Sleep | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not api_key:
            raise ConfigError("no API key: set WORKOS_API_KEY")
        self.base_url = check_base_url(base_url)
        self.api_key = api_key
        self.max_retries = max_retries
        self.requests_sent = 0
        self._sleep: Sleep = sleep or asyncio.sleep
        self._jitter = jitter
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            timeout=timeout,
            headers={
                "Authorization": f"Bearer {api_key}",
                "User-Agent": f"reconciler/{__version__}",
                "Accept": "application/json",
            },
        )

    async def __aenter__(self) -> ApiClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    async def list_integrations(
        self, ownership: Ownership | None = None
    ) -> list[RemoteIntegration]:
        """Every integration, following ``list_metadata.after`` to the last page."""
        found: list[RemoteIntegration] = []
        params: dict[str, str | int] = {"limit": PAGE_LIMIT, "order": "asc"}
        if ownership:
            params["ownership"] = ownership
        while True:
            body = await self._request("GET", "/data-integrations", params=params)
            found.extend(RemoteIntegration.model_validate(item) for item in body["data"])
            after = (body.get("list_metadata") or {}).get("after")
            if not after:
                return found
            params["after"] = after

    async def get(self, slug: str, ownership: Ownership) -> RemoteIntegration | None:
        try:
            body = await self._request("GET", _integration_path(slug, ownership))
        except NotFoundError:
            return None
        return RemoteIntegration.model_validate(body)

    async def create(self, body: dict[str, Any]) -> RemoteIntegration:
        """POST a new integration; one idempotency key for all its retries."""
        headers = {"Idempotency-Key": str(uuid.uuid4())}
        answer = await self._request("POST", "/data-integrations", json=body, headers=headers)
        return RemoteIntegration.model_validate(answer)

    async def update(
        self, slug: str, ownership: Ownership, body: dict[str, Any]
    ) -> RemoteIntegration:
        answer = await self._request("PUT", _integration_path(slug, ownership), json=body)
        return RemoteIntegration.model_validate(answer)

    async def delete(self, slug: str, ownership: Ownership) -> None:
        await self._request("DELETE", _integration_path(slug, ownership))

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_retries + 1),
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            wait=self._wait,
            reraise=True,
            sleep=self._sleep,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(method, path, params, json, headers)
        except _Retryable as exhausted:
            raise exhausted.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome else None
        if isinstance(error, _Retryable) and error.retry_after is not None:
            return float(error.retry_after)
        backoff = min(BACKOFF_CAP, BACKOFF_BASE * 2.0 ** (state.attempt_number - 1))
        return float(backoff * (0.5 + self._jitter() / 2))

    async def _send_once(
        self,
        method: str,
        path: str,
        params: dict[str, str | int] | None,
        json: dict[str, Any] | None,
        headers: dict[str, str] | None,
    ) -> Any:
        self.requests_sent += 1
        try:
            response = await self._http.request(
                method, path, params=params, json=json, headers=headers
            )
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            error = TransportError(f"{method} {path}: {type(exc).__name__}")
            raise _Retryable(error, None) from None
        if response.status_code in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise _Retryable(_api_error(response), retry_after)
        if response.is_error:
            raise _api_error(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()
