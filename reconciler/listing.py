"""Listing every integration with as few sequential round trips as the API allows.

Across the internet the cost of a listing is its *sequential* round trips,
not its requests. The first page is fetched alone; when it has an ``after``
cursor, the rest is fetched by four cursor streams at once: each ownership
(the API's ``ownership`` filter splits the set in two disjoint streams) is
read from both ends, ``order=asc`` continuing after the first page and
``order=desc`` from the last integration, until the two ends meet. About
half the round trips for one ownership, a quarter when they are balanced;
at most the pages plus four requests.

Cursors are only ids the API returned (it promises no more). The two ends of
a stream meet where one returns an id the other has already returned: each
end reads a contiguous run of the ordering, so once the runs overlap every
integration present for the whole listing has been read, and ids seen twice
are kept once. Integrations created or deleted meanwhile may or may not be
seen, as with any paginated listing; a deleted cursor still bounds its page.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from reconciler.models import OWNERSHIPS, Ownership, RemoteIntegration

PAGE_LIMIT = 100

Params = dict[str, str | int]
T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """One page: its integrations in the order asked, and the cursor beyond it (if any)."""

    items: list[RemoteIntegration]
    after: str | None


Fetch = Callable[[Params], Awaitable[Page]]


@dataclass
class _End:
    """One end of a stream: its cursor, and whether it has reached the end of the ordering."""

    order: str
    cursor: str | None
    done: bool = False
    items: list[RemoteIntegration] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)

    def params(self, ownership: Ownership | None) -> Params:
        params: Params = {"limit": PAGE_LIMIT, "order": self.order}
        if ownership is not None:
            params["ownership"] = ownership
        if self.cursor is not None:
            params["after"] = self.cursor
        return params

    def take(self, page: Page) -> None:
        for item in page.items:
            if item.id not in self.ids:
                self.ids.add(item.id)
                self.items.append(item)
        self.cursor = page.after
        self.done = page.after is None


async def list_all(fetch: Fetch, ownership: Ownership | None = None) -> list[RemoteIntegration]:
    """Every integration (of ``ownership``, if given), each once, oldest first where known."""
    first = await fetch(_End("asc", None).params(ownership))
    if first.after is None:
        return list(first.items)
    ownerships = [ownership] if ownership is not None else list(OWNERSHIPS)
    streams = await _all(
        *(_meet(fetch, o, [i for i in first.items if i.ownership == o]) for o in ownerships)
    )
    found: dict[str, RemoteIntegration] = {item.id: item for item in first.items}
    for stream in streams:
        for item in stream:
            found.setdefault(item.id, item)
    return list(found.values())


async def _all(*steps: Awaitable[T]) -> list[T]:
    """``asyncio.gather``, but a failure cancels the others (no request left running)."""
    tasks = [asyncio.ensure_future(step) for step in steps]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise


async def _meet(
    fetch: Fetch, ownership: Ownership, seen: list[RemoteIntegration]
) -> list[RemoteIntegration]:
    """One ownership read from both ends at once, page by page, until the ends meet."""
    ascending = _End("asc", seen[-1].id if seen else None)
    ascending.ids.update(item.id for item in seen)
    descending = _End("desc", None)
    while True:
        up, down = await _all(
            fetch(ascending.params(ownership)), fetch(descending.params(ownership))
        )
        ascending.take(up)
        descending.take(down)
        met = ascending.ids & descending.ids
        stuck = not up.items and not down.items  # a misbehaving cursor: don't loop forever
        if met or ascending.done or descending.done or stuck:
            return ascending.items + descending.items[::-1]
