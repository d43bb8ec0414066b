"""``Idempotency-Key`` on create: the first answer replays, another body is a 409, and a
failed request does not use the key up."""

from __future__ import annotations

from tests.emulator.contract import (
    CANARY_ROTATED,
    ApiClient,
    assert_error,
    custom_credentials,
    github,
)


def test_idempotency_key_replays_the_first_answer(client: ApiClient) -> None:
    first = client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k1"})
    assert first.status_code == 201
    client.delete("/data-integrations/github")
    reordered = dict(reversed(list(github().items())))
    replay = client.post("/data-integrations", json=reordered, headers={"Idempotency-Key": "k1"})
    assert replay.status_code == 201
    assert replay.json() == first.json()
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert client.get("/data-integrations").json()["data"] == []
    assert client.get("/_emulator/stats").json()["integrations"] == 0


def test_idempotency_key_with_another_body_is_409(client: ApiClient) -> None:
    client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k2"})
    other = github(credentials=custom_credentials(CANARY_ROTATED))
    response = client.post("/data-integrations", json=other, headers={"Idempotency-Key": "k2"})
    assert_error(response, 409, "idempotency_key_reused")
    assert CANARY_ROTATED not in response.text
    fresh_key = client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k3"})
    assert_error(fresh_key, 409, "integration_exists")


def test_a_failed_post_does_not_burn_its_idempotency_key(client: ApiClient) -> None:
    failed = client.post(
        "/data-integrations", json={"provider": "github"}, headers={"Idempotency-Key": "k4"}
    )
    assert failed.status_code == 422
    ok = client.post("/data-integrations", json=github(), headers={"Idempotency-Key": "k4"})
    assert ok.status_code == 201
