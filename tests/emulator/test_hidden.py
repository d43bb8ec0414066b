"""The emulator's hidden integrations: credentials the API does not list (made in the dashboard).

Seeded with ``credentials: {"type": "unsupported"}``: absent from list and
GET, 404 to PUT and DELETE, and a create of the same identity answers 409.
"""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from reconciler.emulator.app import create_app
from tests.support import AUTH, BASE_URL, custom_body, run

HIDDEN = {"type": "unsupported"}


@pytest.fixture
def app() -> FastAPI:
    return create_app(
        seed=[
            {"provider": "github", "credentials": HIDDEN},
            {"provider": "slack", "credentials": {"type": "organization"}},
            {**custom_body("acme"), "credentials": HIDDEN},
        ]
    )


def _call(app: FastAPI, method: str, path: str, **kwargs: object) -> httpx.Response:
    async def go() -> httpx.Response:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url=BASE_URL, headers=AUTH
        ) as http:
            return await http.request(method, path, **kwargs)  # type: ignore[arg-type]

    return run(go())


def test_a_hidden_integration_is_not_listed(app: FastAPI) -> None:
    listed = _call(app, "GET", "/data-integrations", params={"limit": 1, "order": "asc"})
    assert listed.status_code == 200
    body = listed.json()
    assert [i["slug"] for i in body["data"]] == ["slack"]
    assert body["list_metadata"]["after"] is None  # nothing hidden beyond the page either


@pytest.mark.parametrize("path", ["/data-integrations/github", "/data-integrations/acme"])
def test_get_put_and_delete_answer_404(app: FastAPI, path: str) -> None:
    assert _call(app, "GET", path).status_code == 404
    assert _call(app, "PUT", path, json={"description": "x"}).status_code == 404
    assert _call(app, "DELETE", path).status_code == 404


def test_a_create_of_the_same_identity_answers_409_and_the_other_ownership_is_free(
    app: FastAPI,
) -> None:
    same = {"provider": "github", "credentials": {"type": "organization"}}
    conflict = _call(app, "POST", "/data-integrations", json=same)
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "integration_exists"
    other = _call(app, "POST", "/data-integrations", json={**same, "ownership": "organization"})
    assert other.status_code == 201
    assert other.json()["ownership"] == "organization"


def test_a_hidden_custom_integration_keeps_its_providers_definition(app: FastAPI) -> None:
    """The other ownership of a hidden custom provider is added without redefining it."""
    body = {
        "provider": "acme",
        "ownership": "organization",
        "credentials": {"type": "organization"},
    }
    created = _call(app, "POST", "/data-integrations", json=body)
    assert created.status_code == 201
    assert created.json()["custom_provider"]["name"] == "Acme"


def test_a_hidden_entry_still_needs_a_valid_body() -> None:
    from reconciler.emulator.service import SeedError

    with pytest.raises(SeedError, match=r"seed\[0\]"):
        create_app(seed=[{"provider": "github", "credentials": HIDDEN, "enabled": "yes"}])
