"""Concurrent listing (``reconciler.listing``): every integration present for the whole
listing is seen exactly once, none twice, however creates and deletes interleave with
the pages; and the round trips it takes."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reconciler.emulator.app import create_app, store_of
from reconciler.errors import ApiError
from reconciler.listing import Page, list_all
from reconciler.models import Ownership, RemoteIntegration
from tests.support import client_for, custom_body, run, stats
from tests.support.factories import remote

Identity = tuple[str, str]
Step = tuple[str, int, bool]


class Interleaving(httpx.AsyncBaseTransport):
    """Before each list request, the next step of a script: a create or a delete."""

    def __init__(self, app: Any, script: list[Step]) -> None:
        self.inner = httpx.ASGITransport(app=app)
        self.service = app.state.service
        self.script = list(script)
        self.created: set[Identity] = set()
        self.deleted: set[Identity] = set()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and self.script:
            self._step(*self.script.pop(0))
        return await self.inner.handle_async_request(request)

    def _step(self, kind: str, number: int, organization: bool) -> None:
        ownership: Ownership = "organization" if organization else "user"
        if kind == "create":
            slug = f"new-{number:07d}"
            if self.service.seed([custom_body(slug, ownership)]):
                self.created.add((slug, ownership))
            return
        present = sorted(self.service.store.identities())
        if kind == "delete" and present:
            slug, owner = present[number % len(present)]
            self.service.delete(slug, owner)
            self.deleted.add((slug, owner))


steps = st.tuples(
    st.sampled_from(["create", "delete", "delete", "none"]),
    st.integers(0, 10**6),
    st.booleans(),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    count=st.integers(0, 750),
    organization_share=st.sampled_from([0, 1, 5, 20, 50, 80, 100]),
    script=st.lists(steps, max_size=25),
)
def test_every_integration_present_throughout_is_seen_exactly_once(
    count: int, organization_share: int, script: list[Step]
) -> None:
    """Any size, any split between ownerships (all of one included), any interleaving."""
    seed = [
        custom_body(f"crm-{index:04d}", "organization" if org else "user")
        for index in range(count)
        for org in [index * organization_share % 100 < organization_share]
    ]
    app = create_app(seed=seed)
    try:
        before = {(body["provider"], body["ownership"]) for body in seed}
        transport = Interleaving(app, script)

        async def listing() -> list[RemoteIntegration]:
            async with client_for(app, transport=transport) as client:
                return await client.list_integrations()

        found = run(listing())
        ids = [item.id for item in found]
        assert len(ids) == len(set(ids)), "an integration was returned twice"
        seen = [item.identity for item in found]
        assert len(seen) == len(set(seen))
        throughout = before - transport.deleted
        assert throughout <= set(seen), f"missed {sorted(throughout - set(seen))[:5]}"
        assert set(seen) <= before | transport.created
        pages = -(-len(before) // 100) or 1
        requests = run(stats(app))["requests"]["GET /data-integrations"]
        if not script:
            assert requests <= pages + 4
    finally:
        store_of(app).close()


def test_the_ends_meet_in_half_the_round_trips_of_one_ownership() -> None:
    """1,000 user integrations: the first page, then 5 rounds of the two ends at once,
    instead of 10 pages one after another."""

    class Counting:
        def __init__(self, items: list[RemoteIntegration]) -> None:
            self.items = items
            self.in_flight = 0
            self.rounds = 0

        async def fetch(self, params: dict[str, str | int]) -> Page:
            if self.in_flight == 0:
                self.rounds += 1  # a new wave of concurrent requests: one round trip
            self.in_flight += 1
            await asyncio.sleep(0.001)
            self.in_flight -= 1
            return self.page(params)

        def page(self, params: dict[str, str | int]) -> Page:
            owned = [i for i in self.items if i.ownership == params.get("ownership", i.ownership)]
            ordered = owned if params["order"] == "asc" else owned[::-1]
            after = params.get("after")
            start = next((n + 1 for n, i in enumerate(ordered) if i.id == after), 0)
            chunk = ordered[start : start + 100]
            more = start + 100 < len(ordered)
            return Page(chunk, chunk[-1].id if more else None)

    items = [remote(f"s{n:04d}", id=f"data_integration_{n:026d}") for n in range(1000)]
    counting = Counting(items)
    found = run(list_all(counting.fetch))
    assert sorted(i.id for i in found) == sorted(i.id for i in items)
    assert counting.rounds == 1 + 5  # sequentially: 10


def test_a_failed_page_cancels_the_other_end_and_raises() -> None:
    """No request is left running behind an error: the other end is cancelled."""
    cancelled: list[str] = []
    first = Page([remote(f"s{n:03d}", id=f"data_integration_{n:026d}") for n in range(100)], "x")

    async def fetch(params: dict[str, str | int]) -> Page:
        if "after" not in params and params["order"] == "asc" and "ownership" not in params:
            return first
        if params["order"] == "asc":
            raise ApiError("API error 500 (server_error): boom")
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(str(params.get("ownership")))
            raise
        return Page([], None)

    async def listing() -> list[str]:
        with pytest.raises(ApiError, match="boom"):
            await list_all(fetch)
        return sorted(cancelled)  # as the error arrives, not when the loop shuts down

    assert run(listing()) == ["organization", "user"]
