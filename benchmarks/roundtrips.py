"""The round trips ``reconciler.listing`` waits for, counted in virtual time.

The real listing runs against an in-memory API whose every answer takes one
unit of time, on an event loop whose clock jumps to its next timer instead of
waiting: the listing's elapsed time is its sequential round trips, exactly,
whatever it sends at once. Times the latency, it is the least latency can add
to a plan (the latency table's "Listing's round trips").
"""

from __future__ import annotations

import asyncio
import selectors
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from benchmarks.workload import identities

PAGE_LIMIT = 100


class _Instant(selectors.DefaultSelector):
    """A selector that never waits: the clock moves on by the time it was asked to wait."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        if timeout is None:
            raise RuntimeError("nothing left to wait for: the listing is stuck")
        self.now += max(0.0, timeout)
        return super().select(0)


class VirtualTime(asyncio.SelectorEventLoop):
    """An event loop on virtual time (``_Instant``'s clock)."""

    def __init__(self) -> None:
        self._instant = _Instant()
        super().__init__(self._instant)

    def time(self) -> float:
        return self._instant.now


@dataclass(frozen=True)
class _Row:
    """What the listing looks at in an integration."""

    id: str
    ownership: str
    created_at: str = "2026-01-15T12:00:00.000Z"  # the listing checks each page's order


def listing_round_trips(size: int, share: Fraction) -> tuple[int, int]:
    """``(round trips, requests)`` of ``reconciler.listing`` over the workload's ``size``
    integrations, ``share`` of them organization-owned, in creation order."""
    from reconciler.listing import Page, list_all

    rows = [
        _Row(f"data_integration_{index:026d}", ownership)
        for index, _, ownership in identities(size, share)
    ]
    requests = 0

    async def fetch(params: dict[str, str | int]) -> Page:
        nonlocal requests
        requests += 1
        await asyncio.sleep(1.0)  # one round trip
        ordered = [r for r in rows if r.ownership == params.get("ownership", r.ownership)]
        if params["order"] == "desc":
            ordered.reverse()
        after = params.get("after")
        start = next((n + 1 for n, r in enumerate(ordered) if r.id == after), 0)
        chunk: list[Any] = ordered[start : start + int(params["limit"])]
        more = start + len(chunk) < len(ordered)
        return Page(chunk, chunk[-1].id if more and chunk else None)

    loop = VirtualTime()
    try:
        found = loop.run_until_complete(list_all(fetch))
        elapsed = loop.time()
    finally:
        loop.close()
    if len({row.id for row in found}) != size:
        raise RuntimeError(f"the listing's simulation found {len(found)} of {size}")
    return round(elapsed), requests
