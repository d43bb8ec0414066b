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

That reasoning holds only if the API honours ``order`` and ``ownership``.
Each page is checked (``_Checked``): its rows in the order asked (by
``created_at``) and of the ownership asked, no row twice in one end, no
cursor without rows, and a descending end that does not start where the
ascending one did (which catches an ignored ``order`` even when every row
has the same ``created_at``). When a check fails the streams are
dropped and the listing starts over as one sequential stream, with a warning
(``Listing.warnings``); a sequential stream that does not advance is an
``ApiError``: never a plan from a partial listing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from reconciler.errors import ApiError
from reconciler.identity import OWNERSHIPS, Ownership
from reconciler.models import RemoteIntegration

PAGE_LIMIT = 100

Params = dict[str, str | int]
T = TypeVar("T")


@dataclass(frozen=True)
class Page:
    """One page: its integrations in the order asked, and the cursor beyond it (if any)."""

    items: list[RemoteIntegration]
    after: str | None


Fetch = Callable[[Params], Awaitable[Page]]


class Listing(list[RemoteIntegration]):
    """Every integration listed, each once, and what the listing noticed on the way."""

    def __init__(self, items: Iterable[RemoteIntegration], warnings: Sequence[str] = ()) -> None:
        super().__init__(items)
        self.warnings = tuple(warnings)


def listing_warnings(listed: Sequence[RemoteIntegration]) -> tuple[str, ...]:
    """The warnings of a ``Listing`` (none for a plain list, e.g. from a test double)."""
    return listed.warnings if isinstance(listed, Listing) else ()


class _Inconsistent(Exception):
    """The API did not honour a parameter the concurrent streams rely on."""


def _params(order: str, ownership: Ownership | None, cursor: str | None) -> Params:
    params: Params = {"limit": PAGE_LIMIT, "order": order}
    if ownership is not None:
        params["ownership"] = ownership
    if cursor is not None:
        params["after"] = cursor
    return params


def _time(item: RemoteIntegration) -> datetime | None:
    try:
        return datetime.fromisoformat(item.created_at)
    except ValueError:
        return None


@dataclass
class _Checked:
    """One end of a stream, checking every page it is given against what it asked."""

    order: str
    ownership: Ownership | None
    cursor: str | None = None
    done: bool = False
    items: list[RemoteIntegration] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    last_time: datetime | None = None

    def params(self) -> Params:
        return _params(self.order, self.ownership, self.cursor)

    def take(self, page: Page) -> None:
        """Keep the page's rows; ``_Inconsistent`` if the page is not what was asked."""
        for item in page.items:
            if self.ownership is not None and item.ownership != self.ownership:
                raise _Inconsistent(f"the API ignored ownership={self.ownership}")
            if item.id in self.ids:
                raise _Inconsistent(
                    f"the API's order={self.order} pages repeat integrations (cursor ignored?)"
                )
            self._check_order(item)
            self.ids.add(item.id)
            self.items.append(item)
        if page.after is not None and not page.items:
            raise _Inconsistent(f"the API's order={self.order} pages do not advance")
        self.cursor = page.after
        self.done = page.after is None

    def _check_order(self, item: RemoteIntegration) -> None:
        time = _time(item)
        if time is None:
            return
        previous, self.last_time = self.last_time, time
        if previous is None:
            return
        if (self.order == "asc" and time < previous) or (self.order == "desc" and time > previous):
            raise _Inconsistent(f"the API ignored order={self.order}")


async def list_all(fetch: Fetch, ownership: Ownership | None = None) -> Listing:
    """Every integration (of ``ownership``, if given), each once, oldest first where known.

    Concurrent streams when the API honours ``order`` and ``ownership``; one
    sequential stream, and a warning, when a page shows it does not.
    """
    first = await fetch(_params("asc", ownership, None))
    head = _Checked("asc", ownership)
    try:
        head.take(first)
        if first.after is None:
            return Listing(first.items)
        ownerships = [ownership] if ownership is not None else list(OWNERSHIPS)
        streams = await _all(
            *(_meet(fetch, o, [i for i in first.items if i.ownership == o]) for o in ownerships)
        )
    except _Inconsistent as problem:
        return Listing(
            await _sequential(fetch, ownership, first), [f"{problem}; listed sequentially"]
        )
    found: dict[str, RemoteIntegration] = {item.id: item for item in first.items}
    for stream in streams:
        for item in stream:
            found.setdefault(item.id, item)
    return Listing(found.values())


async def _sequential(
    fetch: Fetch, ownership: Ownership | None, first: Page
) -> list[RemoteIntegration]:
    """One stream from ``first`` on, following ``after``, trusting no order or filter:
    rows of another ownership are dropped here, rows seen twice kept once."""
    found: dict[str, RemoteIntegration] = {}
    cursors: set[str] = set()
    page = first
    while True:
        for item in page.items:
            if ownership is None or item.ownership == ownership:
                found.setdefault(item.id, item)
        if page.after is None:
            return list(found.values())
        if page.after in cursors or not page.items:
            raise ApiError(
                "the API's list pages do not advance (a cursor came back twice): "
                "cannot list every integration, so nothing is planned"
            )
        cursors.add(page.after)
        page = await fetch(_params("asc", ownership, page.after))


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
    ascending = _Checked("asc", ownership, seen[-1].id if seen else None)
    ascending.take(Page(seen, ascending.cursor))
    descending = _Checked("desc", ownership)
    while True:
        up, down = await _all(fetch(ascending.params()), fetch(descending.params()))
        first_down = not descending.items
        ascending.take(up)
        descending.take(down)
        if first_down and seen and len(down.items) > 1 and down.items[0].id == seen[0].id:
            raise _Inconsistent(
                "the API ignored order=asc or order=desc (both start at the same integration)"
            )
        if ascending.ids & descending.ids or ascending.done or descending.done:
            return ascending.items + descending.items[::-1]
