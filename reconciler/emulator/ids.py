"""Identifiers and timestamps: ULIDs, request ids, ISO 8601 with milliseconds."""

from __future__ import annotations

import secrets
import threading
import time
from datetime import UTC, datetime

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ULID_PATTERN = "[0-9A-HJKMNP-TV-Z]{26}"
INTEGRATION_PREFIX = "data_integration_"
INTEGRATION_ID_PATTERN = f"^{INTEGRATION_PREFIX}{ULID_PATTERN}$"
_ULID_MAX = (1 << 128) - 1


def now_ms() -> int:
    """Milliseconds since the epoch (the store's clock)."""
    return time.time_ns() // 1_000_000


def encode_ulid(value: int) -> str:
    """Encode a 128-bit integer as 26 Crockford base32 characters."""
    chars = []
    for _ in range(26):
        chars.append(CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def decode_ulid(text: str) -> int:
    """The 128-bit integer of a ULID string."""
    value = 0
    for char in text:
        value = (value << 5) | CROCKFORD.index(char)
    return value


def random_ulid(ms: int) -> int:
    """A ULID for the millisecond ``ms``: 48 bits of time, 80 random bits."""
    return ((ms & ((1 << 48) - 1)) << 80) | secrets.randbits(80)


class MonotonicUlids:
    """ULIDs that strictly increase, even within one millisecond or if the clock steps back.

    Integration ids come from here, so that id order is creation order.
    """

    def __init__(self, floor: str | None = None) -> None:
        self._last = decode_ulid(floor) if floor else 0
        self._lock = threading.Lock()

    def next(self, ms: int) -> str:
        with self._lock:
            candidate = random_ulid(ms)
            if candidate <= self._last:
                candidate = min(self._last + 1, _ULID_MAX)
            self._last = candidate
            return encode_ulid(candidate)


def request_id() -> str:
    """A fresh request id, ``req_<ULID>``."""
    return "req_" + encode_ulid(random_ulid(now_ms()))


def callback_key() -> str:
    """The per-integration key of an OAuth redirect URI, ``dik_<ULID>``."""
    return "dik_" + encode_ulid(random_ulid(now_ms()))


def iso_ms(ms: int) -> str:
    """``2026-01-15T12:00:00.000Z`` for a millisecond timestamp."""
    moment = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
