"""``DELETE /data-integrations/{slug}[/organization]``: idempotent, 204 with no body."""

from __future__ import annotations

from tests.emulator.contract import (
    ApiClient,
    assert_error,
    create,
    github,
)


def test_delete_is_idempotent(client: ApiClient) -> None:
    create(client, github())
    for _ in range(2):
        response = client.delete("/data-integrations/github")
        assert response.status_code == 204 and response.content == b""
    assert client.delete("/data-integrations/never-existed/organization").status_code == 204
    assert_error(client.get("/data-integrations/github"), 404)
