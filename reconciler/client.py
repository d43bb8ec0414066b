"""The one module that speaks HTTP: the Data Integrations API through httpx.

Lists every page, creates, updates and deletes integrations of both
ownerships. Retries (tenacity) what is safe to retry: 429, 500, 502, 503,
504, connection errors and timeouts, with exponential backoff and jitter
(1 s doubling, capped at 30 s); a ``Retry-After`` wins, capped at 60 s; at
most ``max_retries`` retries, and no wait that would end more than
``max_retry_time`` seconds after a call began.
Every POST carries an ``Idempotency-Key``, the same on all its retries; PUT
and DELETE are idempotent by nature, so a retry after one that took effect is
harmless. 400, 401, 403, 404, 409 and 422 fail at once with the API's message;
so do a DNS name that does not exist and a certificate that does not verify
(``ApiUnreachableError``, which names the host and port, the kind of failure
and the attempts made; ``reconciler.responses.unreachable``).
No error carries a secret this client sent: an API message that echoes the
request (its client secret, the API key) is scrubbed against that request's
values, and an answer that does not parse is reported by field, never by value.
Requests are paced under the API's budget (6,000 a minute per key) by a
token bucket that learns from 429s (``reconciler.pacing``): the whole client
slows down to what the server admits, then creeps back up.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx
from pydantic import ValidationError
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from tenacity.stop import stop_base

from reconciler import __version__
from reconciler.errors import (
    ApiError,
    ApiUnreachableError,
    ConfigError,
    ConflictError,
    NotFoundError,
)
from reconciler.identity import Identity, Ownership
from reconciler.listing import Page, list_all
from reconciler.models import RemoteIntegration
from reconciler.pacing import RateLimiter
from reconciler.responses import api_error, endpoint, sent_secrets, unreachable
from reconciler.scrubbing import scrub
from reconciler.urls import check_base_url
from reconciler.wire import created_as_asked

LOG = logging.getLogger(__name__)
DEFAULT_BASE_URL = "https://api.workos.com"
RETRYABLE_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_BASE = 1.0
BACKOFF_CAP = 30.0
RETRY_AFTER_CAP = 60.0
MAX_RETRY_TIME = 120.0
REQUESTS_PER_MINUTE = 6000.0

Sleep = Callable[[float], Awaitable[None]]
Clock = Callable[[], float]


class _Retryable(Exception):
    """An answer worth retrying; carries the error to raise if retries run out.

    ``ambiguous``: the request may have taken effect (a 5xx, or a connection
    lost after sending); a 429 or a refused connection did not.
    """

    def __init__(self, error: ApiError, retry_after: float | None, *, ambiguous: bool) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after
        self.ambiguous = ambiguous


class _Deadline(stop_base):
    """Stop when the next wait would end past ``budget`` seconds after ``started``."""

    def __init__(self, clock: Clock, started: float, budget: float) -> None:
        self.clock = clock
        self.started = started
        self.budget = budget

    def __call__(self, retry_state: RetryCallState) -> bool:
        elapsed = self.clock() - self.started
        return elapsed + retry_state.upcoming_sleep > self.budget


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


def _log_retry(method: str, path: str, state: RetryCallState) -> None:
    outcome = state.outcome
    error = outcome.exception() if outcome else None
    reason = error.error.api_message if isinstance(error, _Retryable) else "an error"
    wait = state.next_action.sleep if state.next_action else 0.0
    LOG.info(
        "%s %s failed (%s); retry %d in %.1f s", method, path, reason, state.attempt_number, wait
    )


def _integration_path(slug: str, ownership: Ownership) -> str:
    path = f"/data-integrations/{quote(slug, safe='')}"
    return path + "/organization" if ownership == "organization" else path


def _integration(answer: object, where: str) -> RemoteIntegration:
    """An integration from an answer; one that does not parse is an ``ApiError`` naming fields."""
    try:
        return RemoteIntegration.model_validate(answer)
    except ValidationError as error:
        problems = error.errors(include_input=False, include_url=False, include_context=False)
        first = problems[0]
        field = ".".join(str(part) for part in first["loc"]) or "body"
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ApiError(f"unexpected answer to {where}: {field}: {first['msg']}{more}") from None


class ApiClient:
    """An async client of the Data Integrations API.

    ``transport`` is the seam for tests (``httpx.ASGITransport`` over the
    emulator); ``sleep``, ``clock`` and ``jitter`` make backoff and the retry
    time budget testable without waiting. ``max_requests_per_minute`` paces
    every request, retries included (None: no pacing).
    """

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str = DEFAULT_BASE_URL,
        transport: httpx.AsyncBaseTransport | None = None,
        max_retries: int = 3,
        max_retry_time: float = MAX_RETRY_TIME,
        timeout: float = 30.0,
        max_requests_per_minute: float | None = REQUESTS_PER_MINUTE,
        sleep: Sleep | None = None,
        clock: Clock = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        if not api_key:
            raise ConfigError("no API key: set WORKOS_API_KEY")
        self.base_url = check_base_url(base_url)
        parsed = httpx.URL(self.base_url)
        self._where = endpoint(parsed)
        self.api_key = api_key
        self.max_retries = max_retries
        self.max_retry_time = max_retry_time
        self.requests_sent = 0
        self._sleep: Sleep = sleep or asyncio.sleep
        self._clock = clock
        self._jitter = jitter
        self._pace = (
            RateLimiter(max_requests_per_minute) if max_requests_per_minute is not None else None
        )
        # TLS is verified, always: there is no option to turn it off. httpx's only knobs
        # are SSL_CERT_FILE / SSL_CERT_DIR, which choose what to trust, not whether to check.
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            transport=transport,
            verify=True,
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
        """Every integration (of ``ownership``, if given), each once.

        The first page alone, then four cursor streams at once when there is
        more (``reconciler.listing``): about half the sequential round trips.
        """
        return await list_all(self._page, ownership)

    async def _page(self, params: dict[str, str | int]) -> Page:
        body = await self._request("GET", "/data-integrations", params=params)
        items = body.get("data") if isinstance(body, dict) else None
        if not isinstance(items, list):
            raise ApiError("unexpected answer to GET /data-integrations: no data list")
        found = [_integration(item, "GET /data-integrations") for item in items]
        metadata = body.get("list_metadata")
        after = metadata.get("after") if isinstance(metadata, dict) else None
        return Page(found, str(after) if after else None)

    async def get(self, slug: str, ownership: Ownership) -> RemoteIntegration | None:
        path = _integration_path(slug, ownership)
        try:
            body = await self._request("GET", path)
        except NotFoundError:
            return None
        return _integration(body, f"GET {path}")

    async def create(
        self, body: dict[str, Any], *, idempotency_key: str | None = None
    ) -> RemoteIntegration:
        """POST a new integration; one idempotency key (fresh unless given) for all its retries.

        If an attempt may have taken effect (5xx, lost connection) and a later
        one is answered 409, the integration is fetched: when it is what this
        POST asked for, the create did succeed, and it is returned.
        """
        headers = {"Idempotency-Key": idempotency_key or str(uuid.uuid4())}
        failures: list[_Retryable] = []
        try:
            answer = await self._request(
                "POST", "/data-integrations", json=body, headers=headers, failures=failures
            )
        except ConflictError:
            if not any(failure.ambiguous for failure in failures):
                raise
            found = await self.get(*Identity.from_body(body))
            if found is None or not created_as_asked(found, body):
                raise
            return found
        return _integration(answer, "POST /data-integrations")

    async def update(
        self, slug: str, ownership: Ownership, body: dict[str, Any]
    ) -> RemoteIntegration:
        path = _integration_path(slug, ownership)
        answer = await self._request("PUT", path, json=body)
        return _integration(answer, f"PUT {path}")

    async def delete(self, slug: str, ownership: Ownership) -> None:
        """DELETE; a 404 after an attempt whose answer was lost means that attempt did it."""
        try:
            await self._request("DELETE", _integration_path(slug, ownership))
        except NotFoundError as gone:
            if not gone.ambiguous:
                raise

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, str | int] | None = None,
        json: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        failures: list[_Retryable] | None = None,
    ) -> Any:
        """Send with retries; ``failures`` collects each retryable failure on the way."""
        retrying = AsyncRetrying(
            stop=(
                stop_after_attempt(self.max_retries + 1)
                | _Deadline(self._clock, self._clock(), self.max_retry_time)
            ),
            retry=retry_if_exception_type(_Retryable),
            wait=self._wait,
            reraise=True,
            sleep=self._sleep,
            before_sleep=lambda state: _log_retry(method, path, state),
        )
        attempts = 0
        seen: list[_Retryable] = [] if failures is None else failures
        try:
            try:
                async for attempt in retrying:
                    with attempt:
                        attempts += 1
                        try:
                            return await self._send_once(method, path, params, json, headers)
                        except _Retryable as failure:
                            seen.append(failure)
                            raise
            except _Retryable as exhausted:
                error = exhausted.error
                if isinstance(error, ApiUnreachableError):
                    raise error.after(attempts) from None
                raise error from None
            except ApiUnreachableError as hopeless:  # another attempt would fail the same way
                raise hopeless.after(attempts) from None
        except ApiError as failed:
            # an earlier attempt's answer was lost: this write may have taken effect
            failed.ambiguous = method != "GET" and any(f.ambiguous for f in seen)
            raise
        raise AssertionError("unreachable")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        """Backoff with jitter, or the answer's ``Retry-After`` when it gave one."""
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
        if self._pace is not None:
            await self._pace.acquire()
        self.requests_sent += 1
        secrets = sent_secrets(self.api_key, json)
        try:
            response = await self._http.request(
                method, path, params=params, json=json, headers=headers
            )
        except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as exc:
            failure = unreachable(exc)
            error = ApiUnreachableError(
                self._where,
                scrub(failure.reason, secrets),
                request=scrub(f"{method} {path}", secrets),
                retryable=failure.retry,
                hint=failure.hint,
            )
            if not failure.retry:
                raise error from None
            raise _Retryable(error, None, ambiguous=failure.sent) from None
        if self._pace is not None:
            if response.status_code == 429:
                self._pace.throttled()  # the whole client slows down, not just this request
            else:
                self._pace.succeeded()
        if response.status_code in RETRYABLE_STATUSES:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            busy = api_error(response, secrets)
            raise _Retryable(busy, retry_after, ambiguous=response.status_code != 429)
        if response.is_error:
            raise api_error(response, secrets)
        if response.status_code == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ApiError(
                f"unexpected answer to {method} {path}: not JSON",
                status=response.status_code,
                request_id=scrub(response.headers.get("x-request-id") or "", secrets) or None,
            ) from None
