"""Pacing: stay under the API's rate limit, and learn it when the server says 429.

A token bucket starts at the configured budget (``--max-requests-per-minute``,
6,000 by default) and never exceeds it. A 429 says the client went too fast:
like the AWS SDKs' "adaptive" retry mode, the whole client slows down, not
just the one request. The new rate is what the server actually admitted
since the last cut (or over the last second), a little under it; the
request that was refused waits its own ``Retry-After``. Then the rate creeps
back up, 1% of the budget a second, so that a limit that was only a bad
minute is not kept for good. Cuts are at most one per ``COOLDOWN`` (the
429s of requests already in flight say the same thing once).
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable

from reconciler.errors import ConfigError

COOLDOWN = 0.2
"""Seconds between two cuts: 429s answered within it come from the same excess."""
WINDOW = 1.0
"""Seconds of successes the first cut measures the admitted rate over."""
BELOW = 0.95
"""A cut sets the rate this much under the rate the server admitted."""
CREEP = 0.01
"""After a cut, the rate grows back by this share of the budget each second."""
MINIMUM = 0.5
"""Requests a second the rate never goes under."""


class RateLimiter:
    """At most ``per_minute`` requests a minute, in bursts of at most a second's worth;
    slower after a 429 (``throttled``), creeping back to ``per_minute`` after.

    One per client; safe for the coroutines of one event loop at a time.
    """

    def __init__(self, per_minute: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        if per_minute <= 0:
            raise ConfigError("the request rate limit must be positive")
        self.ceiling = per_minute / 60
        self.rate = self.ceiling
        self.burst = max(1.0, self.ceiling)
        self._clock = clock
        self._tokens = self.burst
        self._updated = clock()
        self._last_cut: float | None = None
        self._successes: deque[float] = deque()
        self._lock: asyncio.Lock | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.cuts = 0

    @property
    def per_minute(self) -> float:
        """The rate in force now, in requests a minute."""
        return self.rate * 60

    async def acquire(self) -> None:
        """Wait for the next request's turn."""
        loop = asyncio.get_running_loop()
        if self._lock is None or self._loop is not loop:
            self._lock, self._loop = asyncio.Lock(), loop
        async with self._lock:
            while True:
                self._refill()
                if self._tokens >= 1:
                    self._tokens -= 1
                    return
                await asyncio.sleep((1 - self._tokens) / self.rate)

    def succeeded(self) -> None:
        """A request was answered (not 429): it counts towards the admitted rate."""
        now = self._clock()
        self._successes.append(now)
        while self._successes and self._successes[0] < now - 2 * WINDOW:
            self._successes.popleft()

    def throttled(self) -> None:
        """A 429: set the rate a little under what the server admitted (once per cooldown)."""
        now = self._clock()
        if self._last_cut is not None and now - self._last_cut < COOLDOWN:
            return
        self._refill()
        since = self._last_cut if self._last_cut is not None else now - WINDOW
        since = max(since, now - WINDOW)
        admitted = sum(1 for t in self._successes if t > since) / max(now - since, COOLDOWN)
        self.rate = max(MINIMUM, min(self.rate, admitted * BELOW))
        self._tokens = min(self._tokens, 0.0)
        self._last_cut = now
        self.cuts += 1

    def _refill(self) -> None:
        now = self._clock()
        elapsed = max(0.0, now - self._updated)
        self._updated = now
        if self._last_cut is not None:
            self.rate = min(self.ceiling, self.rate + CREEP * self.ceiling * elapsed)
        self._tokens = min(max(1.0, self.rate), self._tokens + elapsed * self.rate)
