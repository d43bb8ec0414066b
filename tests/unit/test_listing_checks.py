"""The listing checks what the API gives it (``reconciler.listing``): against servers that
ignore ``order`` or ``ownership``, cap ``limit`` lower or ignore cursors (small ASGI
wrappers around the emulator), it lists everything, warning once when it had to fall
back to one sequential stream, or stops with a clear error: never a partial listing."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import parse_qsl, urlencode

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from reconciler.emulator.app import create_app, store_of
from reconciler.errors import ApiError
from reconciler.listing import Listing, Page, list_all
from reconciler.models import Ownership, RemoteIntegration
from tests.support import client_for, custom_body, run
from tests.support.cli import invoke
from tests.support.factories import remote

Query = dict[str, str]
COUNT = 480  # the case of the issue: a server answering descending showed the tool 200


class RewritesListQuery:
    """An API that changes the query of every ``GET /data-integrations`` before answering."""

    def __init__(self, app: ASGIApp, change: Callable[[Query], Query]) -> None:
        self.app = app
        self.change = change
        self.lists = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        listing = scope["type"] == "http" and scope["path"] == "/data-integrations"
        if listing and scope["method"] == "GET":
            self.lists += 1
            query = dict(parse_qsl(scope["query_string"].decode()))
            scope = {**scope, "query_string": urlencode(self.change(query)).encode()}
        await self.app(scope, receive, send)


def ignores_order(answered: str) -> Callable[[Query], Query]:
    return lambda query: {**query, "order": answered}


def ignores_ownership(query: Query) -> Query:
    return {key: value for key, value in query.items() if key != "ownership"}


def caps_limit(cap: int) -> Callable[[Query], Query]:
    return lambda query: {**query, "limit": str(min(int(query.get("limit", 10)), cap))}


def ignores_cursors(query: Query) -> Query:
    return {key: value for key, value in query.items() if key not in ("after", "before")}


@pytest.fixture(scope="module")
def seeded() -> Iterator[FastAPI]:
    """480 integrations, one in three organization-owned (read-only for these tests)."""
    app = create_app(
        seed=[
            custom_body(f"crm-{n:03d}", "organization" if n % 3 == 0 else "user")
            for n in range(COUNT)
        ]
    )
    yield app
    store_of(app).close()


def every_identity(app: FastAPI) -> set[tuple[str, str]]:
    return store_of(app).identities()


def listed(server: RewritesListQuery, ownership: Ownership | None = None) -> Listing:
    async def listing() -> Listing:
        async with client_for(transport=httpx.ASGITransport(app=server)) as client:
            found = await client.list_integrations(ownership)
            assert isinstance(found, Listing)
            return found

    return run(listing())


def identities(found: list[RemoteIntegration]) -> list[tuple[str, str]]:
    return [item.identity for item in found]


@pytest.mark.parametrize("answered", ["desc", "asc"])
def test_a_server_that_ignores_order_is_listed_whole_and_sequentially(
    seeded: FastAPI, answered: str
) -> None:
    server = RewritesListQuery(seeded, ignores_order(answered))
    found = listed(server)
    assert len(found) == COUNT and set(identities(found)) == every_identity(seeded)
    assert len(found.warnings) == 1
    assert "the API ignored order=" in found.warnings[0]
    assert found.warnings[0].endswith("; listed sequentially")


def test_a_server_that_ignores_ownership_is_listed_whole_and_sequentially(
    seeded: FastAPI,
) -> None:
    server = RewritesListQuery(seeded, ignores_ownership)
    found = listed(server)
    assert sorted(identities(found)) == sorted(every_identity(seeded))  # each once
    assert len(found.warnings) == 1
    assert found.warnings[0].startswith("the API ignored ownership=")

    only_org = listed(RewritesListQuery(seeded, ignores_ownership), "organization")
    expected = {i for i in every_identity(seeded) if i[1] == "organization"}
    assert set(identities(only_org)) == expected and len(only_org) == len(expected)
    assert only_org.warnings == ("the API ignored ownership=organization; listed sequentially",)


def test_a_server_that_caps_limit_lower_is_listed_whole_without_warning(
    seeded: FastAPI,
) -> None:
    server = RewritesListQuery(seeded, caps_limit(30))
    found = listed(server)
    assert sorted(identities(found)) == sorted(every_identity(seeded))
    assert found.warnings == ()
    # Still the two ends of each ownership at once: the first page, then about half
    # the 16 pages' worth of rounds (4 requests a round), not 16 pages one by one.
    assert server.lists <= 1 + COUNT // 30 + 4


def test_an_honest_server_gives_no_warning(seeded: FastAPI) -> None:
    server = RewritesListQuery(seeded, lambda query: query)
    found = listed(server)
    assert len(found) == COUNT and found.warnings == ()
    assert server.lists <= -(-COUNT // 100) + 4


def test_a_server_whose_cursors_never_advance_stops_the_listing(seeded: FastAPI) -> None:
    server = RewritesListQuery(seeded, ignores_cursors)
    with pytest.raises(ApiError, match="list pages do not advance"):
        listed(server)
    assert server.lists < 20  # it stopped, it did not loop


def test_ignored_order_is_caught_when_every_row_has_the_same_created_at() -> None:
    """No timestamp tells the orders apart: the descending end starting where the
    ascending one did gives it away."""
    items = [remote(f"s{n:04d}", id=f"data_integration_{n:026d}") for n in range(250)]
    assert len({item.created_at for item in items}) == 1

    async def always_ascending(params: dict[str, str | int]) -> Page:
        after = params.get("after")
        start = next((n + 1 for n, item in enumerate(items) if item.id == after), 0)
        chunk = items[start : start + int(params["limit"])]
        return Page(chunk, chunk[-1].id if start + len(chunk) < len(items) else None)

    found = run(list_all(always_ascending))
    assert [item.id for item in found] == [item.id for item in items]
    assert found.warnings == (
        "the API ignored order=asc or order=desc (both start at the same integration); "
        "listed sequentially",
    )


def test_plan_against_a_server_that_ignores_order_lists_everything_and_says_so(
    seeded: FastAPI, tmp_path: Path
) -> None:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text("version: 1\nintegrations: []\n")
    transport = httpx.ASGITransport(app=RewritesListQuery(seeded, ignores_order("desc")))
    result = invoke(None, "plan", "-f", str(manifest), "--format", "json", transport=transport)
    assert result.exit_code == 0, result.output
    assert f'"unmanaged": {COUNT}' in result.output
    assert result.output.count("listed sequentially") == 1


def test_plan_against_a_server_that_loops_stops_with_a_clear_error(
    seeded: FastAPI, tmp_path: Path
) -> None:
    manifest = tmp_path / "integrations.yaml"
    manifest.write_text("version: 1\nintegrations: []\n")
    transport = httpx.ASGITransport(app=RewritesListQuery(seeded, ignores_cursors))
    result = invoke(None, "plan", "-f", str(manifest), transport=transport)
    assert result.exit_code == 1
    assert "list pages do not advance" in result.output
    assert "Traceback" not in result.output


def test_one_ownership_of_10000_takes_the_first_page_and_50_rounds() -> None:
    """The bound ``make bench`` holds the single-ownership latency case to (≤ 0.55× the
    100 sequential pages): the checks cost no round trip (virtual time, as the bench)."""
    from fractions import Fraction

    from benchmarks.roundtrips import listing_round_trips

    assert listing_round_trips(10_000, Fraction(0)) == (51, 103)
    assert listing_round_trips(10_000, Fraction(1, 2)) == (26, 101)


def test_export_against_a_server_that_ignores_ownership_exports_everything_and_says_so(
    seeded: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=RewritesListQuery(seeded, ignores_ownership))
    result = invoke(None, "export", transport=transport)
    assert result.exit_code == 0, result.output
    assert result.stdout.count("- slug: crm-") == COUNT
    assert result.stderr.count("listed sequentially") == 1
    assert "Warning: the API ignored ownership=" in result.stderr
