"""``GET /data-integrations``: pages and cursors both ways, in either order, bounds,
the ownership filter, and cursors that outlive their integration."""

from __future__ import annotations

from typing import Any

import pytest

from reconciler.emulator.schemas import (
    CreateIntegrationBody,
)
from reconciler.emulator.service import Service
from reconciler.emulator.store import Store
from tests.emulator.contract import (
    ORG_CREDENTIALS,
    ApiClient,
    acme,
    create,
    error_fields,
    github,
)


def _walk(client: ApiClient, **params: Any) -> tuple[list[str], list[dict[str, Any]]]:
    """Follow ``after`` cursors to the end; returns the ids and every list_metadata."""
    ids: list[str] = []
    metas: list[dict[str, Any]] = []
    after = None
    while True:
        query = {**params, **({"after": after} if after else {})}
        page = client.get("/data-integrations", params=query).json()
        ids += [item["id"] for item in page["data"]]
        metas.append(page["list_metadata"])
        after = page["list_metadata"]["after"]
        if after is None:
            return ids, metas


def _walk_back(client: ApiClient, before: str, **params: Any) -> list[str]:
    ids: list[str] = []
    cursor: str | None = before
    while cursor is not None:
        page = client.get("/data-integrations", params={**params, "before": cursor}).json()
        ids = [item["id"] for item in page["data"]] + ids
        cursor = page["list_metadata"]["before"]
    return ids


@pytest.mark.parametrize("order", ["desc", "asc", None])
def test_list_pages_forward_and_back_in_either_order(client: ApiClient, order: str | None) -> None:
    created = [create(client, acme(f"p{n:02d}"))["id"] for n in range(23)]
    expected = created[::-1] if order in ("desc", None) else created
    params: dict[str, Any] = {"limit": 5} | ({"order": order} if order else {})

    ids, metas = _walk(client, **params)
    assert ids == expected
    assert len(metas) == 5
    assert metas[0]["before"] is None
    assert all(m["after"] is not None for m in metas[:-1])
    assert metas[-1]["after"] is None
    assert all(m["before"] is not None for m in metas[1:])

    # From the last item backwards, with before cursors, the pages rebuild the same list.
    assert [*_walk_back(client, expected[-1], **params), expected[-1]] == expected
    page = client.get("/data-integrations", params={**params, "before": expected[7]}).json()
    assert [i["id"] for i in page["data"]] == expected[2:7]
    assert page["list_metadata"] == {"before": expected[2], "after": expected[6]}


def test_normal_order_is_descending_with_the_cursors_reversed(client: ApiClient) -> None:
    """The SDK: "descending with reversed cursor semantics where `before` fetches older
    records and `after` fetches newer records"; list_metadata names its cursors alike."""
    created = [create(client, acme(f"n{n:02d}"))["id"] for n in range(12)]
    newest_first = created[::-1]
    params = {"limit": 5, "order": "normal"}
    pages, cursor = [], None
    while True:
        query = params | ({"before": cursor} if cursor else {})
        page = client.get("/data-integrations", params=query).json()
        pages.append([i["id"] for i in page["data"]])
        cursor = page["list_metadata"]["before"]
        if cursor is None:
            break
    assert pages == [newest_first[0:5], newest_first[5:10], newest_first[10:12]]
    first = client.get("/data-integrations", params=params).json()["list_metadata"]
    assert first == {"before": newest_first[4], "after": None}  # nothing newer
    newer = client.get("/data-integrations", params=params | {"after": created[3]}).json()
    assert [i["id"] for i in newer["data"]] == created[4:9][::-1]  # the 5 just newer
    assert newer["list_metadata"] == {"before": created[4], "after": created[8]}
    desc = client.get("/data-integrations", params={"limit": 5}).json()["data"]
    assert [i["id"] for i in desc] == newest_first[:5]


def test_list_default_limit_and_bounds(client: ApiClient) -> None:
    for n in range(12):
        create(client, acme(f"l{n:02d}"))
    assert len(client.get("/data-integrations").json()["data"]) == 10
    assert len(client.get("/data-integrations?limit=100").json()["data"]) == 12
    assert len(client.get("/data-integrations?limit=1").json()["data"]) == 1
    for query in ("limit=0", "limit=101", "limit=ten", "order=random", "ownership=team"):
        assert error_fields(client.get(f"/data-integrations?{query}")) == {query.split("=")[0]}
    assert error_fields(client.get("/data-integrations?after=garbage")) == {"after"}


def test_list_filters_by_ownership_and_includes_every_kind(client: ApiClient) -> None:
    github_user = create(client, github())
    github_org = create(client, github(ownership="organization", credentials=ORG_CREDENTIALS))
    custom = create(client, acme())
    api_key = create(client, {"provider": "linear", "auth_methods": ["api_key"]})
    everything = client.get("/data-integrations?order=asc").json()
    assert [i["id"] for i in everything["data"]] == [
        github_user["id"],
        github_org["id"],
        custom["id"],
        api_key["id"],
    ]
    assert everything["data"][2] == custom
    users = client.get("/data-integrations", params={"ownership": "user", "order": "asc"}).json()
    assert [i["id"] for i in users["data"]] == [github_user["id"], custom["id"], api_key["id"]]
    orgs = client.get("/data-integrations", params={"ownership": "organization"}).json()
    assert [i["id"] for i in orgs["data"]] == [github_org["id"]]


def test_list_survives_a_deleted_cursor(client: ApiClient) -> None:
    created = [create(client, acme(f"d{n}"))["id"] for n in range(6)]
    client.delete("/data-integrations/d2")
    page = client.get("/data-integrations", params={"order": "asc", "after": created[2]}).json()
    assert [i["id"] for i in page["data"]] == created[3:]
    back = client.get("/data-integrations", params={"order": "asc", "before": created[2]}).json()
    assert [i["id"] for i in back["data"]] == created[:2]


def test_list_order_is_creation_order_when_timestamps_tie() -> None:
    store = Store(clock=lambda: 1_767_225_600_000)
    try:
        service = Service(store)
        ids = [
            service.create(CreateIntegrationBody.model_validate(acme(f"t{n}")))[0]["id"]
            for n in range(8)
        ]
        listed = service.list(limit=100, order="asc")["data"]
        assert [i["id"] for i in listed] == ids
        assert len({i["created_at"] for i in listed}) == 1
        assert [i["id"] for i in service.list(limit=3, order="desc")["data"]] == ids[::-1][:3]
    finally:
        store.close()
