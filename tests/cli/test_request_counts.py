"""A plan costs the list pages and nothing else; an apply adds one request per change.

Not timed: these count requests at the in-process emulator, so that a request
per integration (a GET where the list already answered) cannot creep back in.
``make bench`` measures the same over loopback at 10,000 integrations.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app, store_of
from tests.support import CANARY_SECRET, custom_body, invoke, run, stats

INTEGRATIONS = 250  # three list pages of at most 100
CHANGED_EVERY = 10  # every 10th integration's description differs: 25 updates
PAGE_LIMIT = 100
LIST = "GET /data-integrations"
PUTS = ("PUT /data-integrations/{slug}", "PUT /data-integrations/{slug}/organization")


def _identities() -> list[tuple[int, str, str]]:
    """Pairs of one custom provider, user- and organization-owned, sharing its definition."""
    return [
        (index, f"svc-{index // 2:04d}", "user" if index % 2 == 0 else "organization")
        for index in range(INTEGRATIONS)
    ]


def _seed() -> list[dict[str, Any]]:
    seed = []
    for index, slug, ownership in _identities():
        body = custom_body(slug, ownership, description=f"integration {index}", enabled=True)
        if ownership == "user":
            body["credentials"] = {
                "type": "custom",
                "client_id": f"client-{index}",
                "client_secret": CANARY_SECRET,
            }
        seed.append(body)
    return seed


def _manifest() -> str:
    lines = ["version: 1", "integrations:"]
    for index, slug, ownership in _identities():
        changed = index % CHANGED_EVERY == CHANGED_EVERY - 1
        lines += [
            f"  - slug: {slug}",
            f"    ownership: {ownership}",
            f"    description: integration {index}{' (changed)' if changed else ''}",
            "    enabled: true",
            "    credentials:",
        ]
        if ownership == "user":
            lines += [
                "      type: custom",
                f"      client_id: client-{index}",
                "      client_secret: ${env:RECONCILER_GITHUB_SECRET}",
            ]
        else:
            lines.append("      type: organization")
        lines += [
            "    custom_provider:",
            f"      name: {slug.title()}",
            f"      authorization_url: https://{slug}.example/oauth/authorize",
            f"      token_url: https://{slug}.example/oauth/token",
        ]
    return "\n".join(lines) + "\n"


CHANGED = INTEGRATIONS // CHANGED_EVERY
LIST_PAGES = math.ceil(INTEGRATIONS / PAGE_LIMIT)
# The first page alone (50 of each ownership), then each ownership from both ends at once:
# their 75 remaining each meet in one round. Never more than the pages plus 4.
LIST_REQUESTS = 1 + 2 + 2
assert LIST_REQUESTS <= LIST_PAGES + 4


@pytest.fixture
def app() -> Iterator[FastAPI]:
    app = create_app(seed=_seed())
    yield app
    store_of(app).close()


@pytest.fixture
def manifest_text() -> str:
    return _manifest()


def _requests(app: FastAPI) -> dict[str, int]:
    counts: dict[str, int] = run(stats(app))["requests"]
    return {route: count for route, count in counts.items() if count}


def _since(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    delta = {route: after.get(route, 0) - before.get(route, 0) for route in after}
    return {route: count for route, count in delta.items() if count}


def _puts(requests: dict[str, int]) -> int:
    return sum(requests.get(route, 0) for route in PUTS)


def test_plan_sends_only_the_list_pages(app: FastAPI, manifest: Path) -> None:
    result = invoke(app, "plan", "-f", str(manifest), "--detailed-exitcode")

    assert result.exit_code == 2, result.output
    assert f"0 to create, {CHANGED} to update" in result.output
    assert _requests(app) == {LIST: LIST_REQUESTS}


def test_plan_of_an_empty_remote_sends_one_list_request(manifest: Path) -> None:
    app = create_app()
    try:
        result = invoke(app, "plan", "-f", str(manifest))

        assert result.exit_code == 0, result.output
        assert _requests(app) == {LIST: 1}
    finally:
        store_of(app).close()


@pytest.mark.parametrize("output_format", ["json", "markdown"])
def test_every_output_format_costs_the_same_requests(
    app: FastAPI, manifest: Path, output_format: str
) -> None:
    result = invoke(app, "plan", "-f", str(manifest), "--format", output_format)

    assert result.exit_code == 0, result.output
    assert _requests(app) == {LIST: LIST_REQUESTS}


def test_apply_sends_one_put_per_update_after_the_list(app: FastAPI, manifest: Path) -> None:
    result = invoke(app, "apply", "-f", str(manifest), "--yes", "--concurrency", "8")

    assert result.exit_code == 0, result.output
    requests = _requests(app)
    assert _puts(requests) == CHANGED
    assert requests == {LIST: LIST_REQUESTS, **{r: n for r, n in requests.items() if r in PUTS}}

    before = _requests(app)
    again = invoke(app, "plan", "-f", str(manifest), "--detailed-exitcode")
    assert again.exit_code == 0, again.output
    assert _since(before, _requests(app)) == {LIST: LIST_REQUESTS}


def test_applying_a_saved_plan_checks_it_against_the_list_alone(
    app: FastAPI, manifest: Path, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    planned = invoke(app, "plan", "-f", str(manifest), "--out", str(saved))
    assert planned.exit_code == 0, planned.output
    before = _requests(app)

    result = invoke(app, "apply", "--plan", str(saved), "-f", str(manifest))

    assert result.exit_code == 0, result.output
    requests = _since(before, _requests(app))
    assert _puts(requests) == CHANGED
    assert requests == {LIST: LIST_REQUESTS, **{r: n for r, n in requests.items() if r in PUTS}}
